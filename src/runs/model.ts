import { ISignal, Signal } from '@lumino/signaling';

import { IRunSummary, ITrackerStatus } from '../api';
import { APIError } from '../request';
import { IFraudJlabService } from '../tokens';

/** Sort direction sent to the server. */
export type SortDirection = 'ASC' | 'DESC';

/** The current server-side ordering of the runs table. */
export interface ISortState {
  /** An order_by key: `metrics.<name>`, or an attribute such as `start_time`. */
  key: string;
  direction: SortDirection;
}

/** Metric columns shown by default when the loaded runs have them. */
export const DEFAULT_METRIC_COLUMNS: readonly string[] = [
  'average_precision',
  'recall_at_fpr',
  'auc_roc',
  'f1_score',
  'accuracy'
];

/** How many runs one request may ask for (server limit). */
export const MAX_PAGE_SIZE = 1000;

/** Options of the runs model (from the plugin settings). */
export interface IRunsModelOptions {
  pageSize?: number;
  metricColumns?: readonly string[];
  /** Called with errors that are not filter errors (e.g. a notification). */
  onError?: (error: Error) => void;
  /**
   * A filter every request also applies (ANDed, never shown in the filter
   * box), e.g. `parent_run_id IS NULL` for a tree of top-level runs.
   */
  baseFilter?: string;
}

/**
 * State of the runs section: loaded pages, filter, ordering, selection and
 * the run detail navigation stack.
 *
 * Every request goes to the server; responses that arrive after a newer
 * request was started are dropped, so the table always shows the result of
 * the latest filter/order.
 */
export class RunsModel {
  constructor(
    readonly service: IFraudJlabService,
    options: IRunsModelOptions = {}
  ) {
    this._pageSize = clampPageSize(options.pageSize ?? 100);
    this._metricColumns = [
      ...(options.metricColumns ?? DEFAULT_METRIC_COLUMNS)
    ];
    this._onError = options.onError ?? (() => undefined);
    this._baseFilter = options.baseFilter ?? '';
  }

  /** The filter ANDed into every request (see {@link IRunsModelOptions.baseFilter}). */
  get baseFilter(): string {
    return this._baseFilter;
  }

  set baseFilter(value: string) {
    this._baseFilter = value.trim();
  }

  /** Emitted after any state change. */
  get changed(): ISignal<RunsModel, void> {
    return this._changed;
  }

  /** Emitted when the selected run ids change. */
  get selectionChanged(): ISignal<RunsModel, readonly string[]> {
    return this._selectionChanged;
  }

  /** Increases on every change (a snapshot key for React). */
  get version(): number {
    return this._version;
  }

  get runs(): readonly IRunSummary[] {
    return this._runs;
  }

  get total(): number {
    return this._total;
  }

  /** False when `total` is a lower bound (the tracker paged without counting every run). */
  get totalIsExact(): boolean {
    return this._totalIsExact;
  }

  get hasMore(): boolean {
    return this._nextPageToken !== null;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** True until the first page arrived (or failed). */
  get initialized(): boolean {
    return this._initialized;
  }

  /** The filter expression the shown runs match. */
  get filter(): string {
    return this._filter;
  }

  /** The server's message about the last rejected filter, or null. */
  get filterError(): string | null {
    return this._filterError;
  }

  /** The message of the last failed load (not a filter error), or null. */
  get loadError(): string | null {
    return this._loadError;
  }

  /** The tracker the server uses (backend, URI, reachability), once known. */
  get tracker(): ITrackerStatus | null {
    return this._tracker;
  }

  get sort(): ISortState | null {
    return this._sort;
  }

  get pageSize(): number {
    return this._pageSize;
  }

  set pageSize(value: number) {
    this._pageSize = clampPageSize(value);
  }

  get metricColumns(): readonly string[] {
    return this._metricColumns;
  }

  set metricColumns(value: readonly string[]) {
    this._metricColumns = [...value];
    this._emit();
  }

  /**
   * Metric columns to show: the configured metrics present in the loaded
   * runs, or every present metric when none of them is (or none configured).
   */
  get visibleMetrics(): readonly string[] {
    // Rendering asks on every scroll frame: compute once per state change.
    if (this._visibleMetrics?.version !== this._version) {
      this._visibleMetrics = {
        version: this._version,
        names: this._computeVisibleMetrics()
      };
    }
    return this._visibleMetrics.names;
  }

  private _computeVisibleMetrics(): string[] {
    const present = new Set<string>();
    for (const run of this._runs) {
      for (const name of Object.keys(run.metrics)) {
        present.add(name);
      }
    }
    if (this._sort?.key.startsWith('metrics.')) {
      present.add(this._sort.key.slice('metrics.'.length));
    }
    const configured = this._metricColumns.filter(name => present.has(name));
    if (configured.length > 0) {
      return configured;
    }
    return [...present].sort();
  }

  get selectedRunIds(): readonly string[] {
    return [...this._selected];
  }

  isSelected(runId: string): boolean {
    return this._selected.has(runId);
  }

  setSelected(runId: string, selected: boolean): void {
    const had = this._selected.has(runId);
    if (had === selected) {
      return;
    }
    if (selected) {
      this._selected.add(runId);
    } else {
      this._selected.delete(runId);
    }
    this._selectionChanged.emit(this.selectedRunIds);
    this._emit();
  }

  clearSelection(): void {
    if (this._selected.size === 0) {
      return;
    }
    this._selected.clear();
    this._selectionChanged.emit([]);
    this._emit();
  }

  /** Run ids of the detail navigation stack; the last one is shown. */
  get detailStack(): readonly string[] {
    return this._detailStack;
  }

  /** Show the detail of a run (pushed on the navigation stack). */
  openRun(runId: string): void {
    if (this._detailStack[this._detailStack.length - 1] === runId) {
      return;
    }
    this._detailStack = [...this._detailStack, runId];
    this._emit();
  }

  /** Go back one run, or to the table. */
  back(): void {
    this._detailStack = this._detailStack.slice(0, -1);
    this._emit();
  }

  /** Return to the table. */
  closeDetail(): void {
    this._detailStack = [];
    this._emit();
  }

  /**
   * Apply a filter expression (reloads from the first page).
   *
   * A filter the server rejects (400) leaves the shown runs and the applied
   * filter unchanged and sets `filterError` to the server's message.
   */
  async applyFilter(filter: string): Promise<void> {
    await this._load({
      filter: filter.trim(),
      sort: this._sort,
      append: false
    });
  }

  /**
   * Order by a column key: a new key starts descending for metrics (best
   * first) and ascending otherwise; the same key flips the direction.
   */
  async toggleSort(key: string): Promise<void> {
    let direction: SortDirection = key.startsWith('metrics.') ? 'DESC' : 'ASC';
    if (this._sort?.key === key) {
      direction = this._sort.direction === 'DESC' ? 'ASC' : 'DESC';
    }
    await this._load({
      filter: this._filter,
      sort: { key, direction },
      append: false
    });
  }

  /** Reload from the first page with the current filter and ordering. */
  async reload(): Promise<void> {
    await this._load({ filter: this._filter, sort: this._sort, append: false });
  }

  /**
   * Re-fetch what is loaded (at least one page) without losing the scroll
   * depth: used by the refresh command and the refresh timer.
   */
  async refresh(): Promise<void> {
    const count = Math.min(
      MAX_PAGE_SIZE,
      Math.max(this._pageSize, this._runs.length)
    );
    await this._load({
      filter: this._filter,
      sort: this._sort,
      append: false,
      maxResults: count
    });
  }

  /** Load the next page, if any and if no request is running. */
  async loadMore(): Promise<void> {
    if (this._loading || this._nextPageToken === null) {
      return;
    }
    await this._load({
      filter: this._filter,
      sort: this._sort,
      append: true,
      pageToken: this._nextPageToken
    });
  }

  dispose(): void {
    this._controller?.abort();
    Signal.clearData(this);
  }

  private async _load(request: {
    filter: string;
    sort: ISortState | null;
    append: boolean;
    pageToken?: string;
    maxResults?: number;
  }): Promise<void> {
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    const generation = ++this._generation;
    this._loading = true;
    this._emit();
    try {
      const filter =
        this._baseFilter && request.filter
          ? `(${this._baseFilter}) and (${request.filter})`
          : this._baseFilter || request.filter;
      const page = await this.service.listRuns(
        {
          filter,
          orderBy: request.sort
            ? [`${request.sort.key} ${request.sort.direction}`]
            : [],
          maxResults: request.maxResults ?? this._pageSize,
          pageToken: request.pageToken ?? null
        },
        controller.signal
      );
      if (generation !== this._generation) {
        return;
      }
      this._runs = request.append ? [...this._runs, ...page.runs] : page.runs;
      this._total = page.total;
      this._totalIsExact = page.total_is_exact ?? true;
      this._nextPageToken = page.next_page_token;
      this._filter = request.filter;
      this._sort = request.sort;
      this._filterError = null;
      this._loadError = null;
      if (this._tracker === null || !this._tracker.reachable) {
        await this._checkTracker();
      }
    } catch (error) {
      if (generation !== this._generation || isAbort(error)) {
        return;
      }
      if (error instanceof APIError && error.status === 400) {
        // The only client input of this request is the filter/order: show
        // the parser's message next to the filter box.
        this._filterError = error.message;
      } else {
        const err = error instanceof Error ? error : new Error(String(error));
        this._loadError = err.message;
        // Say which tracker failed and why, rather than only the HTTP status.
        const tracker = await this._checkTracker();
        if (tracker !== null && !tracker.reachable) {
          this._loadError = `tracker ${tracker.uri} (${tracker.backend}) is not reachable: ${tracker.error ?? 'no answer'}`;
        }
        this._onError(new Error(this._loadError));
      }
    } finally {
      if (generation === this._generation) {
        this._loading = false;
        this._initialized = true;
        this._controller = null;
        this._emit();
      }
    }
  }

  private _emit(): void {
    this._version++;
    this._changed.emit();
  }

  private _changed = new Signal<RunsModel, void>(this);
  private _selectionChanged = new Signal<RunsModel, readonly string[]>(this);
  private _version = 0;
  private _generation = 0;
  /** Fetch `GET tracker`; null when even that request fails. */
  private async _checkTracker(): Promise<ITrackerStatus | null> {
    try {
      this._tracker = await this.service.getTracker();
    } catch {
      return null;
    }
    return this._tracker;
  }

  private _controller: AbortController | null = null;
  private _runs: IRunSummary[] = [];
  private _total = 0;
  private _totalIsExact = true;
  private _nextPageToken: string | null = null;
  private _loading = false;
  private _initialized = false;
  private _filter = '';
  private _filterError: string | null = null;
  private _loadError: string | null = null;
  private _tracker: ITrackerStatus | null = null;
  private _sort: ISortState | null = null;
  private _pageSize: number;
  private _metricColumns: string[];
  private _selected = new Set<string>();
  private _detailStack: string[] = [];
  private _onError: (error: Error) => void;
  private _baseFilter: string;
  private _visibleMetrics: { version: number; names: string[] } | null = null;
}

function clampPageSize(value: number): number {
  if (!Number.isFinite(value)) {
    return 100;
  }
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Math.round(value)));
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}
