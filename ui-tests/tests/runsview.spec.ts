import { expect, test } from '@jupyterlab/galata';
import { Locator, Page } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as path from 'path';

/**
 * The main-area runs grid, on the seeded runs (fraud_jlab.demo.seed): columns
 * remembered in the settings, the tuning parent's trials nested under it, the
 * production marker, and (last: it adds 10,000 cheap runs to the server's
 * tracker) scrolling 10,000 runs with a bounded DOM.
 */

const SCALE_EXPERIMENT = 'grid-scale';
const SCALE_RUNS = 10_000;

async function openRunsView(page: Page): Promise<Locator> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('fraud-jlab:open-runs-view');
  });
  const view = page.getByRole('region', { name: 'Runs view' });
  await expect(view).toBeVisible();
  await waitForGrid(view);
  return view;
}

/** Only the seeded experiment (the scale test adds 10,000 newer runs elsewhere). */
async function showSeeded(view: Locator): Promise<void> {
  const filter = view.getByRole('searchbox', { name: 'Filter runs' });
  await filter.fill("experiment = 'fraud-detection-optimization'");
  await filter.press('Enter');
  await waitForGrid(view);
  await expect(row(view, 'xgboost-tuning')).toBeVisible();
}

function grid(view: Locator): Locator {
  return view.getByRole('treegrid', { name: 'Runs grid' });
}

async function waitForGrid(view: Locator): Promise<void> {
  await expect(grid(view)).toHaveAttribute('aria-busy', 'false');
}

async function headerNames(view: Locator): Promise<string[]> {
  const texts = await grid(view).getByRole('columnheader').allInnerTexts();
  return texts.map(t => t.replace(/[▲▼]/g, '').trim()).filter(t => t !== '');
}

function row(view: Locator, name: string): Locator {
  return grid(view)
    .getByRole('row')
    .filter({ has: view.page().getByText(name, { exact: true }) });
}

/** The stored `gridColumns` user setting, read through the setting registry. */
async function gridSetting(page: Page): Promise<unknown> {
  return page.evaluate(async () => {
    const registry = (await window.galata.getPlugin(
      '@jupyterlab/apputils-extension:settings'
    )) as unknown as {
      load(id: string): Promise<{ user: Record<string, unknown> }>;
    };
    const settings = await registry.load('fraud-jlab:plugin');
    return settings.user.gridColumns;
  });
}

test.describe('fraud_jlab runs grid', () => {
  test('orders fraud metrics first and remembers column changes', async ({
    page
  }) => {
    const view = await openRunsView(page);

    // Fraud metrics first, accuracy the last metric column
    const names = await headerNames(view);
    expect(names[0]).toBe('Run');
    expect(names.slice(1, 3)).toEqual(['average_precision', 'recall_at_fpr']);
    expect(names.indexOf('accuracy')).toBeGreaterThan(names.indexOf('auc_roc'));

    // When a column is hidden, one resized and one moved
    await view.getByRole('button', { name: 'Columns' }).click();
    await view
      .getByRole('group', { name: 'Columns' })
      .getByRole('checkbox', { name: 'accuracy' })
      .uncheck();
    const separator = view.getByRole('separator', {
      name: 'Resize average_precision'
    });
    const before = Number(await separator.getAttribute('aria-valuenow'));
    await separator.focus();
    await page.keyboard.press('Shift+ArrowRight');
    await expect(separator).toHaveAttribute(
      'aria-valuenow',
      String(before + 40)
    );
    // Status moved to the front with the keyboard (Alt+Left), one column at a time
    const statusSort = grid(view)
      .locator('[data-column="status"]')
      .getByRole('button');
    await statusSort.focus();
    const steps = (await headerNames(view)).indexOf('Status') - 1;
    for (let i = 0; i < steps; i++) {
      await grid(view)
        .locator('[data-column="status"]')
        .getByRole('button')
        .press('Alt+ArrowLeft');
    }
    await expect
      .poll(async () => (await headerNames(view)).indexOf('Status'))
      .toBe(1);
    await expect.poll(() => headerNames(view)).toContain('Status');
    // And recall_at_fpr dragged with the mouse onto Status (now second)
    await grid(view)
      .locator('[data-column="metrics.recall_at_fpr"]')
      .dragTo(grid(view).locator('[data-column="status"]'), {
        sourcePosition: { x: 3, y: 8 },
        targetPosition: { x: 3, y: 8 }
      });
    await expect
      .poll(async () => (await headerNames(view)).slice(0, 4))
      .toEqual(['Run', 'recall_at_fpr', 'Status', 'average_precision']);
    const moved = await headerNames(view);
    expect(moved).not.toContain('accuracy');
    expect(moved.indexOf('Status')).toBeLessThan(
      moved.indexOf('average_precision')
    );

    // Then the settings hold them, and a reloaded Lab shows the same grid
    await expect
      .poll(async () => JSON.stringify(await gridSetting(page)))
      .toContain('"key":"metrics.accuracy","width":120,"hidden":true');
    const stored = (await gridSetting(page)) as Array<{
      key: string;
      width: number;
    }>;
    expect(stored.find(c => c.key === 'metrics.average_precision')?.width).toBe(
      before + 40
    );
    // A new grid widget reads the settings (galata's reload would wait for a launcher)
    await page.evaluate(async () => {
      await window.jupyterapp.commands.execute('application:close-all');
    });
    await page.reload({ waitForIsReady: false });
    await page.waitForFunction(() =>
      window.jupyterapp?.commands?.hasCommand('fraud-jlab:open-runs-view')
    );
    const again = await openRunsView(page);
    expect(await headerNames(again)).toEqual(moved);
    await expect(
      again.getByRole('separator', { name: 'Resize average_precision' })
    ).toHaveAttribute('aria-valuenow', String(before + 40));

    // Reset restores the defaults
    await again.getByRole('button', { name: 'Columns' }).click();
    await again.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => headerNames(again)).toContain('accuracy');
  });

  test('nests trials under their tuning run', async ({ page }) => {
    const view = await openRunsView(page);
    await showSeeded(view);
    const parent = row(view, 'xgboost-tuning');
    await expect(parent).toHaveAttribute('aria-expanded', 'false');
    // Trials are not top-level rows
    await expect(
      grid(view).getByRole('row', { name: /xgboost-tuning-trial-/ })
    ).toHaveCount(0);

    // When the parent is expanded
    await view.getByRole('button', { name: 'Expand xgboost-tuning' }).click();

    // Then its 4 trials and the refit of the best one follow it one level deeper
    await expect(parent).toHaveAttribute('aria-expanded', 'true');
    const trials = grid(view).locator('[role="row"][aria-level="2"]');
    await expect(trials).toHaveCount(5);
    await expect(
      trials.filter({ hasText: 'xgboost-tuning-trial-' })
    ).toHaveCount(4);
    await expect(
      trials.filter({ hasText: 'xgboost-tuning-refit' })
    ).toHaveCount(1);
    // Names everywhere, ids on hover
    await expect(
      trials
        .filter({ hasText: 'xgboost-tuning-trial-' })
        .first()
        .getByRole('cell')
        .nth(1)
    ).toHaveAttribute('title', /^xgboost-tuning-trial-\S+ \([0-9A-Z]{26}\)$/);

    // And collapse hides them again
    await view.getByRole('button', { name: 'Collapse xgboost-tuning' }).click();
    await expect(trials).toHaveCount(0);
  });

  test('marks the run in production', async ({ page }) => {
    const view = await openRunsView(page);
    await showSeeded(view);
    // Given a promotion made outside this view (REST, as a notebook would)
    const status = await page.evaluate(async () => {
      const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
      const response = await fetch('/fraud-jlab/api/promotions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf },
        body: JSON.stringify({
          run_id: 'production-baseline',
          reason: 'e2e: grid production marker',
          force: true
        })
      });
      return response.status;
    });
    expect(status).toBe(201);

    // When the grid is refreshed, the run carries the marker and no other does
    await view.getByRole('button', { name: 'Refresh' }).click();
    await waitForGrid(view);
    const marker = grid(view).getByRole('img', { name: 'In production' });
    await expect(marker).toHaveCount(1);
    await expect(row(view, 'production-baseline')).toContainText(
      '● production'
    );
  });

  test('shows a tuning run with its metric chart and no Promote', async ({
    page
  }) => {
    const view = await openRunsView(page);
    await showSeeded(view);
    await row(view, 'xgboost-tuning').click();
    const detail = view.getByRole('region', { name: 'Run xgboost-tuning' });
    await expect(detail).toBeVisible();

    // The per-trial progress is a plotly chart
    const chart = detail.getByRole('figure', {
      name: 'best_average_precision by step'
    });
    await expect(chart).toHaveAttribute('aria-busy', 'false');
    await expect(
      chart.locator('.js-plotly-plot .scatterlayer .trace')
    ).toHaveCount(1);

    // No Promote: it says why, and what to promote instead
    await expect(detail.getByRole('button', { name: 'Promote…' })).toHaveCount(
      0
    );
    const note = detail.getByRole('note');
    await expect(note).toContainText('tuning parent');
    await expect(note).toContainText('xgboost-tuning-refit');

    // Children by name, clickable
    const children = detail
      .getByRole('list', { name: 'Child runs' })
      .getByRole('button');
    await expect(children).toHaveCount(5);
    // the refit is the promotable child: it holds the model and the holdout evaluation
    await children.filter({ hasText: 'xgboost-tuning-refit' }).click();
    const trial = view.getByRole('region', {
      name: /^Run xgboost-tuning-refit/
    });
    await expect(trial).toBeVisible();
    await expect(trial.getByRole('button', { name: 'Promote…' })).toBeVisible();

    // An artifact opens inline: the saved XGBoost model (native JSON)
    const model = 'model/xgboost-model.json';
    await trial.getByRole('button', { name: `View ${model}` }).click();
    const preview = trial.getByRole('region', {
      name: `Preview of ${model}`
    });
    await expect(preview.getByLabel(`Artifact ${model}`)).toContainText(
      '"learner"'
    );
    await expect(
      trial.getByRole('button', {
        name: 'Download evaluation/holdout_scores.npz'
      })
    ).toBeVisible();
    await expect(
      trial.getByRole('button', { name: 'View evaluation/holdout_scores.npz' })
    ).toHaveCount(0);
  });

  test('scrolls 10,000 runs with at most 60 rows in the DOM', async ({
    page
  }) => {
    test.setTimeout(240_000);
    // Given 10,000 cheap runs in the server's tracker (synthetic metrics, no models)
    const info = await page.evaluate(async () => {
      const response = await fetch('/fraud-jlab/api/info');
      return (await response.json()) as { settings: { tracking_uri: string } };
    });
    const seeded = execFileSync(
      process.env.FRAUD_JLAB_PYTHON ?? 'python',
      [
        path.join(__dirname, 'seed_scale_runs.py'),
        info.settings.tracking_uri,
        SCALE_EXPERIMENT,
        String(SCALE_RUNS)
      ],
      { encoding: 'utf-8', timeout: 180_000 }
    );
    expect(Number(seeded.trim())).toBe(SCALE_RUNS);

    const view = await openRunsView(page);
    const filter = view.getByRole('searchbox', { name: 'Filter runs' });
    await filter.fill(`experiment = '${SCALE_EXPERIMENT}'`);
    await filter.press('Enter');
    await expect(
      view.getByRole('status', { name: 'Top-level run count' })
    ).toHaveText('10,000 top-level runs');
    await waitForGrid(view);

    // When the grid is scrolled to the end, page after page from the server
    const table = grid(view);
    const stats = await table.evaluate(async (element, total) => {
      const frame = () =>
        new Promise<number>(resolve => requestAnimationFrame(resolve));
      let maxRows = 0;
      const started = performance.now();
      while (performance.now() - started < 120_000) {
        element.scrollTop += 2000;
        await frame();
        maxRows = Math.max(
          maxRows,
          element.querySelectorAll('[role="row"]').length
        );
        if (element.querySelector(`[aria-rowindex="${total + 1}"]`)) {
          break;
        }
      }
      return { maxRows, seconds: (performance.now() - started) / 1000 };
    }, SCALE_RUNS);
    console.log(`runs grid, 10,000-run scroll: ${JSON.stringify(stats)}`);

    // Then the last (oldest) run is reached with at most 60 rows (header included) in the DOM
    await expect(
      table.getByRole('row', { name: /scale-00000\b/ })
    ).toBeVisible();
    expect(stats.maxRows).toBeLessThanOrEqual(60);
  });
});
