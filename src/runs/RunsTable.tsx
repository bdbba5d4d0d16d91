import React from 'react';

import { IRunSummary } from '../api';
import { formatMetric, formatTime } from './format';
import { RunsModel, ISortState } from './model';
import { usePagedRows } from './hooks';

/** Height of one table row in pixels (kept in sync with style/runs.css). */
export const ROW_HEIGHT = 28;

/** Load the next page when the last rendered row is this close to the end. */
const PREFETCH_ROWS = 30;

interface IColumn {
  /** order_by key of the column. */
  key: string;
  label: string;
  width: number;
  numeric?: boolean;
  render: (run: IRunSummary) => {
    text: string;
    title?: string;
    className?: string;
  };
}

function baseColumns(): IColumn[] {
  return [
    {
      key: 'run_name',
      label: 'Run',
      // With the select box and the first metric: readable in a ~250 px sidebar.
      width: 126,
      render: run => ({
        text: run.run_name,
        title: `${run.run_name} (${run.run_id})`
      })
    },
    {
      key: 'experiment',
      label: 'Experiment',
      width: 130,
      render: run => ({ text: run.experiment_name })
    },
    {
      key: 'status',
      label: 'Status',
      width: 84,
      render: run => ({
        text: run.status,
        className: `jp-FraudJlab-status-${run.status}`
      })
    },
    {
      key: 'start_time',
      label: 'Started',
      width: 124,
      render: run => ({
        text: formatTime(run.start_time),
        title: run.start_time
      })
    }
  ];
}

function metricColumn(name: string): IColumn {
  return {
    key: `metrics.${name}`,
    label: name,
    width: 92,
    numeric: true,
    render: run => {
      const value = run.metrics[name];
      return {
        text: formatMetric(value),
        title: value === undefined ? `no ${name}` : String(value)
      };
    }
  };
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

function sortMark(sort: ISortState | null, key: string): string {
  if (sort?.key !== key) {
    return '';
  }
  return sort.direction === 'ASC' ? ' ▲' : ' ▼';
}

/**
 * The virtualised runs table: only the rows in view (plus an overscan) are in
 * the DOM, and the next server page loads as the user nears the end.
 */
export function RunsTable(props: { model: RunsModel }): JSX.Element {
  const { model } = props;
  const runs = model.runs;
  const sort = model.sort;
  // Metrics come right after the run name: the sidebar is narrow, and they are what users scan.
  const [nameColumn, ...otherColumns] = baseColumns();
  const columns = [
    nameColumn,
    ...model.visibleMetrics.map(metricColumn),
    ...otherColumns
  ];
  const template = `32px ${columns.map(c => `${c.width}px`).join(' ')}`;
  // A new filter/order starts at the top.
  const { scrollRef, virtualizer } = usePagedRows({
    count: runs.length,
    rowHeight: ROW_HEIGHT,
    overscan: 12,
    prefetch: PREFETCH_ROWS,
    source: model,
    resetKeys: [model.filter, sort?.key, sort?.direction]
  });
  const items = virtualizer.getVirtualItems();

  return (
    <div
      className="jp-FraudJlab-table"
      ref={scrollRef}
      role="table"
      aria-label="Runs"
      aria-rowcount={model.total + 1}
      aria-busy={model.loading}
    >
      <div role="rowgroup" className="jp-FraudJlab-headerGroup">
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
          >
            {model.selectedRunIds.length > 0 ? (
              <input
                type="checkbox"
                checked
                aria-label="Clear selection"
                title="Clear selection"
                onChange={() => model.clearSelection()}
              />
            ) : null}
          </div>
          {columns.map(column => (
            <div
              key={column.key}
              role="columnheader"
              aria-sort={ariaSort(sort, column.key)}
              className={`jp-FraudJlab-cell${column.numeric ? ' jp-mod-numeric' : ''}`}
            >
              <button
                className="jp-FraudJlab-sortButton"
                title={`Sort by ${column.label}`}
                onClick={() => void model.toggleSort(column.key)}
              >
                {column.label}
                <span aria-hidden="true">{sortMark(sort, column.key)}</span>
              </button>
            </div>
          ))}
        </div>
      </div>
      <div
        role="rowgroup"
        style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
      >
        {items.map(item => {
          const run = runs[item.index];
          const selected = model.isSelected(run.run_id);
          return (
            <div
              key={run.run_id}
              role="row"
              aria-rowindex={item.index + 2}
              aria-selected={selected}
              tabIndex={0}
              className={`jp-FraudJlab-row jp-FraudJlab-bodyRow${selected ? ' jp-mod-selected' : ''}`}
              style={{
                gridTemplateColumns: template,
                transform: `translateY(${item.start}px)`
              }}
              onClick={() => model.openRun(run.run_id)}
              onKeyDown={event => {
                if (
                  event.key === 'Enter' &&
                  event.target === event.currentTarget
                ) {
                  model.openRun(run.run_id);
                }
              }}
            >
              <div role="cell" className="jp-FraudJlab-cell">
                <input
                  type="checkbox"
                  checked={selected}
                  aria-label={`Select ${run.run_name}`}
                  onClick={event => event.stopPropagation()}
                  onChange={event =>
                    model.setSelected(run.run_id, event.target.checked)
                  }
                />
              </div>
              {columns.map(column => {
                const cell = column.render(run);
                return (
                  <div
                    key={column.key}
                    role="cell"
                    title={cell.title ?? cell.text}
                    className={
                      'jp-FraudJlab-cell' +
                      (column.numeric ? ' jp-mod-numeric' : '') +
                      (cell.className ? ` ${cell.className}` : '')
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
      {model.initialized && runs.length === 0 && !model.loadError ? (
        <div className="jp-FraudJlab-muted">
          {model.filter ? 'No runs match the filter.' : 'No runs tracked yet.'}
        </div>
      ) : null}
      {model.loading ? (
        <div className="jp-FraudJlab-muted" aria-live="polite">
          Loading runs…
        </div>
      ) : null}
    </div>
  );
}
