import React from 'react';

import { IComparedRun, IMetricDelta } from '../api';
import { formatDelta, formatInterval, formatValue, shortId } from './format';

/** Text shown instead of a CI when the two runs were not scored on the same holdout. */
export const UNPAIRED_TEXT = 'no paired CI: scores on different holdouts';

/** Props of {@link DeltaTable}. */
export interface IDeltaTableProps {
  deltas: IMetricDelta[];
  runs: IComparedRun[];
  baselineRunId: string | null;
}

function runLabel(runs: IComparedRun[], runId: string | null): string {
  if (runId === null) {
    return '—';
  }
  const run = runs.find(r => r.run_id === runId);
  return run ? `${run.run_name} (${shortId(run.run_id)})` : runId;
}

function formatP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toPrecision(2);
}

/** "yes"/"no" with the p-value that decided it (Holm-adjusted for secondary metrics). */
export function significanceText(delta: IMetricDelta): string {
  if (delta.significant === null) {
    return '—';
  }
  const verdict = delta.significant ? 'yes' : 'no';
  const p = delta.role === 'secondary' ? delta.p_adjusted : delta.p_value;
  if (p === null) {
    return verdict;
  }
  const label = delta.role === 'secondary' ? 'Holm p' : 'p';
  const method = delta.method === 'delong' ? ', DeLong' : '';
  return `${verdict} (${label} ${formatP(p)}${method})`;
}

function roleText(delta: IMetricDelta): string {
  return delta.role;
}

/**
 * Metric deltas of every compared run against the baseline, with 95%
 * confidence intervals where both runs were scored on the same holdout.
 */
export function DeltaTable(props: IDeltaTableProps): JSX.Element {
  const { deltas, runs, baselineRunId } = props;
  const baselineName = runLabel(runs, baselineRunId);
  return (
    <div className="jp-FraudJlab-deltaTableWrapper">
      <table
        className="jp-FraudJlab-deltaTable"
        aria-label="Metric deltas against the baseline"
      >
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col">Run</th>
            <th scope="col" className="jp-mod-numeric">
              Value
            </th>
            <th scope="col" className="jp-mod-numeric">
              Baseline
            </th>
            <th scope="col" className="jp-mod-numeric">
              Delta
            </th>
            <th scope="col">95% CI</th>
            <th scope="col">Significant</th>
          </tr>
        </thead>
        <tbody>
          {deltas.length === 0 && (
            <tr>
              <td colSpan={7} className="jp-FraudJlab-muted">
                No deltas: there is no baseline, or the runs share no metric.
              </td>
            </tr>
          )}
          {deltas.map(delta => {
            const classes = ['jp-FraudJlab-deltaRow'];
            if (delta.significant === true) {
              classes.push(
                delta.delta !== null && delta.delta < 0
                  ? 'jp-mod-negative'
                  : 'jp-mod-positive'
              );
            }
            return (
              <tr
                key={`${delta.metric}\u0000${delta.run_id}`}
                className={classes.join(' ')}
              >
                <th scope="row">
                  {delta.metric}
                  {roleText(delta) && (
                    <span className="jp-FraudJlab-muted">
                      {' '}
                      ({roleText(delta)})
                    </span>
                  )}
                </th>
                <td>{runLabel(runs, delta.run_id)}</td>
                <td className="jp-mod-numeric">{formatValue(delta.value)}</td>
                <td className="jp-mod-numeric">
                  {formatValue(delta.baseline_value)}
                </td>
                <td className="jp-mod-numeric">{formatDelta(delta.delta)}</td>
                {delta.paired ? (
                  <>
                    <td className="jp-mod-numeric">
                      {formatInterval(delta.ci_low, delta.ci_high)}
                    </td>
                    <td>{significanceText(delta)}</td>
                  </>
                ) : (
                  <td colSpan={2} className="jp-FraudJlab-unpaired">
                    {UNPAIRED_TEXT}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <dl className="jp-FraudJlab-legend" aria-label="Legend">
        <dt>Baseline</dt>
        <dd>{baselineName}</dd>
        <dt>Delta</dt>
        <dd>run value minus baseline value.</dd>
        <dt>95% CI</dt>
        <dd>
          95% confidence interval of the delta, computed pairwise on the holdout
          both runs were scored on.
        </dd>
        <dt>Significant</dt>
        <dd>
          decided at 5% by the primary metric&apos;s own test; secondary
          headline metrics use Holm-adjusted p-values; descriptive metrics are
          not tested (—). ROC AUC uses DeLong&apos;s paired test, the others a
          paired bootstrap. — also when no interval could be computed.
        </dd>
        <dt>No paired CI</dt>
        <dd>
          the two runs stored scores on different holdouts, on a holdout whose
          row identity is unknown (older artifact), or none, so only the point
          delta is meaningful.
        </dd>
      </dl>
    </div>
  );
}
