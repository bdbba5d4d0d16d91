import { CommandRegistry } from '@lumino/commands';
import React, { useEffect, useState } from 'react';

import { IRunActions, IRunDetail, IRunSummary } from '../api';
import { APIError } from '../request';
import { CommandIDs } from '../tokens';
import { ArtifactsSection } from './Artifacts';
import { fraudCountNote } from './intervals';
import { formatDuration, formatTime } from './format';
import { useHasCommand } from './hooks';
import { MetricHistoryCharts } from './MetricHistory';
import { RunsModel } from './model';
import { compareMetricNames, formatWithCI, metricsWithCIs } from './precision';

type LoadState =
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'loaded'; run: IRunDetail };

function KeyValueTable(props: {
  label: string;
  entries: Array<[string, React.ReactNode]>;
  numeric?: boolean;
  empty?: string;
}): JSX.Element {
  const { label, entries, numeric, empty } = props;
  if (entries.length === 0) {
    return <p className="jp-FraudJlab-muted">{empty ?? 'None.'}</p>;
  }
  return (
    <table className="jp-FraudJlab-kv" aria-label={label}>
      <tbody>
        {entries.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td className={numeric ? 'jp-mod-numeric' : undefined}>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function sortedEntries<T>(record: Record<string, T>): Array<[string, T]> {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

function Section(props: {
  title: string;
  children: React.ReactNode;
}): JSX.Element {
  const id = `jp-FraudJlab-section-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <section aria-labelledby={id}>
      <h3 id={id}>{props.title}</h3>
      {props.children}
    </section>
  );
}

function RunLink(props: {
  model: RunsModel;
  runId: string;
  name?: string;
}): JSX.Element {
  const { model, runId, name } = props;
  return (
    <button
      className="jp-FraudJlab-link"
      title={`Open run ${name ? `${name} ` : ''}(${runId})`}
      onClick={() => model.openRun(runId)}
    >
      {name ?? runId}
    </button>
  );
}

/** Names of the parent and the child runs (the detail only has their ids). */
function useLineage(
  model: RunsModel,
  run: IRunDetail
): { parent: IRunSummary | null; children: IRunSummary[] | null } {
  const [parent, setParent] = useState<IRunSummary | null>(null);
  const [children, setChildren] = useState<IRunSummary[] | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    const quote = (id: string): string => `'${id.replace(/'/g, "''")}'`;
    if (run.parent_run_id) {
      model.service
        .listRuns(
          { filter: `run_id = ${quote(run.parent_run_id)}`, maxResults: 1 },
          controller.signal
        )
        .then(
          page => setParent(page.runs[0] ?? null),
          () => undefined
        );
    }
    if (run.children.length > 0) {
      model.service
        .listRuns(
          {
            filter: `parent_run_id = ${quote(run.run_id)}`,
            orderBy: ['start_time ASC'],
            maxResults: 1000
          },
          controller.signal
        )
        .then(
          page => setChildren(page.runs),
          () => setChildren([])
        );
    }
    return () => controller.abort();
  }, [model, run]);
  return { parent, children };
}

/** Promote, only for runs it applies to; otherwise why not (and what to promote instead). */
function PromoteAction(props: {
  model: RunsModel;
  runId: string;
  commands: CommandRegistry;
}): JSX.Element | null {
  const { model, runId, commands } = props;
  const canPromoteCommand = useHasCommand(commands, CommandIDs.promoteRun);
  const [actions, setActions] = useState<IRunActions | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    setActions(null);
    model.service
      .getRunActions(runId, controller.signal)
      .then(setActions, () => undefined);
    return () => controller.abort();
  }, [model, runId]);
  if (!canPromoteCommand || actions === null) {
    return null;
  }
  if (actions.can_promote) {
    return (
      <button
        className="jp-FraudJlab-button jp-mod-accept"
        title="Promote this run's configuration to production"
        onClick={() => void commands.execute(CommandIDs.promoteRun, { runId })}
      >
        Promote…
      </button>
    );
  }
  return (
    <p className="jp-FraudJlab-muted jp-FraudJlab-noPromote" role="note">
      Not promotable: {actions.reason}{' '}
      {actions.suggested_run_id ? (
        <RunLink
          model={model}
          runId={actions.suggested_run_id}
          name={
            actions.suggested_run_name
              ? `Open ${actions.suggested_run_name}`
              : 'Open it'
          }
        />
      ) : null}
    </p>
  );
}

/** Start an A/B test with this run as challenger (when the A/B plugin is there). */
function StartABTestAction(props: {
  run: IRunDetail;
  commands: CommandRegistry;
}): JSX.Element | null {
  const { run, commands } = props;
  const available = useHasCommand(commands, CommandIDs.startABTest);
  if (!available || run.status !== 'completed') {
    return null;
  }
  return (
    <button
      className="jp-FraudJlab-button"
      title="Deploy this run's model as the challenger beside production's champion"
      onClick={() =>
        void commands.execute(CommandIDs.startABTest, {
          runId: run.run_id,
          runName: run.run_name
        })
      }
    >
      Start A/B test…
    </button>
  );
}

/**
 * Everything about one run: overview, params, metrics, tags, artifacts,
 * versions, dependencies and parent/children (click to navigate).
 */
export function RunDetailView(props: {
  model: RunsModel;
  runId: string;
  commands: CommandRegistry;
  /** Offer artifact downloads (off where the browser cannot save files). */
  downloads?: boolean;
}): JSX.Element {
  const { model, runId, commands, downloads = true } = props;
  const [state, setState] = useState<LoadState>({ kind: 'loading' });

  useEffect(() => {
    const controller = new AbortController();
    setState({ kind: 'loading' });
    model.service.getRun(runId, controller.signal).then(
      run => setState({ kind: 'loaded', run }),
      (error: unknown) => {
        if (controller.signal.aborted) {
          return;
        }
        const message =
          error instanceof APIError || error instanceof Error
            ? error.message
            : String(error);
        setState({ kind: 'error', message });
      }
    );
    return () => controller.abort();
  }, [model, runId]);

  const title = state.kind === 'loaded' ? state.run.run_name : runId;
  return (
    <div
      className="jp-FraudJlab-detail"
      role="region"
      aria-label={`Run ${title}`}
    >
      <div className="jp-FraudJlab-detailHeader">
        <button
          className="jp-FraudJlab-button"
          onClick={() => model.back()}
          title={
            model.detailStack.length > 1
              ? 'Back to the previous run'
              : 'Back to the runs table'
          }
        >
          ← Back
        </button>
        <h2 title={runId}>{title}</h2>
        {state.kind === 'loaded' ? (
          <PromoteAction
            model={model}
            runId={state.run.run_id}
            commands={commands}
          />
        ) : null}
        {state.kind === 'loaded' ? (
          <StartABTestAction run={state.run} commands={commands} />
        ) : null}
      </div>
      {state.kind === 'loading' ? (
        <p className="jp-FraudJlab-muted" aria-live="polite">
          Loading run…
        </p>
      ) : null}
      {state.kind === 'error' ? (
        <p className="jp-FraudJlab-error" role="alert">
          {state.message}
        </p>
      ) : null}
      {state.kind === 'loaded' ? (
        <RunDetailBody model={model} run={state.run} downloads={downloads} />
      ) : null}
    </div>
  );
}

function RunDetailBody(props: {
  model: RunsModel;
  run: IRunDetail;
  downloads: boolean;
}): JSX.Element {
  const { model, run, downloads } = props;
  const datasets = sortedEntries(run.datasets);
  const metrics = metricsWithCIs(run.metrics).sort((a, b) =>
    compareMetricNames(a.name, b.name)
  );
  const { parent, children } = useLineage(model, run);
  return (
    <>
      <Section title="Overview">
        <KeyValueTable
          label="Overview"
          entries={[
            ['Run id', run.run_id],
            ['Experiment', run.experiment_name],
            ['Status', run.status],
            ['User', run.user],
            ['Started', formatTime(run.start_time)],
            ['Ended', formatTime(run.end_time)],
            ['Duration', formatDuration(run.start_time, run.end_time)],
            ['Code version', run.code_version ?? '—'],
            ['Dataset version', run.dataset_version ?? '—'],
            ...datasets.map(([name, hash]): [string, React.ReactNode] => [
              `Dataset ${name}`,
              hash
            ])
          ]}
        />
      </Section>
      <Section title="Metrics">
        {metrics.length === 0 ? (
          <p className="jp-FraudJlab-muted">No metrics logged.</p>
        ) : (
          <table className="jp-FraudJlab-kv" aria-label="Metrics">
            <tbody>
              {metrics.map(metric => {
                const shown = formatWithCI(metric);
                const steps = run.metric_history[metric.name]?.length ?? 0;
                return (
                  <tr key={metric.name}>
                    <th scope="row">{metric.name}</th>
                    <td
                      className="jp-mod-numeric"
                      title={
                        String(metric.value) +
                        (metric.low !== null && metric.high !== null
                          ? ` (95% CI ${metric.low} to ${metric.high})`
                          : '')
                      }
                    >
                      {shown.value}
                    </td>
                    {shown.ci || steps > 1 ? (
                      <td className="jp-FraudJlab-ci">
                        {shown.ci ? `95% CI ${shown.ci}` : ''}
                        {steps > 1 ? (
                          <span className="jp-FraudJlab-muted">
                            {shown.ci ? ' · ' : ''}
                            {steps} steps
                          </span>
                        ) : null}
                      </td>
                    ) : null}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {fraudCountNote(run.metrics, run.tags) && (
          <p className="jp-FraudJlab-muted" aria-label="Interval basis">
            {fraudCountNote(run.metrics, run.tags)}
          </p>
        )}
        <MetricHistoryCharts history={run.metric_history} />
      </Section>
      <Section title="Parameters">
        <KeyValueTable
          label="Parameters"
          entries={sortedEntries(run.params)}
          empty="No parameters logged."
        />
      </Section>
      <Section title="Lineage">
        <KeyValueTable
          label="Lineage"
          entries={[
            [
              'Parent',
              run.parent_run_id ? (
                <RunLink
                  model={model}
                  runId={run.parent_run_id}
                  name={parent?.run_name}
                />
              ) : (
                '—'
              )
            ],
            [
              `Children (${run.children.length})`,
              run.children.length === 0 ? (
                '—'
              ) : (
                <ul aria-label="Child runs">
                  {(
                    children ??
                    run.children.map(
                      (id): Pick<IRunSummary, 'run_id' | 'run_name'> => ({
                        run_id: id,
                        run_name: id
                      })
                    )
                  ).map(child => (
                    <li key={child.run_id}>
                      <RunLink
                        model={model}
                        runId={child.run_id}
                        name={child.run_name}
                      />
                    </li>
                  ))}
                </ul>
              )
            ]
          ]}
        />
      </Section>
      <Section title="Artifacts">
        <ArtifactsSection
          service={model.service}
          runId={run.run_id}
          artifacts={run.artifacts}
          downloads={downloads}
        />
      </Section>
      <Section title="Tags">
        <KeyValueTable
          label="Tags"
          entries={sortedEntries(run.tags)}
          empty="No tags."
        />
      </Section>
      <Section title="Dependencies">
        <KeyValueTable
          label="Dependencies"
          entries={sortedEntries(run.dependencies)}
          empty="No dependencies recorded."
        />
      </Section>
    </>
  );
}
