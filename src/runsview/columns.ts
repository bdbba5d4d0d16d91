/**
 * Columns of the main-area runs grid: which, in what order, how wide.
 * The configuration is stored in the `gridColumns` setting (schema/plugin.json).
 */
import { compareMetricNames } from '../runs/precision';

/** One column as stored in the settings. */
export interface IColumnConfig {
  /** `run_name`, `status`, `experiment`, `start_time`, `user`, or `metrics.<name>`. */
  key: string;
  /** Width in pixels. */
  width: number;
  hidden?: boolean;
}

export const MIN_COLUMN_WIDTH = 48;
export const MAX_COLUMN_WIDTH = 800;

/** Attribute columns, by key. */
export const ATTRIBUTE_LABELS: Record<string, string> = {
  run_name: 'Run',
  status: 'Status',
  experiment: 'Experiment',
  start_time: 'Started',
  user: 'User'
};

/** Fraud metrics first, accuracy last (the grid's default order). */
export const DEFAULT_GRID_METRICS: readonly string[] = [
  'average_precision',
  'recall_at_fpr',
  'auc_roc',
  'f1_score',
  'precision',
  'recall',
  'accuracy'
];

export function defaultColumns(): IColumnConfig[] {
  return [
    { key: 'run_name', width: 220 },
    ...DEFAULT_GRID_METRICS.map(name => ({
      key: `metrics.${name}`,
      width: 120
    })),
    { key: 'status', width: 96 },
    { key: 'experiment', width: 180 },
    { key: 'start_time', width: 140 },
    { key: 'user', width: 110 }
  ];
}

export function columnLabel(key: string): string {
  if (key.startsWith('metrics.')) {
    return key.slice('metrics.'.length);
  }
  return ATTRIBUTE_LABELS[key] ?? key;
}

function clampWidth(width: unknown): number {
  const value =
    typeof width === 'number' && Number.isFinite(width) ? width : 120;
  return Math.round(
    Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, value))
  );
}

/**
 * The stored configuration made whole: unknown entries dropped, widths
 * clamped, the Run column always present, and metrics the loaded runs have
 * but the configuration does not name appended (fraud metrics first).
 */
export function normalizeColumns(
  stored: readonly IColumnConfig[] | null | undefined,
  presentMetrics: readonly string[]
): IColumnConfig[] {
  const base = stored && stored.length > 0 ? stored : defaultColumns();
  const seen = new Set<string>();
  const out: IColumnConfig[] = [];
  for (const column of base) {
    if (
      !column ||
      typeof column.key !== 'string' ||
      seen.has(column.key) ||
      !(column.key in ATTRIBUTE_LABELS || column.key.startsWith('metrics.'))
    ) {
      continue;
    }
    seen.add(column.key);
    out.push({
      key: column.key,
      width: clampWidth(column.width),
      ...(column.hidden && column.key !== 'run_name' ? { hidden: true } : {})
    });
  }
  if (!seen.has('run_name')) {
    out.unshift({ key: 'run_name', width: 220 });
    seen.add('run_name');
  }
  const extra = presentMetrics
    .filter(name => !seen.has(`metrics.${name}`))
    .sort(compareMetricNames);
  if (extra.length > 0) {
    // New metrics go after the configured metric columns (before accuracy when it is last).
    let index = out.length;
    for (let i = out.length - 1; i >= 0; i--) {
      if (out[i].key.startsWith('metrics.')) {
        index = out[i].key === 'metrics.accuracy' ? i : i + 1;
        break;
      }
    }
    out.splice(
      index,
      0,
      ...extra.map(name => ({ key: `metrics.${name}`, width: 120 }))
    );
  }
  return out;
}

/** Move column `from` to where column `to` is. */
export function moveColumn(
  columns: readonly IColumnConfig[],
  from: string,
  to: string
): IColumnConfig[] {
  const source = columns.findIndex(c => c.key === from);
  const target = columns.findIndex(c => c.key === to);
  if (source < 0 || target < 0 || source === target) {
    return [...columns];
  }
  const next = [...columns];
  const [moved] = next.splice(source, 1);
  next.splice(target, 0, moved);
  return next;
}

/** Move column `key` one visible position left (-1) or right (+1). */
export function shiftColumn(
  columns: readonly IColumnConfig[],
  key: string,
  delta: -1 | 1
): IColumnConfig[] {
  const visible = columns.filter(c => !c.hidden);
  const index = visible.findIndex(c => c.key === key);
  const neighbour = visible[index + delta];
  if (index < 0 || neighbour === undefined) {
    return [...columns];
  }
  return moveColumn(columns, key, neighbour.key);
}
