/**
 * TypeScript mirrors of the fraud_jlab REST models (see the server's
 * `GET openapi.json`). Datetimes are ISO 8601 strings in UTC.
 */

/** Lifecycle state of a tracked run. */
export type RunStatus = 'running' | 'completed' | 'failed';

/** A JSON value as the server sends it. */
export type JSONValue =
  string | number | boolean | null | JSONValue[] | { [key: string]: JSONValue };

/** A JSON object as the server sends it. */
export type JSONObject = { [key: string]: JSONValue };

/** Body of every error response (status >= 400). */
export interface IErrorBody {
  message: string;
  errors: string[];
  field: string | null;
}

/** A run as it appears in the runs table. */
export interface IRunSummary {
  run_id: string;
  experiment_name: string;
  run_name: string;
  status: RunStatus;
  start_time: string;
  end_time: string | null;
  user: string;
  parent_run_id: string | null;
  params: Record<string, string>;
  metrics: Record<string, number>;
  tags: Record<string, string>;
}

/** One file stored with a run. */
export interface IArtifactInfo {
  path: string;
  size_bytes: number;
  is_output: boolean;
  sha256: string;
}

/** Everything the tracker knows about one run (`GET runs/{id}`). */
export interface IRunDetail extends IRunSummary {
  code_version: string | null;
  dataset_version: string | null;
  datasets: Record<string, string>;
  dependencies: Record<string, string>;
  artifacts: IArtifactInfo[];
  children: string[];
  /** metric -> [[step, value], ...] */
  metric_history: Record<string, Array<[number, number]>>;
}

/** One page of `GET runs`. */
export interface IRunsPage {
  runs: IRunSummary[];
  next_page_token: string | null;
  total: number;
}

/** Query of `GET runs`. */
export interface IRunsQuery {
  /** Filter expression, e.g. `metrics.auc_roc >= 0.9 and status = 'completed'`. */
  filter?: string;
  /** Order keys, e.g. `['metrics.auc_roc DESC']`. */
  orderBy?: string[];
  /** 1..1000, server default 100. */
  maxResults?: number;
  pageToken?: string | null;
}

/** An experiment (a named group of runs). */
export interface IExperimentSummary {
  name: string;
  run_count: number;
  first_run_time: string | null;
  last_run_time: string | null;
}

/** `GET experiments`. */
export interface IExperimentsResponse {
  experiments: IExperimentSummary[];
}

/** `GET info`. */
export interface IServerInfo {
  version: string;
  settings: JSONObject;
  tracking_backend: string;
}

/** `GET tracker`: the tracker in use and whether it answers. */
export interface ITrackerStatus {
  backend: string;
  /** Tracking URI with credentials redacted. */
  uri: string;
  reachable: boolean;
  /** Why the tracker did not answer; null when reachable. */
  error: string | null;
}

// --- comparison ------------------------------------------------------------

/** `POST compare` body. */
export interface ICompareRequest {
  run_ids: string[];
  baseline_run_id?: string | null;
}

/** A Plotly figure as JSON (`fig.to_plotly_json()`). */
export interface IPlotlyFigure {
  data: JSONObject[];
  layout: JSONObject;
}

export interface ICompareRun {
  run_id: string;
  run_name: string;
  experiment_name: string;
  metrics: Record<string, number>;
  params: Record<string, string>;
}

export interface IMetricDelta {
  run_id: string;
  metric: string;
  value: number | null;
  baseline_value: number | null;
  delta: number | null;
  ci_low: number | null;
  ci_high: number | null;
  significant: boolean | null;
  /** True when both runs stored holdout scores on the same holdout. */
  paired: boolean;
}

/** `POST compare` response. */
export interface ICompareResult {
  runs: ICompareRun[];
  baseline_run_id: string | null;
  metric_names: string[];
  deltas: IMetricDelta[];
  figures: {
    metric_bars: IPlotlyFigure;
    roc: IPlotlyFigure | null;
    pr: IPlotlyFigure | null;
    parallel_coordinates: IPlotlyFigure | null;
  };
  notes: string[];
}

// --- promotions ------------------------------------------------------------

/** `POST promotions` body. */
export interface IPromotionRequest {
  run_id: string;
  /** Required for a real promotion; optional for a dry run. */
  reason?: string;
  trigger_pipeline?: boolean;
  dry_run?: boolean;
  force?: boolean;
}

export interface IGateResult {
  name: string;
  passed: boolean;
  detail: string;
  /** average_precision_vs_production: one-sided 95% lower bound of the paired AP difference. */
  lower_bound?: number | null;
  /** The non-inferiority margin: the gate passes when lower_bound > -margin. */
  margin?: number | null;
  /** Frauds in the holdout the gate's numbers come from. */
  n_pos?: number | null;
}

export interface ISsmDiffEntry {
  path: string;
  current: string | null;
  new: string;
  changed: boolean;
}

/** `POST promotions` with `dry_run: true` (200). */
export interface IPromotionPlan {
  run_id: string;
  hyperparameters: Record<string, string>;
  gates: IGateResult[];
  gates_passed: boolean;
  diff: {
    ssm: ISsmDiffEntry[];
    config: { current: JSONObject | null; new: JSONObject };
  };
}

/** Production state captured before/after a promotion. */
export interface IProductionSnapshot {
  ssm: Record<string, string | null>;
  config: JSONObject | null;
}

/** Ledger record kinds: Parameter Store changes and audited endpoint changes (`ab_*`). */
export type PromotionKind =
  | 'promotion'
  | 'rollback'
  | 'recovery'
  | 'ab_deploy'
  | 'ab_weights'
  | 'ab_promote'
  | 'ab_rollback'
  | 'ab_stop';

/** A SageMaker endpoint as an audited endpoint change records it. */
export interface IEndpointState {
  endpoint_name: string;
  config_name: string | null;
  /** Production variant name -> current weight. */
  weights?: Record<string, number>;
  shadow_variants?: string[];
}

/** A promotion ledger record. */
export interface IPromotionRecord {
  promotion_id: string;
  kind: PromotionKind;
  status: 'completed' | 'rolled_back' | 'failed';
  run_id: string;
  experiment_name: string | null;
  approver: string;
  reason: string;
  timestamp: string;
  forced: boolean;
  /** The failed gates a forced promotion overrode. */
  forced_gates?: string[];
  gates: IGateResult[];
  metrics: Record<string, number>;
  hyperparameters: Record<string, string>;
  before: IProductionSnapshot;
  after: IProductionSnapshot;
  parameter_store_backup_key: string;
  config_file_backup_key: string | null;
  pipeline_execution_arn: string | null;
  pipeline_status: string | null;
  failed_step: string | null;
  error: string | null;
  rollback_of: string | null;
  /** Rollbacks: 'after' restored the state rollback_of wrote; 'before' undid it. */
  rollback_target?: RollbackTarget | null;
  /** Endpoint changes (kind ab_*): the A/B test it belongs to. */
  ab_test_id?: string | null;
  /** Endpoint changes: the endpoint before the change. */
  endpoint_before?: IEndpointState | null;
  /** Endpoint changes: the endpoint after (completed) or the target (otherwise). */
  endpoint_after?: IEndpointState | null;
}

/** What a rollback restores: the state before a record (undo) or the state it wrote. */
export type RollbackTarget = 'before' | 'after';

/** The production state before fraud_jlab's first ledger record (its first backup). */
export interface IBaselineEntry {
  promotion_id: string;
  timestamp: string;
  state: IProductionSnapshot;
  parameter_store_backup_key: string;
  config_file_backup_key: string | null;
}

/** A promotion whose process died before writing its final record (or one in progress). */
export interface IUnfinishedAttempt {
  promotion_id: string;
  kind: PromotionKind;
  run_id: string;
  approver: string;
  started: string;
  message: string;
  /** True while its lock may be held by the live process (in progress). */
  live: boolean;
}

/** `GET promotions`. */
export interface IPromotionsPage {
  promotions: IPromotionRecord[];
  next_page_token: string | null;
  /** First page only: attempts without a final record (status in_progress). */
  in_progress?: IUnfinishedAttempt[];
  /** First page only: the state before fraud_jlab's first promotion (restorable). */
  baseline?: IBaselineEntry | null;
}

/** `POST production/recover` body. */
export interface IRecoverRequest {
  reason: string;
}

/** `POST production/recover`: each attempt's final record, then the recovery record. */
export interface IRecoverResponse {
  records: IPromotionRecord[];
}

/** `POST promotions/{id}/rollback` body. */
export interface IRollbackRequest {
  reason: string;
  /** 'after' (default): restore what the record wrote; 'before': undo it. */
  target?: RollbackTarget;
}

/** `GET production`. */
export interface IProductionState {
  ssm: Record<string, string | null>;
  config: JSONObject | null;
  promotion: IPromotionRecord | null;
  /** Attempts whose process died mid-promotion: production may be half-written. */
  unfinished?: IUnfinishedAttempt[];
}

// --- identity --------------------------------------------------------------

/** `GET identity`: who production changes made from this Lab are recorded as approved by. */
export interface IIdentity {
  /** Null when nobody is identified: only dry runs are allowed. */
  approver: string | null;
  source: 'jupyter' | 'sagemaker-studio' | 'config' | 'none';
  role_arn: string | null;
  can_change_production: boolean;
  /** Who approves, or how to set an identity. */
  message: string;
}

// --- run detail ------------------------------------------------------------

/** `GET runs/{id}/actions`: whether Promote applies to a run, and why not. */
export interface IRunActions {
  run_id: string;
  can_promote: boolean;
  reason: string;
  /** The run to promote instead (a tuning parent's refit run or best trial). */
  suggested_run_id: string | null;
  suggested_run_name: string | null;
}
