/** What the UI says instead of an interval when the holdout has too few frauds. */
export const TOO_FEW_FRAUDS = 'too few frauds to estimate';

/**
 * What the run detail says under its metrics table (which shows the intervals):
 * how many frauds the intervals rest on, and which metrics had too few to estimate.
 */
export function fraudCountNote(
  metrics: Record<string, number>,
  tags: Record<string, string>
): string | null {
  const nPos = metrics['holdout_n_pos'];
  const tooFew = (tags['evaluation.ci_too_few_frauds'] ?? '')
    .split(',')
    .filter(Boolean);
  const parts: string[] = [];
  if (nPos !== undefined) {
    parts.push(`95% intervals from the holdout's ${nPos} frauds.`);
  }
  if (tooFew.length > 0) {
    parts.push(`${tooFew.join(', ')}: ${TOO_FEW_FRAUDS}.`);
  }
  return parts.length > 0 ? parts.join(' ') : null;
}

/** Fewest frauds for which the evaluator reports an interval (fraud_jlab.evaluation.intervals.MIN_FRAUDS). */
export const MIN_FRAUDS = 10;

/**
 * A run's interval of one metric as text: `0.8091 [0.7262, 0.8749] (98 frauds)`,
 * "too few frauds to estimate (7 frauds)", or "no interval logged".
 */
export function intervalText(
  metrics: Record<string, number>,
  name: string
): string {
  const value = metrics[name];
  const low = metrics[`${name}_ci_low`];
  const high = metrics[`${name}_ci_high`];
  const nPos = metrics['holdout_n_pos'];
  const frauds = nPos === undefined ? '' : ` (${nPos} frauds)`;
  if (value !== undefined && low !== undefined && high !== undefined) {
    return `${value.toPrecision(4)} [${low.toPrecision(4)}, ${high.toPrecision(4)}]${frauds}`;
  }
  if (nPos !== undefined && nPos < MIN_FRAUDS) {
    return `${TOO_FEW_FRAUDS}${frauds}`;
  }
  return value === undefined
    ? 'not logged'
    : `${value.toPrecision(4)} (no interval logged)`;
}
