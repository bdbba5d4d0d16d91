/**
 * Numbers at their meaningful precision: a metric with a confidence interval
 * is rounded to the interval's resolution, one without to 4 significant digits.
 */

/** Suffixes of the CI bounds the evaluator logs next to a metric. */
export const CI_LOW_SUFFIX = '_ci_low';
export const CI_HIGH_SUFFIX = '_ci_high';

/** A metric with its CI bounds when logged. */
export interface IMetricWithCI {
  name: string;
  value: number;
  low: number | null;
  high: number | null;
}

/** Decimals that resolve an interval of this width (one digit beyond its leading one). */
export function decimalsForWidth(width: number): number {
  if (!Number.isFinite(width) || width <= 0) {
    return 4;
  }
  return Math.min(6, Math.max(1, Math.ceil(-Math.log10(width)) + 1));
}

/** A number with `decimals` decimals, or 4 significant digits when not given. */
export function formatNumber(
  value: number | null | undefined,
  decimals?: number
): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—';
  }
  if (Number.isInteger(value) && decimals === undefined) {
    return value.toLocaleString('en-US').replace(/,/g, '');
  }
  if (decimals !== undefined) {
    return value.toFixed(decimals);
  }
  if (Math.abs(value) >= 1000) {
    return value.toFixed(0);
  }
  return String(Number(value.toPrecision(4)));
}

/** `0.812 (95% CI 0.79–0.83)`, rounded to the interval's resolution. */
export function formatWithCI(metric: IMetricWithCI): {
  value: string;
  ci: string;
} {
  if (metric.low === null || metric.high === null) {
    return { value: formatNumber(metric.value), ci: '' };
  }
  const decimals = decimalsForWidth(Math.abs(metric.high - metric.low));
  return {
    value: formatNumber(metric.value, decimals),
    ci: `${formatNumber(metric.low, decimals)}–${formatNumber(metric.high, decimals)}`
  };
}

/**
 * Metrics with their CI bounds folded in: `average_precision`,
 * `average_precision_ci_low` and `average_precision_ci_high` become one entry.
 */
export function metricsWithCIs(
  metrics: Record<string, number>
): IMetricWithCI[] {
  const out: IMetricWithCI[] = [];
  for (const [name, value] of Object.entries(metrics)) {
    if (name.endsWith(CI_LOW_SUFFIX) || name.endsWith(CI_HIGH_SUFFIX)) {
      const base = name.endsWith(CI_LOW_SUFFIX)
        ? name.slice(0, -CI_LOW_SUFFIX.length)
        : name.slice(0, -CI_HIGH_SUFFIX.length);
      if (base in metrics) {
        continue;
      }
    }
    const low = metrics[`${name}${CI_LOW_SUFFIX}`];
    const high = metrics[`${name}${CI_HIGH_SUFFIX}`];
    out.push({
      name,
      value,
      low: low === undefined ? null : low,
      high: high === undefined ? null : high
    });
  }
  return out;
}

/** Fraud metrics first, accuracy last, the rest alphabetically between. */
export const METRIC_PRIORITY: readonly string[] = [
  'average_precision',
  'recall_at_fpr',
  'auc_pr',
  'auc_roc',
  'precision_at_recall',
  'f1_score',
  'precision',
  'recall'
];

/** Compare metric names for display order (see {@link METRIC_PRIORITY}). */
export function compareMetricNames(a: string, b: string): number {
  const rank = (name: string): number => {
    if (name === 'accuracy') {
      return 1000;
    }
    const index = METRIC_PRIORITY.indexOf(name);
    return index < 0 ? 500 : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
