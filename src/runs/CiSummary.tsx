import React from 'react';

/** What the UI says instead of an interval when the holdout has too few frauds. */
export const TOO_FEW_FRAUDS = 'too few frauds to estimate';

/**
 * One line per metric with a logged 95% interval (`<metric>_ci_low` /
 * `<metric>_ci_high`), with the number of frauds it rests on; metrics the
 * evaluator left without one (tag `evaluation.ci_too_few_frauds`) say so.
 */
export function ciRows(
  metrics: Record<string, number>,
  tags: Record<string, string>
): Array<[string, string]> {
  const nPos = metrics['holdout_n_pos'];
  const frauds = nPos === undefined ? 'frauds unknown' : `${nPos} frauds`;
  const rows: Array<[string, string]> = [];
  for (const name of Object.keys(metrics).sort()) {
    const low = metrics[`${name}_ci_low`];
    const high = metrics[`${name}_ci_high`];
    if (low !== undefined && high !== undefined) {
      rows.push([
        name,
        `${metrics[name].toPrecision(4)} [${low.toPrecision(4)}, ${high.toPrecision(4)}] (${frauds})`
      ]);
    }
  }
  for (const name of (tags['evaluation.ci_too_few_frauds'] ?? '')
    .split(',')
    .filter(Boolean)) {
    rows.push([name, `${TOO_FEW_FRAUDS} (${frauds})`]);
  }
  return rows;
}

/** The run's 95% confidence intervals, each beside its number of frauds. */
export function CiSummary(props: {
  metrics: Record<string, number>;
  tags: Record<string, string>;
}): JSX.Element | null {
  const rows = ciRows(props.metrics, props.tags);
  if (rows.length === 0) {
    return null;
  }
  return (
    <table className="jp-FraudJlab-kv" aria-label="Confidence intervals">
      <tbody>
        {rows.map(([name, text]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td>{text}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
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
