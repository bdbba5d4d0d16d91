import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';

import { openSidebar, runRows, waitForRuns } from './helpers';

/**
 * Seeded runs (fraud_jlab.demo.seed) and their max_depth, which tells their
 * hyperparameters apart: production-baseline 5, xgb-deep 7,
 * xgb-slow-learner 6, xgb-small-steps 4.
 */
const FIRST_RUN = 'xgb-deep';
const FIRST_RUN_MAX_DEPTH = '7';
const FIRST_RUN_ALTERNATIVE = 'xgb-slow-learner';
const SECOND_RUN = 'xgb-small-steps';
/** `c.FraudJlab.approver` of ui-tests/jupyter_server_test_config.py (galata's users are anonymous). */
const APPROVER = 'UI Test Approver';

/** The Production section of the fraud_jlab sidebar. */
function productionSection(sidebar: Locator): Locator {
  return sidebar.getByRole('region', { name: /^Production( Section)?$/ });
}

/** The live Parameter Store values shown in the Production section, by parameter name. */
async function liveValues(
  production: Locator
): Promise<Record<string, string>> {
  const table = production.getByRole('table', {
    name: 'Parameter Store values'
  });
  const rows = table.getByRole('row');
  const values: Record<string, string> = {};
  for (let i = 0; i < (await rows.count()); i++) {
    const name = (await rows.nth(i).getByRole('rowheader').innerText()).trim();
    values[name] = (await rows.nth(i).getByRole('cell').innerText()).trim();
  }
  return values;
}

/** Wait until the Production section has finished (re)loading. */
async function waitForProduction(production: Locator): Promise<void> {
  await expect(production.locator('.jp-FraudJlab-production')).toHaveAttribute(
    'aria-busy',
    'false'
  );
  await expect(
    production.getByRole('table', { name: 'Parameter Store values' })
  ).toBeVisible();
}

/** The promotion dialog. */
function promoteDialog(page: Page): Locator {
  return page
    .getByRole('dialog')
    .filter({ hasText: 'Promote run to production' });
}

interface IPromoted {
  promotionId: string;
  runName: string;
  /** Parameter name (last SSM path segment) -> value promoted. */
  values: Record<string, string>;
}

/**
 * Open the run named `runName`, promote it through the dialog and return
 * what the dialog showed. Asserts the gates, diff and record on the way.
 */
async function promoteRun(
  page: Page,
  sidebar: Locator,
  runName: string,
  reason: string
): Promise<IPromoted> {
  await runRows(sidebar)
    .filter({ has: page.getByRole('cell', { name: runName, exact: true }) })
    .click();
  const detail = sidebar.getByRole('region', { name: `Run ${runName}` });
  await detail.getByRole('button', { name: 'Promote…' }).click();

  const dialog = promoteDialog(page);
  await expect(dialog).toBeVisible();
  // The approver is shown before confirming
  await expect(dialog.getByLabel('Approver')).toHaveText(
    `Approved by ${APPROVER} (recorded in the ledger)`
  );

  // Promote stays disabled until a reason is typed; the server checks the
  // reason on dry runs too, so the gates and the diff follow the reason.
  const promote = dialog.getByRole('button', { name: 'Promote', exact: true });
  await expect(promote).toBeDisabled();
  await dialog.getByRole('textbox', { name: /^Reason/ }).fill(reason);

  // The dry run's gates and diff
  const gates = dialog.getByRole('table', { name: 'Promotion gates' });
  await expect(gates).toBeVisible();
  await expect(
    gates.getByRole('rowheader', { name: 'min_accuracy' })
  ).toBeVisible();
  const ssm = dialog.getByRole('table', { name: 'Parameter Store changes' });
  const ssmRows = ssm.getByRole('row').filter({ has: page.getByRole('cell') });
  await expect(ssmRows).toHaveCount(6);
  const values: Record<string, string> = {};
  for (let i = 0; i < 6; i++) {
    const path = (
      await ssmRows.nth(i).getByRole('rowheader').innerText()
    ).trim();
    expect(path).toMatch(/^\/fraud-detection\/hyperparameters\//);
    const name = path.split('/').pop() as string;
    values[name] = (
      await ssmRows.nth(i).getByRole('cell').nth(1).innerText()
    ).trim();
  }
  // The run's own hyperparameters differ from what is live: highlighted rows
  await expect(ssm.getByRole('row', { name: /\(changed\)$/ })).not.toHaveCount(
    0
  );
  const config = dialog.getByRole('table', { name: 'Config file changes' });
  await expect(
    config.getByRole('row', { name: 'model.version (changed)' })
  ).toBeVisible();

  const force = dialog.getByRole('checkbox', {
    name: 'Override failed gates (force)'
  });
  if (await force.isVisible()) {
    await expect(promote).toBeDisabled();
    await force.check();
  }
  await expect(promote).toBeEnabled();
  await promote.click();

  // The ledger record
  const result = dialog.getByRole('region', { name: 'Promotion result' });
  await expect(result).toBeVisible();
  const record = result.getByRole('definition');
  const terms = await result.getByRole('term').allInnerTexts();
  const field = async (term: string): Promise<string> =>
    (await record.nth(terms.indexOf(term)).innerText()).trim();
  expect(terms).toContain('Promotion id');
  const promotionId = await field('Promotion id');
  expect(promotionId).toMatch(/^[0-9A-Z]{26}$/);
  expect(await field('Status')).toBe('completed');
  expect(await field('Reason')).toBe(reason);
  expect(await field('Approver')).toBe(APPROVER);
  expect(await field('Parameter Store backup')).not.toBe('');
  await expect(dialog.getByRole('alert')).toHaveCount(0);

  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
  await detail.getByRole('button', { name: /Back/ }).click();
  return { promotionId, runName, values };
}

test.describe('fraud_jlab production promotion', () => {
  test('promotes two runs, shows them live and rolls back to the first', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    await waitForRuns(sidebar);
    const production = productionSection(sidebar);
    await expect(production).toBeVisible();
    await waitForProduction(production);

    // A run whose hyperparameters are not live already (a rerun against the
    // same server starts from where the previous run left production)
    const firstRun =
      (await liveValues(production)).max_depth === FIRST_RUN_MAX_DEPTH
        ? FIRST_RUN_ALTERNATIVE
        : FIRST_RUN;

    // When a run is promoted
    const first = await promoteRun(
      page,
      sidebar,
      firstRun,
      'e2e: first promotion'
    );

    // Then the Production section shows its values, and the entry on top of the history
    await waitForProduction(production);
    await expect.poll(() => liveValues(production)).toEqual(first.values);
    const history = production.getByRole('region', {
      name: 'Promotion history'
    });
    const firstEntry = history.getByRole('listitem', {
      name: `Promotion ${first.promotionId}`
    });
    await expect(firstEntry).toBeVisible();
    await expect(history.getByRole('listitem').first()).toHaveAccessibleName(
      `Promotion ${first.promotionId}`
    );
    await expect(firstEntry).toContainText('completed');
    await expect(firstEntry).toContainText('live');

    // When another run is promoted over it
    const second = await promoteRun(
      page,
      sidebar,
      SECOND_RUN,
      'e2e: second promotion'
    );
    expect(second.values).not.toEqual(first.values);
    await waitForProduction(production);
    await expect.poll(() => liveValues(production)).toEqual(second.values);
    await expect(history.getByRole('listitem').first()).toHaveAccessibleName(
      `Promotion ${second.promotionId}`
    );

    // When a rollback to the first promotion is cancelled, nothing changes
    const rollbackButton = firstEntry.getByRole('button', {
      name: `Roll back to ${first.promotionId}`
    });
    const confirm = page
      .getByRole('dialog')
      .filter({ hasText: 'Roll back production' });
    await rollbackButton.click();
    await expect(confirm).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(confirm).toHaveCount(0);
    await expect(history.getByRole('listitem').first()).toHaveAccessibleName(
      `Promotion ${second.promotionId}`
    );
    expect(await liveValues(production)).toEqual(second.values);

    // When it is confirmed with a reason
    await rollbackButton.click();
    await expect(confirm).toBeVisible();
    const rollBack = confirm.getByRole('button', { name: 'Roll back' });
    await expect(rollBack).toBeDisabled();
    await confirm
      .getByRole('textbox', { name: /^Reason/ })
      .fill('e2e: back to the first');
    await expect(rollBack).toBeEnabled();
    await rollBack.click();
    await expect(confirm).toHaveCount(0);

    // Then production holds the first promotion's values again, and the rollback is recorded
    await waitForProduction(production);
    await expect.poll(() => liveValues(production)).toEqual(first.values);
    const newest = history.getByRole('listitem').first();
    await expect(newest).toHaveAccessibleName(/^Rollback /);
    await expect(newest).toContainText(first.promotionId);
    await expect(newest).toContainText('completed');
    await expect(production.getByRole('alert')).toHaveCount(0);
  });

  test('shows the server error in the dialog and promotes nothing', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    const production = productionSection(sidebar);
    await waitForProduction(production);
    const before = await liveValues(production);

    // When a run the tracker does not know is to be promoted
    await page.evaluate(() => {
      // Not awaited: the command resolves when the dialog closes.
      void window.jupyterapp.commands.execute('fraud-jlab:promote-run', {
        runId: 'no-such-run'
      });
    });
    const dialog = promoteDialog(page);
    await expect(dialog).toBeVisible();
    await dialog
      .getByRole('textbox', { name: /^Reason/ })
      .fill('e2e: unknown run');

    // Then the dry run's error is shown with the server's message, and Promote stays off
    const alert = dialog.getByRole('alert');
    await expect(alert).toContainText('The dry run failed (HTTP 404)');
    await expect(alert).toContainText('no-such-run');
    await expect(
      dialog.getByRole('button', { name: 'Promote', exact: true })
    ).toBeDisabled();
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await expect(dialog).toHaveCount(0);
    await waitForProduction(production);
    expect(await liveValues(production)).toEqual(before);
  });
});
