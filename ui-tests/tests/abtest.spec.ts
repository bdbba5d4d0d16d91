import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';

import { openSidebar, runRows, runsSection, waitForRuns } from './helpers';

/**
 * The challenger: a seeded run (fraud_jlab.demo.seed) whose model the test
 * server packaged; production's Champion serves the production-baseline run
 * (ui-tests/jupyter_server_test_config.py).
 */
const CHALLENGER_RUN = 'xgb-deep';

/** The A/B tests section of the fraud_jlab sidebar. */
function abSection(sidebar: Locator): Locator {
  return sidebar.getByRole('region', { name: /^A\/B tests( Section)?$/ });
}

/** The Production section of the fraud_jlab sidebar. */
function productionSection(sidebar: Locator): Locator {
  return sidebar.getByRole('region', { name: /^Production( Section)?$/ });
}

/** The open dialog titled `title`. */
function dialogTitled(page: Page, title: string): Locator {
  return page
    .getByRole('dialog')
    .filter({ has: page.getByText(title, { exact: true }) });
}

/** A row of the dry run's before/after table, by its header (variant or Configuration). */
function planRow(dialog: Locator, name: string): Locator {
  return dialog
    .getByRole('table', { name: 'Endpoint before and after' })
    .getByRole('row', { name: new RegExp(`^${name}( \\(changed\\))?$`) });
}

/**
 * Confirm an open A/B dialog: the dry run's changes are listed, the confirm
 * button stays disabled until a reason is typed, then the job's result shows.
 */
async function confirmWithReason(
  dialog: Locator,
  verb: string,
  reason: string,
  expectedStatus: string
): Promise<void> {
  await expect(
    dialog.getByRole('list', { name: 'Planned changes' })
  ).toBeVisible();
  await expect(
    dialog.getByRole('list', { name: 'Planned changes' }).getByRole('listitem')
  ).not.toHaveCount(0);
  const confirm = dialog.getByRole('button', { name: verb, exact: true });
  await expect(confirm).toBeDisabled();
  await dialog.getByRole('textbox', { name: /^Reason/ }).fill(reason);
  await expect(confirm).toBeEnabled();
  await confirm.click();
  const result = dialog.getByRole('region', { name: 'Change result' });
  await expect(result).toBeVisible({ timeout: 30_000 });
  await expect(result).toContainText(`is ${expectedStatus}`);
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Close', exact: true }).click();
  await expect(dialog).toHaveCount(0);
}

test.describe('fraud_jlab A/B tests', () => {
  test('starts a test from a run, advances it, reads the view, promotes; the history names the endpoint changes', async ({
    page
  }) => {
    const sidebar = await openSidebar(page);
    await waitForRuns(sidebar);
    const runs = runsSection(sidebar);
    await runs
      .getByRole('searchbox', { name: 'Filter runs' })
      .fill(`run_name = '${CHALLENGER_RUN}'`);
    await runs.getByRole('searchbox', { name: 'Filter runs' }).press('Enter');
    await expect(runRows(sidebar)).toHaveCount(1);

    // Given a run's detail
    await runRows(sidebar)
      .filter({
        has: page.getByRole('cell', { name: CHALLENGER_RUN, exact: true })
      })
      .click();
    const detail = sidebar.getByRole('region', {
      name: `Run ${CHALLENGER_RUN}`
    });
    await detail.getByRole('button', { name: 'Start A/B test…' }).click();

    // When the start dialog opens, the dry run shows what will change
    const start = dialogTitled(page, 'Start A/B test');
    await expect(start).toBeVisible();
    await expect(
      start.getByRole('list', { name: 'Planned changes' })
    ).toContainText('CreateModel');
    await expect(planRow(start, 'Challenger')).toContainText('10%');
    await expect(planRow(start, 'Champion')).toContainText('100%');
    await expect(planRow(start, 'Champion')).toContainText('90%');
    // ... and with the shadow stage, the challenger only scores a copy
    const shadow = start.getByRole('checkbox', { name: /shadow stage/ });
    await shadow.check();
    await expect(planRow(start, 'Challenger')).toContainText(
      'shadow (copy of traffic)'
    );
    await shadow.uncheck();
    await expect(planRow(start, 'Challenger')).toContainText('10%');
    await confirmWithReason(
      start,
      'Start A/B test',
      'e2e: challenger xgb-deep',
      'running'
    );

    // Then the A/B section shows the running test at its first stage
    const section = abSection(sidebar);
    const view = section.getByRole('region', { name: /^A\/B test view / });
    await expect(view).toBeVisible();
    const weights = view.getByLabel(/^Weights /);
    await expect(weights).toHaveAttribute(
      'aria-label',
      'Weights Champion 90% · Challenger 10%'
    );
    await expect(view).toContainText('stage 1/4');
    const testName = ((await view.getAttribute('aria-label')) ?? '').replace(
      /^A\/B test view /,
      ''
    );
    expect(testName).toMatch(/^fraud-challenger-/);
    await expect(
      section.getByRole('listitem', { name: `A/B test ${testName}` })
    ).toBeVisible();

    // When it advances one stage (dry run first: 10% -> 25%)
    await view.getByRole('button', { name: 'Advance…' }).click();
    const advance = dialogTitled(page, 'Advance A/B test');
    await expect(planRow(advance, 'Challenger')).toHaveAccessibleName(
      'Challenger (changed)'
    );
    await expect(planRow(advance, 'Challenger')).toContainText('25%');
    await confirmWithReason(advance, 'Advance', 'e2e: next stage', 'running');

    // Then the weights changed
    await expect(weights).toHaveAttribute(
      'aria-label',
      'Weights Champion 75% · Challenger 25%'
    );
    await expect(view).toContainText('stage 2/4');

    // The view: readout per variant and the recommendation with its reason
    const readout = view.getByRole('table', { name: 'Readout per variant' });
    await expect(readout).toBeVisible();
    await expect(
      readout.getByRole('columnheader', { name: 'Champion' })
    ).toBeVisible();
    await expect(
      readout.getByRole('columnheader', { name: 'Challenger' })
    ).toBeVisible();
    await expect(
      readout.getByRole('rowheader', { name: 'Average precision' })
    ).toBeVisible();
    const recommendation = view.getByRole('region', {
      name: 'Recommendation'
    });
    await expect(recommendation.getByLabel('Recommended action')).toHaveText(
      /\S/
    );
    await expect(recommendation.getByLabel('Recommendation reason')).toHaveText(
      /\S{3}/
    );

    // When the challenger is promoted
    await view.getByRole('button', { name: 'Promote…' }).click();
    const promote = dialogTitled(page, 'Promote the challenger');
    await expect(planRow(promote, 'Challenger')).toHaveAccessibleName(
      'Challenger (changed)'
    );
    await confirmWithReason(promote, 'Promote', 'e2e: promote', 'completed');

    // Then the test is completed: only a rollback is left
    await expect(view).toContainText('completed');
    await expect(view.getByRole('button', { name: 'Advance…' })).toBeDisabled();
    await expect(view.getByRole('button', { name: 'Promote…' })).toBeDisabled();
    await expect(view.getByRole('button', { name: 'Stop…' })).toBeDisabled();
    await expect(
      view.getByRole('button', { name: 'Roll back…' })
    ).toBeEnabled();

    // ... and the production history names the three endpoint changes, newest first
    const history = productionSection(sidebar).getByRole('region', {
      name: 'Promotion history'
    });
    const entries = history.getByRole('listitem');
    await expect(entries.nth(0)).toHaveAccessibleName(
      /^A\/B challenger promoted /
    );
    await expect(entries.nth(1)).toHaveAccessibleName(
      /^A\/B traffic split changed /
    );
    await expect(entries.nth(2)).toHaveAccessibleName(/^A\/B test started /);
    for (let i = 0; i < 3; i++) {
      await expect(entries.nth(i)).toContainText(`A/B test ${testName}`);
    }
    await expect(entries.nth(1).getByLabel('Endpoint change')).toContainText(
      'Champion 90% · Challenger 10% → Champion 75% · Challenger 25%'
    );
    // Endpoint changes are rolled back from their A/B test, not from here
    await expect(entries.nth(0).getByRole('button')).toHaveCount(0);
  });
});
