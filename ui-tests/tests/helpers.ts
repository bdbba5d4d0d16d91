/**
 * Role-based helpers shared by the fraud_jlab browser tests.
 */
import { IJupyterLabPageFixture } from '@jupyterlab/galata';
import { expect, Locator } from '@playwright/test';

/** Id of the fraud_jlab left sidebar. */
export const SIDEBAR_ID = 'fraud-jlab-sidebar';

/** Open the fraud_jlab sidebar through its command and return it. */
export async function openSidebar(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('fraud-jlab:open-sidebar');
  });
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  return sidebar;
}

/** The runs section (table or run detail) of the sidebar. */
export function runsSection(sidebar: Locator): Locator {
  return sidebar.getByRole('region', { name: 'Tracked runs' });
}

/** Open the sidebar and return its runs section. */
export async function openRunsSection(
  page: IJupyterLabPageFixture
): Promise<Locator> {
  const section = runsSection(await openSidebar(page));
  await expect(section).toBeVisible();
  return section;
}

/** The runs table (within the sidebar or its runs section). */
export function runsTable(sidebar: Locator): Locator {
  return sidebar.getByRole('table', { name: 'Runs' });
}

/** Body rows of the runs table (the header row excluded). */
export function runRows(sidebar: Locator): Locator {
  return runsTable(sidebar)
    .getByRole('row')
    .filter({ has: sidebar.page().getByRole('cell') });
}

/** Wait until the runs table finished loading. */
export async function waitForRuns(sidebar: Locator): Promise<void> {
  await expect(runsTable(sidebar)).toHaveAttribute('aria-busy', 'false');
}

/** The run count shown above the table, e.g. 12 for "12 runs". */
export async function shownTotal(sidebar: Locator): Promise<number> {
  const text = await sidebar
    .getByRole('status', { name: 'Run count' })
    .innerText();
  const match = /([\d,]+) runs?/.exec(text);
  if (!match) {
    throw new Error(`no run count in ${JSON.stringify(text)}`);
  }
  return Number(match[1].replace(/,/g, ''));
}

/** Index of a column (by its header text) among the header cells. */
export async function columnIndex(
  sidebar: Locator,
  name: string
): Promise<number> {
  const headers = runsTable(sidebar).getByRole('columnheader');
  const texts = await headers.allInnerTexts();
  const index = texts.findIndex(t => t.replace(/[▲▼]/g, '').trim() === name);
  if (index < 0) {
    throw new Error(`no column ${name} in ${JSON.stringify(texts)}`);
  }
  return index;
}

/**
 * Full-precision values of a metric column for the rendered rows, in row
 * order (the cell's title holds the unrounded value; missing -> null).
 */
export async function metricValues(
  sidebar: Locator,
  metric: string
): Promise<Array<number | null>> {
  const index = await columnIndex(sidebar, metric);
  const rows = runRows(sidebar);
  const count = await rows.count();
  const values: Array<number | null> = [];
  for (let i = 0; i < count; i++) {
    const title = await rows
      .nth(i)
      .getByRole('cell')
      .nth(index)
      .getAttribute('title');
    const value = title === null ? NaN : Number(title);
    values.push(Number.isFinite(value) ? value : null);
  }
  return values;
}
