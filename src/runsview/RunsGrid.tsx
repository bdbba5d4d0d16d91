import { ReactWidget } from '@jupyterlab/ui-components';
import { CommandRegistry } from '@lumino/commands';
import React, { useState, useSyncExternalStore } from 'react';

import { IRunSummary } from '../api';
import { formatTime } from '../runs/format';
import { usePagedRows, useRunsModel } from '../runs/hooks';
import { ISortState } from '../runs/model';
import {
  CI_HIGH_SUFFIX,
  CI_LOW_SUFFIX,
  decimalsForWidth,
  formatNumber
} from '../runs/precision';
import { RunDetailView } from '../runs/RunDetail';
import { FilterBox } from '../runs/RunsPanel';
import { CommandIDs } from '../tokens';
import {
  IColumnConfig,
  MAX_COLUMN_WIDTH,
  MIN_COLUMN_WIDTH,
  columnLabel,
  moveColumn,
  shiftColumn
} from './columns';
import { IGridRow, RunsGridModel } from './model';

/** Row height in pixels (style/runsview.css). */
export const GRID_ROW_HEIGHT = 28;
const PREFETCH_ROWS = 40;
const SELECT_WIDTH = 32;
/** dataTransfer type of a dragged column header. */
const COLUMN_DRAG_TYPE = 'application/x-fraud-jlab-column';

function useGridModel(model: RunsGridModel): number {
  return useSyncExternalStore(
    onChange => {
      const slot = (): void => onChange();
      model.changed.connect(slot);
      return () => {
        model.changed.disconnect(slot);
      };
    },
    () => model.version
  );
}

function metricCell(
  run: IRunSummary,
  name: string
): { text: string; title: string } {
  const value = run.metrics[name];
  if (value === undefined) {
    return { text: '', title: `no ${name}` };
  }
  const low = run.metrics[`${name}${CI_LOW_SUFFIX}`];
  const high = run.metrics[`${name}${CI_HIGH_SUFFIX}`];
  if (low === undefined || high === undefined) {
    return { text: formatNumber(value), title: `${name} ${value}` };
  }
  const decimals = decimalsForWidth(Math.abs(high - low));
  return {
    text: formatNumber(value, decimals),
    title:
      `${name} ${formatNumber(value, decimals)} ` +
      `(95% CI ${formatNumber(low, decimals)}–${formatNumber(high, decimals)})`
  };
}

function attributeCell(
  run: IRunSummary,
  key: string
): { text: string; title?: string; className?: string } {
  switch (key) {
    case 'status':
      return {
        text: run.status,
        className: `jp-FraudJlab-status-${run.status}`
      };
    case 'experiment':
      return { text: run.experiment_name };
    case 'start_time':
      return { text: formatTime(run.start_time), title: run.start_time };
    case 'user':
      return { text: run.user };
    default:
      return { text: '' };
  }
}

function ariaSort(
  sort: ISortState | null,
  key: string
): 'ascending' | 'descending' | 'none' {
  if (sort?.key !== key) {
    return 'none';
  }
  return sort.direction === 'ASC' ? 'ascending' : 'descending';
}

/** Show/hide columns; the order and widths are changed in the header. */
function ColumnChooser(props: {
  model: RunsGridModel;
  onClose: () => void;
}): JSX.Element {
  const { model, onClose } = props;
  const columns = model.columns;
  return (
    <div
      className="jp-FraudJlab-columnChooser"
      role="group"
      aria-label="Columns"
    >
      {columns.map(column => (
        <label key={column.key} className="jp-FraudJlab-check">
          <input
            type="checkbox"
            checked={!column.hidden}
            disabled={column.key === 'run_name'}
            onChange={event =>
              model.setColumns(
                columns.map(c =>
                  c.key === column.key
                    ? { ...c, hidden: !event.target.checked }
                    : c
                )
              )
            }
          />
          {columnLabel(column.key)}
        </label>
      ))}
      <button
        className="jp-FraudJlab-button"
        onClick={() => model.setColumns([])}
        title="Default columns: fraud metrics first, accuracy last"
      >
        Reset
      </button>
      <button className="jp-FraudJlab-button" onClick={onClose}>
        Done
      </button>
    </div>
  );
}

function HeaderCell(props: {
  model: RunsGridModel;
  column: IColumnConfig;
  sort: ISortState | null;
  dragged: string | null;
  setDragged: (key: string | null) => void;
  onResize: (key: string, width: number, commit: boolean) => void;
}): JSX.Element {
  const { model, column, sort, dragged, setDragged, onResize } = props;
  const label = columnLabel(column.key);
  const numeric = column.key.startsWith('metrics.');
  const sortKey = column.key === 'experiment' ? 'experiment' : column.key;
  return (
    <div
      role="columnheader"
      aria-sort={ariaSort(sort, sortKey)}
      className={`jp-FraudJlab-cell jp-FraudJlab-gridHeader${numeric ? ' jp-mod-numeric' : ''}${dragged === column.key ? ' jp-mod-dragging' : ''}`}
      draggable
      data-column={column.key}
      onDragStart={event => {
        setDragged(column.key);
        event.dataTransfer.effectAllowed = 'move';
        event.dataTransfer.setData(COLUMN_DRAG_TYPE, column.key);
      }}
      onDragOver={event => {
        // Accept only a column header being dragged (not files or text from elsewhere).
        if (event.dataTransfer.types.includes(COLUMN_DRAG_TYPE)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = 'move';
        }
      }}
      onDrop={event => {
        event.preventDefault();
        const from = event.dataTransfer.getData(COLUMN_DRAG_TYPE) || dragged;
        setDragged(null);
        if (from && from !== column.key) {
          model.setColumns(moveColumn(model.columns, from, column.key));
        }
      }}
      onDragEnd={() => setDragged(null)}
    >
      <button
        className="jp-FraudJlab-sortButton"
        title={`Sort by ${label} (drag, or Alt+←/→, to reorder)`}
        aria-keyshortcuts="Alt+ArrowLeft Alt+ArrowRight"
        onClick={() => void model.runs.toggleSort(sortKey)}
        onKeyDown={event => {
          if (
            event.altKey &&
            (event.key === 'ArrowLeft' || event.key === 'ArrowRight')
          ) {
            event.preventDefault();
            model.setColumns(
              shiftColumn(
                model.columns,
                column.key,
                event.key === 'ArrowLeft' ? -1 : 1
              )
            );
          }
        }}
      >
        {label}
        <span aria-hidden="true">
          {sort?.key === sortKey
            ? sort.direction === 'ASC'
              ? ' ▲'
              : ' ▼'
            : ''}
        </span>
      </button>
      <div
        role="separator"
        aria-orientation="vertical"
        aria-label={`Resize ${label}`}
        aria-valuenow={column.width}
        aria-valuemin={MIN_COLUMN_WIDTH}
        aria-valuemax={MAX_COLUMN_WIDTH}
        tabIndex={0}
        className="jp-FraudJlab-resizeHandle"
        onKeyDown={event => {
          const step = event.shiftKey ? 40 : 10;
          if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
            event.preventDefault();
            onResize(
              column.key,
              column.width + (event.key === 'ArrowRight' ? step : -step),
              true
            );
          }
        }}
        onPointerDown={event => {
          event.preventDefault();
          event.stopPropagation();
          const startX = event.clientX;
          const startWidth = column.width;
          const target = event.currentTarget;
          target.setPointerCapture(event.pointerId);
          const move = (e: PointerEvent): void =>
            onResize(column.key, startWidth + e.clientX - startX, false);
          const up = (e: PointerEvent): void => {
            target.removeEventListener('pointermove', move);
            target.removeEventListener('pointerup', up);
            onResize(column.key, startWidth + e.clientX - startX, true);
          };
          target.addEventListener('pointermove', move);
          target.addEventListener('pointerup', up);
        }}
      />
    </div>
  );
}

function NameCell(props: {
  model: RunsGridModel;
  row: IGridRow;
  inProduction: boolean;
}): JSX.Element {
  const { model, row, inProduction } = props;
  const { run } = row;
  return (
    <div
      role="cell"
      className="jp-FraudJlab-cell jp-FraudJlab-nameCell"
      style={{ paddingLeft: 4 + row.depth * 18 }}
      title={`${run.run_name} (${run.run_id})`}
    >
      {row.childCount > 0 ? (
        <button
          className="jp-FraudJlab-expander"
          aria-label={`${row.expanded ? 'Collapse' : 'Expand'} ${run.run_name}`}
          aria-expanded={row.expanded}
          onClick={event => {
            event.stopPropagation();
            void model.toggle(run.run_id);
          }}
        >
          {row.expanded ? '▾' : '▸'}
        </button>
      ) : (
        <span className="jp-FraudJlab-expanderSpace" aria-hidden="true" />
      )}
      <span className="jp-FraudJlab-runName">{run.run_name}</span>
      {row.childCount > 0 ? (
        <span className="jp-FraudJlab-muted"> ({row.childCount} trials)</span>
      ) : null}
      {inProduction ? (
        <span
          className="jp-FraudJlab-productionMark"
          role="img"
          aria-label="In production"
          title="This run's configuration is live in production"
        >
          ● production
        </span>
      ) : null}
    </div>
  );
}

/** The full-width runs grid: configurable columns, tree of trials, server paging. */
export function RunsGrid(props: {
  model: RunsGridModel;
  commands: CommandRegistry;
}): JSX.Element {
  const { model, commands } = props;
  useGridModel(model);
  useRunsModel(model.runs);
  const runs = model.runs;
  const rows = model.rows;
  const sort = runs.sort;
  const [chooser, setChooser] = useState(false);
  const [dragged, setDragged] = useState<string | null>(null);
  const [liveWidths, setLiveWidths] = useState<Record<string, number>>({});

  const visible = model.columns
    .filter(c => !c.hidden)
    .map(c => ({ ...c, width: liveWidths[c.key] ?? c.width }));
  const template = `${SELECT_WIDTH}px ${visible.map(c => `${c.width}px`).join(' ')}`;
  const totalWidth =
    SELECT_WIDTH + visible.reduce((sum, c) => sum + c.width, 0);

  const onResize = (key: string, width: number, commit: boolean): void => {
    const clamped = Math.round(
      Math.min(MAX_COLUMN_WIDTH, Math.max(MIN_COLUMN_WIDTH, width))
    );
    if (commit) {
      setLiveWidths({});
      model.setColumns(
        model.columns.map(c => (c.key === key ? { ...c, width: clamped } : c))
      );
    } else {
      setLiveWidths(widths => ({ ...widths, [key]: clamped }));
    }
  };

  const { scrollRef, virtualizer } = usePagedRows({
    count: rows.length,
    rowHeight: GRID_ROW_HEIGHT,
    overscan: 8,
    prefetch: PREFETCH_ROWS,
    source: runs,
    resetKeys: [runs.filter, sort?.key, sort?.direction]
  });
  const items = virtualizer.getVirtualItems();

  const selected = runs.selectedRunIds;
  const stack = runs.detailStack;
  const current = stack.length > 0 ? stack[stack.length - 1] : null;
  const productionRunId = model.productionRunId;

  return (
    <div
      className={`jp-FraudJlab-runsView${current ? ' jp-mod-withDetail' : ''}`}
      role="region"
      aria-label="Runs view"
    >
      <div className="jp-FraudJlab-gridPane">
        <div className="jp-FraudJlab-runsToolbar jp-FraudJlab-gridToolbar">
          <FilterBox model={runs} />
          <div className="jp-FraudJlab-actions">
            <span
              className="jp-FraudJlab-count"
              role="status"
              aria-label="Top-level run count"
            >
              {runs.initialized
                ? `${runs.total.toLocaleString('en-US')} top-level run${runs.total === 1 ? '' : 's'}` +
                  (selected.length > 0 ? ` · ${selected.length} selected` : '')
                : ''}
            </span>
            <button
              className="jp-FraudJlab-button"
              aria-expanded={chooser}
              onClick={() => setChooser(!chooser)}
            >
              Columns
            </button>
            <button
              className="jp-FraudJlab-button"
              disabled={
                selected.length < 2 ||
                !commands.hasCommand(CommandIDs.compareRuns)
              }
              title="Compare the selected runs (select at least 2)"
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
              title="Reload runs and the production marker"
              onClick={() => {
                void runs.refresh();
                void model.refreshProduction();
              }}
            >
              Refresh
            </button>
          </div>
          {chooser ? (
            <ColumnChooser model={model} onClose={() => setChooser(false)} />
          ) : null}
        </div>
        {runs.loadError !== null ? (
          <div className="jp-FraudJlab-error" role="alert">
            Could not load runs: {runs.loadError}
          </div>
        ) : null}
        <div
          className="jp-FraudJlab-table jp-FraudJlab-grid"
          ref={scrollRef}
          role="treegrid"
          aria-label="Runs grid"
          aria-rowcount={runs.total + 1}
          aria-busy={runs.loading}
        >
          <div
            role="rowgroup"
            className="jp-FraudJlab-headerGroup"
            style={{ width: totalWidth }}
          >
            <div
              role="row"
              aria-rowindex={1}
              className="jp-FraudJlab-row jp-FraudJlab-headerRow"
              style={{ gridTemplateColumns: template }}
            >
              <div
                role="columnheader"
                className="jp-FraudJlab-cell"
                aria-label="Selected"
              />
              {visible.map(column => (
                <HeaderCell
                  key={column.key}
                  model={model}
                  column={column}
                  sort={sort}
                  dragged={dragged}
                  setDragged={setDragged}
                  onResize={onResize}
                />
              ))}
            </div>
          </div>
          <div
            role="rowgroup"
            style={{
              height: virtualizer.getTotalSize(),
              width: totalWidth,
              position: 'relative'
            }}
          >
            {items.map(item => {
              const row = rows[item.index];
              const run = row.run;
              const isSelected = runs.isSelected(run.run_id);
              if (row.loading) {
                return (
                  <div
                    key={`${run.run_id}-loading`}
                    role="row"
                    className="jp-FraudJlab-row jp-FraudJlab-bodyRow jp-FraudJlab-muted"
                    style={{ transform: `translateY(${item.start}px)` }}
                  >
                    <div role="cell" className="jp-FraudJlab-cell">
                      Loading trials…
                    </div>
                  </div>
                );
              }
              return (
                <div
                  key={`${row.depth}-${run.run_id}`}
                  role="row"
                  aria-level={row.depth + 1}
                  aria-expanded={row.childCount > 0 ? row.expanded : undefined}
                  aria-selected={isSelected}
                  aria-rowindex={item.index + 2}
                  tabIndex={0}
                  className={
                    'jp-FraudJlab-row jp-FraudJlab-bodyRow' +
                    (isSelected ? ' jp-mod-selected' : '') +
                    (run.run_id === current ? ' jp-mod-current' : '') +
                    (run.run_id === productionRunId ? ' jp-mod-production' : '')
                  }
                  style={{
                    gridTemplateColumns: template,
                    transform: `translateY(${item.start}px)`
                  }}
                  onClick={() => runs.openRun(run.run_id)}
                  onKeyDown={event => {
                    if (event.target !== event.currentTarget) {
                      return;
                    }
                    if (event.key === 'Enter') {
                      runs.openRun(run.run_id);
                    } else if (
                      row.childCount > 0 &&
                      ((event.key === 'ArrowRight' && !row.expanded) ||
                        (event.key === 'ArrowLeft' && row.expanded))
                    ) {
                      void model.toggle(run.run_id);
                    }
                  }}
                >
                  <div role="cell" className="jp-FraudJlab-cell">
                    <input
                      type="checkbox"
                      checked={isSelected}
                      aria-label={`Select ${run.run_name}`}
                      onClick={event => event.stopPropagation()}
                      onChange={event =>
                        runs.setSelected(run.run_id, event.target.checked)
                      }
                    />
                  </div>
                  {visible.map(column => {
                    if (column.key === 'run_name') {
                      return (
                        <NameCell
                          key={column.key}
                          model={model}
                          row={row}
                          inProduction={run.run_id === productionRunId}
                        />
                      );
                    }
                    const metric = column.key.startsWith('metrics.');
                    const cell = metric
                      ? metricCell(run, column.key.slice('metrics.'.length))
                      : attributeCell(run, column.key);
                    return (
                      <div
                        key={column.key}
                        role="cell"
                        title={cell.title ?? cell.text}
                        className={
                          'jp-FraudJlab-cell' +
                          (metric ? ' jp-mod-numeric' : '') +
                          ('className' in cell && cell.className
                            ? ` ${cell.className}`
                            : '')
                        }
                      >
                        {cell.text}
                      </div>
                    );
                  })}
                </div>
              );
            })}
          </div>
          {runs.initialized && rows.length === 0 && !runs.loadError ? (
            <div className="jp-FraudJlab-muted">
              {runs.filter
                ? 'No runs match the filter.'
                : 'No runs tracked yet.'}
            </div>
          ) : null}
        </div>
      </div>
      {current !== null ? (
        <div className="jp-FraudJlab-detailPane">
          <RunDetailView
            key={current}
            model={runs}
            runId={current}
            commands={commands}
          />
        </div>
      ) : null}
    </div>
  );
}

/** Main-area widget of the runs grid. */
export class RunsGridWidget extends ReactWidget {
  constructor(
    readonly model: RunsGridModel,
    private readonly _commands: CommandRegistry
  ) {
    super();
    this.addClass('jp-FraudJlab-runsViewWidget');
  }

  protected render(): JSX.Element {
    return <RunsGrid model={this.model} commands={this._commands} />;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    super.dispose();
  }
}
