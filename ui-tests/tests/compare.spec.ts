import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';

import { openSidebar, runRows, waitForRuns } from './helpers';

const METRIC = 'auc_roc';

/** The delta table's row header of `metric`: its name, then its role in the decision. */
function metricHeader(metric: string): RegExp {
  return new RegExp(`^${metric} \\((primary|secondary|descriptive)\\)$`);
}
/** Seeded runs (fraud_jlab.demo.seed) with different hyperparameters, scored on one holdout. */
const RUN_A = 'xgb-shallow-fast';
const RUN_B = 'xgb-deep';
const RUN_C = 'xgb-slow-learner';

/** The runs-table row of the run named `name`. */
function rowNamed(sidebar: Locator, name: string): Locator {
  return runRows(sidebar).filter({
    has: sidebar.page().getByRole('cell', { name, exact: true })
  });
}

/** A number as the delta table prints it (`+0.0123`, `−0.0040`, `0.9712`). */
function parseShown(text: string): number {
  return Number(text.trim().replace('−', '-').replace('+', ''));
}

/** The compare view (main-area tab panel) of `count` runs. */
function compareView(page: Page, count: number): Locator {
  return page.getByRole('tabpanel', { name: `Compare ${count} runs` });
}

/** Wait until the compare view has no request in flight. */
async function waitForCompare(view: Locator): Promise<void> {
  await expect(view.locator('.jp-FraudJlab-compare')).toHaveAttribute(
    'aria-busy',
    'false'
  );
}

/**
 * The delta row of `metric` for the run that is not the baseline:
 * `[value, baseline, delta]` as shown.
 */
async function deltaOf(
  table: Locator,
  metric: string,
  runLabel: string
): Promise<{ value: number; baseline: number; delta: number }> {
  const row = table
    .getByRole('row')
    .filter({
      has: table.page().getByRole('rowheader', { name: metricHeader(metric) })
    })
    .filter({ hasText: runLabel });
  await expect(row).toHaveCount(1);
  const cells = row.getByRole('cell');
  return {
    value: parseShown(await cells.nth(1).innerText()),
    baseline: parseShown(await cells.nth(2).innerText()),
    delta: parseShown(await cells.nth(3).innerText())
  };
}

test.describe('fraud_jlab run comparison', () => {
  test('compares two selected runs, draws the figures and switches baseline', async ({
    page
  }) => {
    // Given two runs selected in the sidebar
    const sidebar = await openSidebar(page);
    await waitForRuns(sidebar);
    const names = [RUN_A, RUN_B];
    for (const name of names) {
      await rowNamed(sidebar, name).getByRole('checkbox').check();
    }

    // When Compare is clicked
    await sidebar.getByRole('button', { name: 'Compare', exact: true }).click();

    // Then a main-area view shows the delta table and rendered plotly figures
    const view = compareView(page, 2);
    await expect(view).toBeVisible();
    await expect(
      page.getByRole('tab', { name: /Compare 2 runs/ })
    ).toBeVisible();
    const table = view.getByRole('table', {
      name: 'Metric deltas against the baseline'
    });
    await expect(table).toBeVisible();
    for (const column of [
      'Metric',
      'Run',
      'Value',
      'Baseline',
      'Delta',
      '95% CI',
      'Significant'
    ]) {
      await expect(
        table.getByRole('columnheader', { name: column, exact: true })
      ).toBeVisible();
    }
    await expect(
      view.getByRole('term').filter({ hasText: '95% CI' })
    ).toBeVisible();
    await expect(view.getByRole('alert')).toHaveCount(0);

    const bars = view.getByRole('figure', { name: 'Metrics by run' });
    await expect(bars.locator('svg.main-svg').first()).toBeVisible();
    // Each bar trace has one bar per compared run
    expect(await bars.locator('g.trace.bars').count()).toBeGreaterThan(0);
    for (const name of [
      'ROC curves',
      'Precision-recall curves',
      'Parameters and metrics (parallel coordinates)'
    ]) {
      const figure = view.getByRole('figure', { name });
      await expect(figure).toHaveAttribute('aria-busy', 'false');
      await expect(figure.locator('svg.main-svg').first()).toBeVisible();
    }
    const roc = view.getByRole('figure', { name: 'ROC curves' });
    expect(
      await roc.locator('g.scatterlayer g.trace').count()
    ).toBeGreaterThanOrEqual(2);

    // When the first run is chosen as baseline
    const baseline = view.getByRole('combobox', { name: 'Baseline' });
    const options = await baseline.getByRole('option').allInnerTexts();
    const first = options.find(o => o.startsWith(`${names[0]} (`));
    const second = options.find(o => o.startsWith(`${names[1]} (`));
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    await baseline.selectOption({ label: first as string });
    await waitForCompare(view);
    await expect(view.getByRole('definition').first()).toHaveText(
      first as string
    );
    const againstFirst = await deltaOf(table, METRIC, second as string);
    // One primary metric decides (average precision); ROC-AUC is a Holm-corrected secondary
    await expect(
      table.getByRole('rowheader', { name: 'average_precision (primary)' })
    ).toHaveCount(1);
    await expect(
      table.getByRole('rowheader', { name: `${METRIC} (secondary)` })
    ).toHaveCount(1);
    // Both runs were scored on the same holdout: a paired CI, no 'unpaired' rows
    await expect(table.getByText(/no paired CI/)).toHaveCount(0);
    const ciCell = table
      .getByRole('row')
      .filter({
        has: page.getByRole('rowheader', { name: metricHeader(METRIC) })
      })
      .filter({ hasText: second as string })
      .getByRole('cell')
      .nth(4);
    await expect(ciCell).toHaveText(/^\[[−+]?[\d.]+, [−+]?[\d.]+\]$/);
    expect(againstFirst.delta).toBeCloseTo(
      againstFirst.value - againstFirst.baseline,
      3
    );

    // And then the second one
    await baseline.selectOption({ label: second as string });
    await expect(view.getByRole('definition').first()).toHaveText(
      second as string
    );
    await waitForCompare(view);
    const againstSecond = await deltaOf(table, METRIC, first as string);

    // Then the deltas are measured the other way round
    expect(againstSecond.value).toBeCloseTo(againstFirst.baseline, 4);
    expect(againstSecond.baseline).toBeCloseTo(againstFirst.value, 4);
    expect(againstSecond.delta).toBeCloseTo(-againstFirst.delta, 4);
    await expect(bars.locator('svg.main-svg').first()).toBeVisible();
  });

  test('figures follow the width of the panel', async ({ page }) => {
    const sidebar = await openSidebar(page);
    await waitForRuns(sidebar);
    await rowNamed(sidebar, RUN_A).getByRole('checkbox').check();
    await rowNamed(sidebar, RUN_C).getByRole('checkbox').check();
    await sidebar.getByRole('button', { name: 'Compare', exact: true }).click();
    const view = compareView(page, 2);
    const figure = view.getByRole('figure', { name: 'Metrics by run' });
    const svg = figure.locator('svg.main-svg').first();
    const plot = figure.locator('.jp-FraudJlab-plot');
    await expect(svg).toBeVisible();
    const widthOf = async (target: Locator): Promise<number> =>
      (await target.boundingBox())?.width ?? 0;
    const before = await widthOf(svg);
    expect(before).toBeGreaterThan(100);

    // When the left sidebar is collapsed, the main area grows
    await page.sidebar.close('left');

    // Then the figure is redrawn to the new width of its container
    await expect.poll(async () => widthOf(plot)).not.toBeCloseTo(before, 0);
    await expect
      .poll(async () => Math.abs((await widthOf(svg)) - (await widthOf(plot))))
      .toBeLessThan(2);
  });

  test('shows the server error in the view', async ({ page }) => {
    // When a comparison names a run the server does not know
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('fraud-jlab:compare-runs', {
        runIds: ['no-such-run-1', 'no-such-run-2']
      });
    });

    // Then the view says so with the server's message
    const view = compareView(page, 2);
    const alert = view.getByRole('alert');
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('HTTP 404');
    await expect(alert).toContainText('no-such-run');
  });
});
