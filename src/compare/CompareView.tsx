import { ReactWidget } from '@jupyterlab/apputils';
import React, { useEffect, useState } from 'react';

import { ICompareResult, IPlotlyFigure } from '../api';
import { APIError } from '../request';
import { IFraudJlabService } from '../tokens';
import { DeltaTable } from './DeltaTable';
import { shortId } from './format';
import { PlotlyChart } from './PlotlyChart';
import { intervalText } from '../runs/intervals';

/** Props of {@link CompareView}. */
export interface ICompareViewProps {
  service: IFraudJlabService;
  runIds: readonly string[];
  /** Baseline asked for by the caller; `null` lets the server choose. */
  initialBaselineRunId?: string | null;
}

type LoadState =
  | { kind: 'loading'; previous: ICompareResult | null }
  | { kind: 'loaded'; result: ICompareResult }
  | { kind: 'failed'; error: Error; previous: ICompareResult | null };

/** The figures of a comparison, in display order, with their labels. */
const FIGURES: ReadonlyArray<{
  key: keyof ICompareResult['figures'];
  label: string;
  missing: string;
}> = [
  {
    key: 'metric_bars',
    label: 'Metrics by run',
    missing: 'No metric is shared by the compared runs.'
  },
  {
    key: 'roc',
    label: 'ROC curves',
    missing: 'No ROC overlay: the runs stored no holdout scores.'
  },
  {
    key: 'pr',
    label: 'Precision-recall curves',
    missing: 'No precision-recall overlay: the runs stored no holdout scores.'
  },
  {
    key: 'parallel_coordinates',
    label: 'Parameters and metrics (parallel coordinates)',
    missing: 'No parallel coordinates: the runs share no numeric parameter.'
  }
];

function errorText(error: Error): string {
  if (error instanceof APIError && error.status > 0) {
    const details = error.errors.filter(e => e !== error.message);
    return [`${error.message} (HTTP ${error.status})`, ...details].join('\n');
  }
  return error.message;
}

/**
 * Side-by-side comparison of tracked runs: metric deltas against a baseline
 * with confidence intervals, and plotly figures (metric bars, ROC and PR
 * overlays, parallel coordinates).
 */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const { service, runIds } = props;
  const [baseline, setBaseline] = useState<string | null>(
    props.initialBaselineRunId ?? null
  );
  const [state, setState] = useState<LoadState>({
    kind: 'loading',
    previous: null
  });
  const [attempt, setAttempt] = useState(0);

  // A promotion or rollback made in this Lab changes the default baseline
  // (the run in production) and the production notes: compare again.
  useEffect(() => {
    const onChanged = (): void => setAttempt(n => n + 1);
    service.productionChanged.connect(onChanged);
    return () => {
      service.productionChanged.disconnect(onChanged);
    };
  }, [service]);

  useEffect(() => {
    let cancelled = false;
    setState(current => ({
      kind: 'loading',
      previous: current.kind === 'loaded' ? current.result : current.previous
    }));
    service
      .compareRuns({ run_ids: [...runIds], baseline_run_id: baseline })
      .then(result => {
        if (!cancelled) {
          setState({ kind: 'loaded', result });
        }
      })
      .catch((error: unknown) => {
        if (!cancelled) {
          setState(current => ({
            kind: 'failed',
            error: error instanceof Error ? error : new Error(String(error)),
            previous:
              current.kind === 'loaded' ? current.result : current.previous
          }));
        }
      });
    return () => {
      cancelled = true;
    };
  }, [service, runIds, baseline, attempt]);

  const result = state.kind === 'loaded' ? state.result : state.previous;
  const runs = result?.runs ?? [];
  // The user's choice shows at once; the server's default fills in until then.
  const selectedBaseline = baseline ?? result?.baseline_run_id ?? null;
  const baselineOptions = runs.map(run => ({
    value: run.run_id,
    label: `${run.run_name} (${shortId(run.run_id)})`
  }));
  if (
    selectedBaseline !== null &&
    !baselineOptions.some(o => o.value === selectedBaseline)
  ) {
    // The server's default baseline (the production run) is not among the compared runs.
    baselineOptions.unshift({
      value: selectedBaseline,
      label: `production run (${shortId(selectedBaseline)})`
    });
  }

  return (
    <div className="jp-FraudJlab-compare" aria-busy={state.kind === 'loading'}>
      <div className="jp-FraudJlab-compareToolbar">
        <h1 className="jp-FraudJlab-compareTitle">
          Compare {runIds.length} runs
        </h1>
        <label className="jp-FraudJlab-baselineLabel">
          Baseline{' '}
          <select
            className="jp-FraudJlab-select"
            value={selectedBaseline ?? ''}
            disabled={runs.length === 0}
            onChange={event => setBaseline(event.target.value || null)}
          >
            {selectedBaseline === null && (
              <option value="">(server default)</option>
            )}
            {baselineOptions.map(option => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="button"
          className="jp-FraudJlab-button"
          onClick={() => setAttempt(n => n + 1)}
          disabled={state.kind === 'loading'}
        >
          Refresh
        </button>
        {state.kind === 'loading' && (
          <span className="jp-FraudJlab-status" role="status">
            Comparing…
          </span>
        )}
      </div>

      {state.kind === 'failed' && (
        <div role="alert" className="jp-FraudJlab-error jp-FraudJlab-banner">
          {errorText(state.error)}
        </div>
      )}

      {result && (
        <>
          {result.notes.length > 0 && (
            <ul className="jp-FraudJlab-notes" aria-label="Notes">
              {result.notes.map(note => (
                <li key={note}>{note}</li>
              ))}
            </ul>
          )}
          <section aria-label="Average precision with 95% CI">
            <h2>Average precision of each run (95% CI)</h2>
            <table
              className="jp-FraudJlab-kv"
              aria-label="Average precision confidence intervals"
            >
              <tbody>
                {result.runs.map(run => (
                  <tr key={run.run_id}>
                    <th scope="row">{run.run_name}</th>
                    <td>{intervalText(run.metrics, 'average_precision')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-label="Deltas">
            <h2>Deltas against the baseline</h2>
            <DeltaTable
              deltas={result.deltas}
              runs={result.runs}
              baselineRunId={result.baseline_run_id}
            />
          </section>
          <section aria-label="Figures" className="jp-FraudJlab-figures">
            {FIGURES.map(({ key, label, missing }) => {
              const figure: IPlotlyFigure | null = result.figures[key];
              return figure ? (
                <PlotlyChart key={key} figure={figure} label={label} />
              ) : (
                <p key={key} className="jp-FraudJlab-muted">
                  {missing}
                </p>
              );
            })}
          </section>
        </>
      )}
    </div>
  );
}

/** Lumino wrapper of {@link CompareView}, the content of the compare main-area widget. */
export class CompareWidget extends ReactWidget {
  constructor(readonly options: ICompareViewProps) {
    super();
    this.addClass('jp-FraudJlab-compareWidget');
  }

  protected render(): JSX.Element {
    return <CompareView {...this.options} />;
  }
}
