/**
 * Playwright configuration of the fraud_jlab browser tests.
 *
 * Galata's defaults, with a system Chromium (Playwright's browser download is
 * not used) and no video/trace (they need Playwright's own ffmpeg).
 * CHROMIUM_PATH overrides the browser executable (default /usr/bin/chromium).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

module.exports = {
  ...baseConfig,
  timeout: 90 * 1000,
  expect: { timeout: 15 * 1000 },
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    ...baseConfig.use,
    video: 'off',
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium'
    }
  },
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 180 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
