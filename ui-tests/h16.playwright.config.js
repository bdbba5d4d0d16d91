// Local run of this worktree's specs on port 8897 (not committed).
const base = require('./playwright.config.js');
module.exports = {
  ...base,
  use: { ...base.use, baseURL: 'http://localhost:8897' },
  webServer: {
    command: 'jupyter lab --config jupyter_server_test_config.py --ServerApp.port=8897',
    url: 'http://localhost:8897/lab',
    timeout: 180 * 1000,
    reuseExistingServer: true
  }
};
