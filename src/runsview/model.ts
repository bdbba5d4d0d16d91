import { ISignal, Signal } from '@lumino/signaling';

import { IRunSummary } from '../api';
import { RunsModel } from '../runs/model';
import { CI_HIGH_SUFFIX, CI_LOW_SUFFIX } from '../runs/precision';
import { IFraudJlabService } from '../tokens';
import { IColumnConfig, normalizeColumns } from './columns';

/** Top-level runs only: trials appear under their parent when it is expanded. */
export const TOP_LEVEL_FILTER = 'parent_run_id IS NULL';

/** One visible row of the grid. */
export interface IGridRow {
  run: IRunSummary;
  depth: number;
  /** Number of child runs (trials) known, 0 for none. */
  childCount: number;
  expanded: boolean;
  /** Set on a placeholder row while children load. */
  loading?: boolean;
}

function quote(id: string): string {
  return `'${id.replace(/'/g, "''")}'`;
}

/** How many child runs one request may list (server limit). */
const MAX_CHILDREN = 1000;

/**
 * State of the main-area runs grid: the server-paged top-level runs (a
 * {@link RunsModel}), their children on demand, the run in production and
 * the column configuration.
 */
export class RunsGridModel {
  constructor(
    readonly service: IFraudJlabService,
    options: {
      pageSize?: number;
      columns?: readonly IColumnConfig[];
      onError?: (error: Error) => void;
      onColumnsChanged?: (columns: IColumnConfig[]) => void;
    } = {}
  ) {
    this.runs = new RunsModel(service, {
      pageSize: options.pageSize ?? 200,
      baseFilter: TOP_LEVEL_FILTER,
      onError: options.onError
    });
    this._storedColumns = [...(options.columns ?? [])];
    this._onColumnsChanged = options.onColumnsChanged ?? (() => undefined);
    this.runs.changed.connect(this._onRunsChanged, this);
    service.productionChanged.connect(this._onProductionChanged, this);
  }

  /** The paged top-level runs (filter, sort, paging, detail navigation). */
  readonly runs: RunsModel;

  /** Emitted after any change of rows, columns or production. */
  get changed(): ISignal<RunsGridModel, void> {
    return this._changed;
  }

  get version(): number {
    return this._version;
  }

  /** Id of the run whose configuration is live, if known. */
  get productionRunId(): string | null {
    return this._productionRunId;
  }

  /** The columns to show, in order (hidden ones included, flagged). */
  get columns(): IColumnConfig[] {
    if (this._columnsCache?.version !== this._version) {
      this._columnsCache = {
        version: this._version,
        columns: normalizeColumns(this._storedColumns, this._presentMetrics())
      };
    }
    return this._columnsCache.columns;
  }

  /** Replace the column configuration (stored in the settings by the owner). */
  setColumns(columns: IColumnConfig[]): void {
    this._storedColumns = columns.map(c => ({ ...c }));
    this._emit();
    this._onColumnsChanged(this._storedColumns);
  }

  /** Apply a configuration read from the settings (does not write it back). */
  applyStoredColumns(columns: readonly IColumnConfig[]): void {
    this._storedColumns = [...columns];
    this._emit();
  }

  /** Rows in display order: each top-level run, then its children when expanded. */
  get rows(): readonly IGridRow[] {
    if (this._rowsCache?.version !== this._version) {
      const rows: IGridRow[] = [];
      for (const run of this.runs.runs) {
        const children = this._children.get(run.run_id);
        const expanded = this._expanded.has(run.run_id);
        rows.push({
          run,
          depth: 0,
          childCount: this._childCounts.get(run.run_id) ?? 0,
          expanded
        });
        if (!expanded) {
          continue;
        }
        if (children === undefined) {
          rows.push({
            run,
            depth: 1,
            childCount: 0,
            expanded: false,
            loading: true
          });
          continue;
        }
        for (const child of children) {
          rows.push({ run: child, depth: 1, childCount: 0, expanded: false });
        }
      }
      this._rowsCache = { version: this._version, rows };
    }
    return this._rowsCache.rows;
  }

  isExpanded(runId: string): boolean {
    return this._expanded.has(runId);
  }

  /** Expand or collapse a parent run (children load on first expand). */
  async toggle(runId: string): Promise<void> {
    if (this._expanded.has(runId)) {
      this._expanded.delete(runId);
      this._emit();
      return;
    }
    this._expanded.add(runId);
    this._emit();
    if (this._children.has(runId)) {
      return;
    }
    try {
      const page = await this.service.listRuns({
        filter: `parent_run_id = ${quote(runId)}`,
        orderBy: ['start_time ASC'],
        maxResults: MAX_CHILDREN
      });
      this._children.set(runId, page.runs);
    } catch {
      // Shown as a parent without trials; the next expand retries.
      this._expanded.delete(runId);
    }
    this._emit();
  }

  /** Reload the run in production (after a change made elsewhere). */
  async refreshProduction(): Promise<void> {
    try {
      const state = await this.service.getProduction();
      const runId = state.promotion?.run_id ?? null;
      if (runId !== this._productionRunId) {
        this._productionRunId = runId;
        this._emit();
      }
    } catch {
      // No production state (no AWS): no marker.
    }
  }

  dispose(): void {
    this.runs.dispose();
    Signal.clearData(this);
  }

  private _presentMetrics(): string[] {
    const present = new Set<string>();
    for (const run of this.runs.runs) {
      for (const name of Object.keys(run.metrics)) {
        present.add(name);
      }
    }
    return [...present].filter(name => {
      for (const suffix of [CI_LOW_SUFFIX, CI_HIGH_SUFFIX]) {
        if (
          name.endsWith(suffix) &&
          present.has(name.slice(0, -suffix.length))
        ) {
          return false;
        }
      }
      return true;
    });
  }

  private _onRunsChanged(): void {
    this._emit();
    void this._countChildren();
  }

  private _onProductionChanged(): void {
    void this.refreshProduction();
    void this.runs.refresh();
  }

  /** Which loaded top-level runs have children: one search per new page. */
  private async _countChildren(): Promise<void> {
    const unknown = this.runs.runs
      .map(run => run.run_id)
      .filter(id => !this._counted.has(id));
    if (unknown.length === 0) {
      return;
    }
    for (const id of unknown) {
      this._counted.add(id);
    }
    for (let start = 0; start < unknown.length; start += 200) {
      const ids = unknown.slice(start, start + 200);
      try {
        const page = await this.service.listRuns({
          filter: `parent_run_id IN (${ids.map(quote).join(', ')})`,
          maxResults: MAX_CHILDREN
        });
        let changed = false;
        for (const child of page.runs) {
          const parent = child.parent_run_id;
          if (parent) {
            this._childCounts.set(
              parent,
              (this._childCounts.get(parent) ?? 0) + 1
            );
            changed = true;
          }
        }
        if (changed) {
          this._emit();
        }
      } catch {
        for (const id of ids) {
          this._counted.delete(id);
        }
      }
    }
  }

  private _emit(): void {
    this._version++;
    this._changed.emit();
  }

  private _changed = new Signal<RunsGridModel, void>(this);
  private _version = 0;
  private _storedColumns: IColumnConfig[];
  private _onColumnsChanged: (columns: IColumnConfig[]) => void;
  private _columnsCache: { version: number; columns: IColumnConfig[] } | null =
    null;
  private _rowsCache: { version: number; rows: IGridRow[] } | null = null;
  private _productionRunId: string | null = null;
  private _expanded = new Set<string>();
  private _children = new Map<string, IRunSummary[]>();
  private _childCounts = new Map<string, number>();
  private _counted = new Set<string>();
}
