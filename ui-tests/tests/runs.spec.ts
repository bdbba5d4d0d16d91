import { expect, test } from '@jupyterlab/galata';

import {
  metricValues,
  openRunsSection,
  runRows,
  runsTable,
  shownTotal,
  waitForRuns
} from './helpers';

const METRIC = 'auc_roc';

test.describe('fraud_jlab runs sidebar', () => {
  test('lists the tracked runs with their total', async ({ page }) => {
    // Given the server seeded runs trained on a fraud-shaped dataset
    const runs = await openRunsSection(page);
    await waitForRuns(runs);

    // Then every run is listed with the default metric columns
    const total = await shownTotal(runs);
    expect(total).toBeGreaterThanOrEqual(4);
    await expect(runRows(runs)).toHaveCount(total);
    for (const name of [
      'Run',
      'Experiment',
      'Status',
      'Started',
      'accuracy',
      'auc_roc'
    ]) {
      await expect(
        runsTable(runs).getByRole('columnheader', { name })
      ).toBeVisible();
    }
  });

  test('sorts by a metric on the server', async ({ page }) => {
    const runs = await openRunsSection(page);
    await waitForRuns(runs);
    const header = runsTable(runs).getByRole('columnheader', {
      name: METRIC
    });

    // When the metric header is clicked: best first
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'descending');
    await waitForRuns(runs);
    const descending = (await metricValues(runs, METRIC)).filter(
      (v): v is number => v !== null
    );
    expect(descending.length).toBeGreaterThanOrEqual(4);
    expect(descending).toEqual([...descending].sort((a, b) => b - a));
    expect(descending[0]).toBeGreaterThan(descending[descending.length - 1]);

    // When clicked again: ascending
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'ascending');
    await waitForRuns(runs);
    const ascending = (await metricValues(runs, METRIC)).filter(
      (v): v is number => v !== null
    );
    expect(ascending).toEqual([...descending].reverse());
  });

  test('filters with the server grammar', async ({ page }) => {
    const runs = await openRunsSection(page);
    await waitForRuns(runs);
    const before = await shownTotal(runs);
    const values = (await metricValues(runs, METRIC))
      .filter((v): v is number => v !== null)
      .sort((a, b) => a - b);
    // A threshold between two distinct values keeps some runs and drops others
    const threshold = values[Math.floor(values.length / 2)];
    const filter = runs.getByRole('searchbox', { name: 'Filter runs' });

    // When a valid filter is applied
    await filter.fill(
      `metrics.${METRIC} >= ${threshold} and status = 'completed'`
    );
    await filter.press('Enter');

    // Then fewer runs are shown and every one satisfies it
    await expect.poll(() => shownTotal(runs)).toBeLessThan(before);
    await waitForRuns(runs);
    const after = await shownTotal(runs);
    expect(after).toBeGreaterThan(0);
    await expect(runRows(runs)).toHaveCount(after);
    for (const value of await metricValues(runs, METRIC)) {
      expect(value).not.toBeNull();
      expect(value as number).toBeGreaterThanOrEqual(threshold);
    }
    await expect(runs.getByRole('alert')).toHaveCount(0);
  });

  test('shows a rejected filter inline with its position', async ({ page }) => {
    const runs = await openRunsSection(page);
    await waitForRuns(runs);
    const before = await shownTotal(runs);
    const filter = runs.getByRole('searchbox', { name: 'Filter runs' });

    // When an invalid filter is applied
    await filter.fill(`metrics.${METRIC} >= 0.5 and and`);
    await filter.press('Enter');

    // Then the parser's message names the position, under the box
    const alert = runs.getByRole('alert');
    await expect(alert).toContainText(/Unexpected token 'and' at position 27/);
    await expect(filter).toHaveAttribute('aria-invalid', 'true');
    // and the table is unchanged
    expect(await shownTotal(runs)).toBe(before);
    await expect(runRows(runs)).toHaveCount(before);
  });

  test('opens a run with its params and metrics', async ({ page }) => {
    const runs = await openRunsSection(page);
    await waitForRuns(runs);
    // The best run by the metric is a trained model (not a tuning parent)
    const header = runsTable(runs).getByRole('columnheader', { name: METRIC });
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'descending');
    await waitForRuns(runs);
    const firstRow = runRows(runs).first();
    const runName = (
      await firstRow.getByRole('cell').nth(1).innerText()
    ).trim();

    // When a row is clicked
    await firstRow.click();

    // Then the detail shows its parameters and metrics
    const detail = runs.getByRole('region', { name: `Run ${runName}` });
    await expect(detail.getByRole('heading', { name: runName })).toBeVisible();
    const params = detail.getByRole('table', { name: 'Parameters' });
    await expect(
      params.getByRole('rowheader', { name: 'max_depth' })
    ).toBeVisible();
    const metrics = detail.getByRole('table', { name: 'Metrics' });
    await expect(
      metrics.getByRole('rowheader', { name: METRIC })
    ).toBeVisible();
    const value = Number(
      await metrics
        .getByRole('row', { name: new RegExp(`^${METRIC}`) })
        .getByRole('cell')
        .first()
        .innerText()
    );
    expect(value).toBeGreaterThan(0.5);
    expect(value).toBeLessThanOrEqual(1);

    // And Back returns to the table
    await detail.getByRole('button', { name: /Back/ }).click();
    await expect(runsTable(runs)).toBeVisible();
  });
});

test.describe('fraud_jlab run lineage', () => {
  test('navigates from a tuning run to a trial and back', async ({ page }) => {
    const runs = await openRunsSection(page);
    await waitForRuns(runs);
    const filter = runs.getByRole('searchbox', { name: 'Filter runs' });
    await filter.fill("run_name = 'xgboost-tuning'");
    await filter.press('Enter');
    await expect(runRows(runs)).toHaveCount(1);

    // When the tuning parent is opened
    await runRows(runs).first().click();
    const parent = runs.getByRole('region', { name: 'Run xgboost-tuning' });
    const lineage = parent.getByRole('table', { name: 'Lineage' });
    // Child runs are listed by name (their ids are in the tooltip): 4 trials and the refit
    const children = lineage.getByRole('button', {
      name: /^xgboost-tuning-trial-/
    });
    await expect(children).toHaveCount(4);
    await expect(
      lineage.getByRole('button', { name: 'xgboost-tuning-refit' })
    ).toHaveCount(1);
    await expect(children.first()).toHaveAttribute(
      'title',
      /\([0-9A-Z]{26}\)$/
    );

    // Then a child opens, shows the parent link, and Back returns to the parent
    await children.first().click();
    const child = runs.getByRole('region', {
      name: /^Run xgboost-tuning-trial-/
    });
    await expect(child).toBeVisible();
    await expect(
      child
        .getByRole('table', { name: 'Parameters' })
        .getByRole('rowheader', { name: 'eta' })
    ).toBeVisible();
    await child.getByRole('button', { name: /Back/ }).click();
    await expect(parent).toBeVisible();
  });
});

/**
 * Scale: the runs endpoint is answered in the browser with a synthetic
 * 10,000-run table fixture (generated ids and values, not model results), so
 * the test measures only the table: paging, virtualisation and frame times.
 */
test.describe('fraud_jlab runs table at scale', () => {
  const TOTAL = 10_000;

  test('scrolls through 10,000 runs with a bounded DOM', async ({ page }) => {
    let requests = 0;
    await page.route(/\/fraud-jlab\/api\/runs(\?.*)?$/, async route => {
      requests++;
      const url = new URL(route.request().url());
      const size = Number(url.searchParams.get('max_results') ?? '100');
      const offset = Number(url.searchParams.get('page_token') ?? '0');
      const end = Math.min(TOTAL, offset + size);
      const runs = [];
      for (let i = offset; i < end; i++) {
        runs.push({
          run_id: `FIXTURE${String(i).padStart(19, '0')}`,
          experiment_name: 'table-scale-fixture',
          run_name: `fixture-${i}`,
          status: 'completed',
          start_time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          end_time: null,
          user: 'fixture',
          parent_run_id: null,
          params: {},
          metrics: { auc_roc: (i % 1000) / 1000 },
          tags: {}
        });
      }
      await route.fulfill({
        json: {
          runs,
          next_page_token: end < TOTAL ? String(end) : null,
          total: TOTAL
        }
      });
    });
    const runs = await openRunsSection(page);
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('fraud-jlab:refresh-runs');
    });
    await expect.poll(() => shownTotal(runs)).toBe(TOTAL);

    // When the table is scrolled to the end, page after page
    const table = runsTable(runs);
    const stats = await table.evaluate(async (element, total) => {
      const frame = () =>
        new Promise<number>(resolve => requestAnimationFrame(resolve));
      const gaps: number[] = [];
      let maxRows = 0;
      let last = await frame();
      const started = performance.now();
      while (performance.now() - started < 60_000) {
        element.scrollTop += 1500;
        const now = await frame();
        gaps.push(now - last);
        last = now;
        maxRows = Math.max(
          maxRows,
          element.querySelectorAll('[role="row"]').length
        );
        const lastRow = element.querySelector(`[aria-rowindex="${total + 1}"]`);
        if (lastRow) {
          break;
        }
      }
      gaps.sort((a, b) => a - b);
      return {
        frames: gaps.length,
        p50: gaps[Math.floor(gaps.length * 0.5)],
        p95: gaps[Math.floor(gaps.length * 0.95)],
        maxRows,
        seconds: (performance.now() - started) / 1000
      };
    }, TOTAL);
    console.log(
      `10,000-run scroll: ${JSON.stringify(stats)}, ${requests} page requests`
    );

    // Then the last run is reached while the DOM holds only the rows in view
    await expect(
      table.getByRole('row', { name: /fixture-9999\b/ })
    ).toBeVisible();
    expect(stats.maxRows).toBeLessThan(80);
    expect(requests).toBeGreaterThanOrEqual(TOTAL / 100);
    // A smooth scroll keeps the median frame near the display rate
    expect(stats.p50).toBeLessThan(50);
  });
});

test.describe('fraud_jlab version check', () => {
  test('warns when the server extension has another version', async ({
    page
  }) => {
    // Given a server that reports another release than the frontend
    await page.route(/\/fraud-jlab\/api\/info(\?.*)?$/, async route => {
      const response = await route.fetch();
      const info = await response.json();
      await route.fulfill({
        response,
        json: { ...info, version: '0.0.1-other' }
      });
    });

    // When JupyterLab loads
    await page.goto();

    // Then a notification names both versions
    await expect(
      page.getByText(
        /fraud_jlab server extension 0\.0\.1-other differs from the frontend \d+\.\d+\.\d+/
      )
    ).toBeVisible();
  });
});
