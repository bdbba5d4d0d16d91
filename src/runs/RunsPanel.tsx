import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import React, { useState } from 'react';

import { CommandIDs } from '../tokens';
import { useHasCommand, useRunsModel } from './hooks';
import { RunsModel } from './model';
import { RunDetailView } from './RunDetail';
import { RunsTable } from './RunsTable';

const FILTER_ERROR_ID = 'jp-FraudJlab-filterError';
const FILTER_HELP =
  "e.g. metrics.auc_roc >= 0.9 and (params.max_depth = '6' or status = 'failed'). Enter applies.";

/** Filter box: Enter applies; the server's 400 message appears under it. */
export function FilterBox(props: { model: RunsModel }): JSX.Element {
  const { model } = props;
  const [text, setText] = useState(model.filter);
  const error = model.filterError;
  return (
    <div>
      <input
        className="jp-FraudJlab-filterInput"
        type="search"
        aria-label="Filter runs"
        placeholder="Filter runs, e.g. metrics.auc_roc >= 0.9"
        title={FILTER_HELP}
        value={text}
        spellCheck={false}
        aria-invalid={error !== null}
        aria-describedby={error !== null ? FILTER_ERROR_ID : undefined}
        onChange={event => setText(event.target.value)}
        onKeyDown={event => {
          if (event.key === 'Enter') {
            event.preventDefault();
            void model.applyFilter(text);
          }
        }}
      />
      {error !== null ? (
        <div id={FILTER_ERROR_ID} className="jp-FraudJlab-error" role="alert">
          {error}
        </div>
      ) : null}
    </div>
  );
}

function Toolbar(props: {
  model: RunsModel;
  commands: CommandRegistry;
}): JSX.Element {
  const { model, commands } = props;
  const selected = model.selectedRunIds;
  const canCompare = useHasCommand(commands, CommandIDs.compareRuns);
  const canOpenView = useHasCommand(commands, CommandIDs.openRunsView);
  const total = model.total;
  return (
    <div className="jp-FraudJlab-runsToolbar">
      <FilterBox model={model} />
      <div className="jp-FraudJlab-actions">
        <span
          className="jp-FraudJlab-count"
          role="status"
          aria-label="Run count"
        >
          {model.initialized
            ? `${total.toLocaleString('en-US')}${model.totalIsExact ? '' : '+'} run${total === 1 && model.totalIsExact ? '' : 's'}` +
              (selected.length > 0 ? ` · ${selected.length} selected` : '')
            : ''}
        </span>
        <button
          className="jp-FraudJlab-button"
          disabled={!canCompare || selected.length < 2}
          title={
            canCompare
              ? 'Compare the selected runs (select at least 2)'
              : 'Comparison is not available'
          }
          onClick={() =>
            void commands.execute(CommandIDs.compareRuns, {
              runIds: [...selected]
            })
          }
        >
          Compare
        </button>
        <button
          className="jp-FraudJlab-button"
          title="Reload runs from the server"
          onClick={() => void model.refresh()}
        >
          Refresh
        </button>
        {canOpenView ? (
          <button
            className="jp-FraudJlab-button"
            title="Open all runs in a full-width grid in the main area"
            onClick={() => void commands.execute(CommandIDs.openRunsView)}
          >
            Open grid
          </button>
        ) : null}
      </div>
    </div>
  );
}

/** The runs section: toolbar + table, or the detail of one run. */
export function RunsPanel(props: {
  model: RunsModel;
  commands: CommandRegistry;
}): JSX.Element {
  const { model, commands } = props;
  useRunsModel(model);
  const stack = model.detailStack;
  const current = stack.length > 0 ? stack[stack.length - 1] : null;
  return (
    <div className="jp-FraudJlab-runs" role="region" aria-label="Tracked runs">
      {current === null ? (
        <>
          <Toolbar model={model} commands={commands} />
          {model.tracker !== null ? (
            <div
              className="jp-FraudJlab-muted jp-FraudJlab-tracker"
              title={`Runs are tracked in ${model.tracker.uri}`}
            >
              Tracker: {model.tracker.backend} · {model.tracker.uri}
            </div>
          ) : null}
          {model.loadError !== null ? (
            <div className="jp-FraudJlab-error jp-FraudJlab-muted" role="alert">
              Could not load runs: {model.loadError}
            </div>
          ) : null}
          <RunsTable model={model} />
        </>
      ) : (
        <RunDetailView
          key={current}
          model={model}
          runId={current}
          commands={commands}
        />
      )}
    </div>
  );
}

/** Lumino widget hosting the runs section of the sidebar. */
export class RunsWidget extends ReactWidget {
  constructor(
    readonly model: RunsModel,
    private readonly _commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-FraudJlab-runsSection');
    this.title.label = 'Runs';
    this.title.caption = 'Tracked fraud-detection runs';
  }

  protected render(): JSX.Element {
    return <RunsPanel model={this.model} commands={this._commands} />;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }
}
