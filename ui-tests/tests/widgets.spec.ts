import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';
import { Locator } from '@playwright/test';

import { openSidebar } from './helpers';

/**
 * The in-notebook widgets (fraud_jlab.widgets) rendered by a real kernel in
 * Chromium. The kernel inherits the server's environment
 * (FRAUD_JLAB_TRACKING_URI, AWS_ENDPOINT_URL of the AWS emulator), so it sees
 * the seeded runs and the provisioned production resources.
 */

/** `c.FraudJlab.approver` of ui-tests/jupyter_server_test_config.py. */
const APPROVER = 'UI Test Approver';
/**
 * The server's approver is a server setting (c.FraudJlab.approver); a kernel
 * reads its own settings, so the notebook names the approver the documented
 * way for kernels: the FRAUD_JLAB_APPROVER environment variable.
 */
const SET_APPROVER = `import os\nos.environ["FRAUD_JLAB_APPROVER"] = "${APPROVER}"`;
/** Seeded runs (fraud_jlab.demo.seed) that are not in production at start (the baseline is). */
const PROMOTE_CANDIDATES = ['xgb-small-steps', 'xgb-slow-learner'];
/** Two seeded runs with different hyperparameters, scored on one holdout. */
const COMPARE_A = 'xgb-shallow-fast';
const COMPARE_B = 'xgb-deep';

/** Put `source` into cell `index` of the open notebook, run it and return its output area. */
async function runCell(
  page: IJupyterLabPageFixture,
  index: number,
  source: string
): Promise<Locator> {
  if (index === 0) {
    await page.notebook.setCell(0, 'code', source);
  } else {
    await page.notebook.addCell('code', source);
  }
  await page.notebook.runCell(index);
  const output = await page.notebook.getCellOutputLocator(index);
  if (output === null) {
    throw new Error(`cell ${index} has no output`);
  }
  return output;
}

/** The rendered widget (fraud-jlab-widget root) in a cell's output. */
function widgetIn(output: Locator): Locator {
  return output.locator('.fraud-jlab-widget').first();
}

/** The values of the rows of an HTML `Field | Value` table, by field. */
async function fieldValues(table: Locator): Promise<Record<string, string>> {
  const rows = table.locator('tbody tr');
  const values: Record<string, string> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const cells = await rows.nth(i).locator('td').allInnerTexts();
    values[cells[0].trim()] = cells[1].trim();
  }
  return values;
}

test.describe('fraud_jlab notebook widgets', () => {
  test('RunBrowser lists the seeded runs and promotes one; the sidebar history shows the record', async ({
    page
  }) => {
    await page.notebook.createNew('run-browser.ipynb');
    const output = await runCell(
      page,
      0,
      `${SET_APPROVER}\nfrom fraud_jlab.widgets import RunBrowser\n` +
        // the demo's experiment only: other specs add 10,000 scale runs to this tracker
        'browser = RunBrowser(filter="experiment = \'fraud-detection-optimization\'", ' +
        'order_by="attributes.run_name ASC", page_size=500)\nbrowser'
    );
    const browser = widgetIn(output);
    await expect(browser).toBeVisible();
    await expect(output.getByRole('alert')).toHaveCount(0);

    // The table: one option a seeded run, the page label counts them
    const table = browser.locator('select[multiple]');
    const options = table.locator('option');
    for (const name of [
      'production-baseline',
      COMPARE_A,
      COMPARE_B,
      ...PROMOTE_CANDIDATES
    ]) {
      await expect(options.filter({ hasText: name }).first()).toBeAttached();
    }
    await expect(
      browser.getByText(/^Page 1 of 1 · \d+ matching runs$/)
    ).toBeVisible();
    const header = await browser.locator('pre').first().innerText();
    expect(header).toContain('run name');
    expect(header).toContain('AP');

    // Select one run (not the one live) and open its promotion panel: the dry run
    // The browser's own Promote (an icon before its label); the panel's comes later in the page
    const promoteIn = browser.getByRole('button', { name: /Promote$/ });
    let runName = '';
    let panel: Locator | null = null;
    for (const candidate of PROMOTE_CANDIDATES) {
      const option = options.filter({ hasText: candidate }).first();
      const value = await option.getAttribute('value');
      expect(value).not.toBeNull();
      await table.selectOption(value as string);
      await expect(browser.getByText('1 selected')).toBeVisible();
      await promoteIn.first().click();
      panel = browser
        .locator('.widget-vbox')
        .filter({ has: page.getByRole('heading', { name: /^Promote run/ }) })
        .last();
      await expect(panel).toBeVisible();
      const gates = panel.getByRole('table', { name: 'Promotion gates' });
      await expect(gates).toBeVisible();
      const versionRow = panel
        .getByRole('table', { name: 'Config file changes' })
        .locator('tbody tr')
        .filter({
          has: page.getByRole('cell', { name: 'model.version', exact: true })
        });
      if ((await versionRow.getAttribute('class'))?.includes('changed')) {
        runName = candidate;
        break;
      }
    }
    expect(runName).not.toBe('');
    panel = panel as Locator;

    // The gates (each named, passed or failed) and the Parameter Store diff
    const gates = panel.getByRole('table', { name: 'Promotion gates' });
    await expect(gates.locator('tbody tr')).not.toHaveCount(0);
    await expect(
      gates.getByRole('cell', { name: 'min_accuracy' })
    ).toBeVisible();
    const ssm = panel.getByRole('table', { name: 'Parameter Store changes' });
    const ssmRows = ssm.locator('tbody tr');
    await expect(ssmRows).toHaveCount(6);
    await expect(ssm.locator('tbody tr.changed')).not.toHaveCount(0);
    await expect(ssmRows.first().locator('td').first()).toHaveText(
      /^\/fraud-detection\/hyperparameters\//
    );

    // Promote is refused without a reason, with the sidebar's words
    const promote = panel.getByRole('button', { name: 'Promote', exact: true });
    await expect(promote).toBeDisabled();
    await expect(panel.getByText('Type a reason to promote.')).toBeVisible();
    const reason = `widget e2e: promote ${runName} from a notebook`;
    await panel.locator('textarea').fill(reason);
    const force = panel.getByRole('checkbox', {
      name: 'Override failed gates (force)'
    });
    if (await force.isVisible()) {
      await expect(promote).toBeDisabled();
      await force.check();
    }
    await expect(promote).toBeEnabled();
    await promote.click();

    // The confirmation names the approver; confirming promotes
    const confirm = panel.getByRole('button', { name: 'Confirm promotion' });
    await expect(confirm).toBeVisible();
    await expect(
      panel.getByText(`a ledger record as ${APPROVER}`)
    ).toBeVisible();
    await confirm.click();
    await expect(
      panel.getByRole('heading', { name: 'Promoted: production updated' })
    ).toBeVisible({ timeout: 60 * 1000 });
    await expect(panel.getByRole('alert')).toHaveCount(0);
    const record = await fieldValues(
      panel.getByRole('table', { name: 'Ledger record' })
    );
    expect(record['Status']).toBe('completed');
    expect(record['Approver']).toBe(APPROVER);
    expect(record['Reason']).toBe(reason);
    const promotionId = record['Promotion id'];
    expect(promotionId).toMatch(/^[0-9A-Z]{26}$/);
    await expect(promote).toBeDisabled();

    // The sidebar's production history shows the ledger record the kernel wrote
    const sidebar = await openSidebar(page);
    const production = sidebar.getByRole('region', {
      name: /^Production( Section)?$/
    });
    await expect(production).toBeVisible();
    await production
      .getByRole('button', { name: 'Refresh production' })
      .click();
    const history = production.getByRole('region', {
      name: 'Promotion history'
    });
    const entry = history.getByRole('listitem', {
      name: `Promotion ${promotionId}`
    });
    await expect(entry).toBeVisible();
    await expect(history.getByRole('listitem').first()).toHaveAccessibleName(
      `Promotion ${promotionId}`
    );
    await expect(entry).toContainText('completed');
    await expect(entry).toContainText(APPROVER);
    await expect(entry).toContainText(reason);
  });

  test('ComparisonDashboard renders its panels, curves, parallel coordinates and deltas', async ({
    page
  }) => {
    await page.notebook.createNew('comparison.ipynb');
    const output = await runCell(
      page,
      0,
      'from fraud_jlab import search_runs\nfrom fraud_jlab.widgets import ComparisonDashboard\n' +
        'ids = {r.run_name: r.run_id for r in search_runs("", max_results=100).runs}\n' +
        `ComparisonDashboard([ids["${COMPARE_A}"], ids["${COMPARE_B}"]])`
    );
    const dashboard = widgetIn(output);
    await expect(dashboard).toBeVisible();
    // The two runs and the champion (the run in production, which the other
    // test may have changed) they are compared with
    await expect(
      dashboard.getByText(/^3 runs; baseline [\w-]+ \(/)
    ).toBeVisible();

    // Metrics: one plotly figure with a bar panel a metric, two runs in each
    const metrics = dashboard.locator('.js-plotly-plot').first();
    await expect(metrics).toBeVisible({ timeout: 30 * 1000 });
    await expect(metrics.locator('.bars').first()).toBeAttached();
    // one subplot a metric (the design's six, then AP and recall@FPR)
    expect(
      await metrics.locator('.cartesianlayer > g.subplot').count()
    ).toBeGreaterThanOrEqual(6);
    await expect(metrics.locator('.gtitle')).toContainText('Metrics by run');

    // ROC and PR: two figures, the runs' curves overlaid
    await dashboard.getByRole('tab', { name: 'ROC and PR' }).click();
    const curves = dashboard.locator('.js-plotly-plot:visible');
    await expect(curves).toHaveCount(2);
    for (let i = 0; i < 2; i++) {
      expect(
        await curves.nth(i).locator('.scatterlayer .trace').count()
      ).toBeGreaterThanOrEqual(2);
    }
    const legends = await curves.allInnerTexts();
    for (const text of legends) {
      expect(text).toContain(COMPARE_A);
      expect(text).toContain(COMPARE_B);
    }
    expect(legends.join('\n').toLowerCase()).toContain('prevalence');

    // Hyperparameters: the parallel-coordinates plot
    await dashboard.getByRole('tab', { name: 'Hyperparameters' }).click();
    const parallel = dashboard.locator('.js-plotly-plot:visible');
    await expect(parallel).toHaveCount(1);
    await expect(parallel.locator('.parcoords').first()).toBeAttached();

    // Deltas vs the champion with paired CIs
    await dashboard.getByRole('tab', { name: 'Deltas vs baseline' }).click();
    const deltas = dashboard.getByRole('table', { name: 'Deltas vs baseline' });
    await expect(deltas).toBeVisible();
    await expect(deltas.locator('tbody tr')).not.toHaveCount(0);
    await expect(deltas.locator('tbody tr.role-primary')).not.toHaveCount(0);
    await expect(
      deltas.getByRole('columnheader', { name: '95% CI (paired)' })
    ).toBeVisible();
    await expect(output.getByRole('alert')).toHaveCount(0);
  });
});
