import { CommandRegistry } from '@lumino/commands';
import React, { useEffect, useState } from 'react';

import { IRunDetail } from '../api';
import { APIError } from '../request';
import { CommandIDs } from '../tokens';
import { CiSummary } from './CiSummary';
import { formatBytes, formatDuration, formatTime } from './format';
import { useHasCommand } from './hooks';
import { RunsModel } from './model';

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

function RunLink(props: { model: RunsModel; runId: string }): JSX.Element {
  return (
    <button
      className="jp-FraudJlab-link"
      title={`Open run ${props.runId}`}
      onClick={() => props.model.openRun(props.runId)}
    >
      {props.runId}
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
}): JSX.Element {
  const { model, runId, commands } = props;
  const [state, setState] = useState<LoadState>({ kind: 'loading' });
  const canPromote = useHasCommand(commands, CommandIDs.promoteRun);

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
        {canPromote && state.kind === 'loaded' ? (
          <button
            className="jp-FraudJlab-button jp-mod-accept"
            title="Promote this run's configuration to production"
            onClick={() =>
              void commands.execute(CommandIDs.promoteRun, { runId })
            }
          >
            Promote…
          </button>
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
        <RunDetailBody model={model} run={state.run} />
      ) : null}
    </div>
  );
}

function RunDetailBody(props: {
  model: RunsModel;
  run: IRunDetail;
}): JSX.Element {
  const { model, run } = props;
  const datasets = sortedEntries(run.datasets);
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
      <Section title="Parameters">
        <KeyValueTable
          label="Parameters"
          entries={sortedEntries(run.params)}
          empty="No parameters logged."
        />
      </Section>
      <Section title="Metrics">
        <KeyValueTable
          label="Metrics"
          numeric
          entries={sortedEntries(run.metrics).map(
            ([name, value]): [string, React.ReactNode] => {
              const steps = run.metric_history[name]?.length ?? 0;
              return [
                name,
                steps > 1 ? `${value} (${steps} steps)` : String(value)
              ];
            }
          )}
          empty="No metrics logged."
        />
        <CiSummary metrics={run.metrics} tags={run.tags} />
      </Section>
      <Section title="Tags">
        <KeyValueTable
          label="Tags"
          entries={sortedEntries(run.tags)}
          empty="No tags."
        />
      </Section>
      <Section title="Artifacts">
        <KeyValueTable
          label="Artifacts"
          entries={run.artifacts.map((artifact): [string, React.ReactNode] => [
            artifact.path,
            <span title={`sha256 ${artifact.sha256}`}>
              {formatBytes(artifact.size_bytes)} ·{' '}
              {artifact.is_output ? 'output' : 'input'}
            </span>
          ])}
          empty="No artifacts."
        />
      </Section>
      <Section title="Dependencies">
        <KeyValueTable
          label="Dependencies"
          entries={sortedEntries(run.dependencies)}
          empty="No dependencies recorded."
        />
      </Section>
      <Section title="Lineage">
        <KeyValueTable
          label="Lineage"
          entries={[
            [
              'Parent',
              run.parent_run_id ? (
                <RunLink model={model} runId={run.parent_run_id} />
              ) : (
                '—'
              )
            ],
            [
              `Children (${run.children.length})`,
              run.children.length === 0 ? (
                '—'
              ) : (
                <ul>
                  {run.children.map(child => (
                    <li key={child}>
                      <RunLink model={model} runId={child} />
                    </li>
                  ))}
                </ul>
              )
            ]
          ]}
        />
      </Section>
    </>
  );
}
