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
  /** Matching runs; a lower bound when `total_is_exact` is false (a remote tracker paged). */
  total: number;
  /** False when the tracker did not count every match (absent from older servers: exact). */
  total_is_exact?: boolean;
  /** The part of the filter the tracking service could not evaluate (the backend did); null when none. */
  client_side_filter: string | null;
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
export interface IInfoResponse {
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

export interface IComparedRun {
  run_id: string;
  run_name: string;
  experiment_name: string;
  metrics: Record<string, number>;
  params: Record<string, string>;
}

export interface IMetricDelta {
  run_id: string;
  metric: string;
  value: number;
  baseline_value: number;
  delta: number;
  ci_low: number | null;
  ci_high: number | null;
  significant: boolean | null;
  /** True when both runs stored holdout scores on the same holdout. */
  paired: boolean;
  /** How the CI / p-value was computed; null when not paired. */
  method: 'delong' | 'paired_bootstrap' | null;
  /** The primary metric is tested; secondary ones are Holm-adjusted; the rest are descriptive. */
  role: 'primary' | 'secondary' | 'descriptive';
  p_value: number | null;
  p_adjusted: number | null;
}

/** The figures of `POST compare` (null when the runs lack the data for one). */
export interface ICompareFigures {
  metric_bars: IPlotlyFigure;
  roc: IPlotlyFigure | null;
  pr: IPlotlyFigure | null;
  parallel_coordinates: IPlotlyFigure | null;
}

/** `POST compare` response. */
export interface ICompareResult {
  runs: IComparedRun[];
  baseline_run_id: string | null;
  metric_names: string[];
  deltas: IMetricDelta[];
  /** The metric the comparison's test is about (e.g. average_precision). */
  primary_metric: string;
  figures: ICompareFigures;
  notes: string[];
}

// --- promotions ------------------------------------------------------------

/** `POST promotions` body. */
export interface IPromotionRequest {
  run_id: string;
  /** The run's experiment, when the client knows it (saves a lookup). */
  experiment_name?: string | null;
  /** Required for a real promotion; optional for a dry run. */
  reason?: string;
  trigger_pipeline?: boolean;
  dry_run?: boolean;
  force?: boolean;
}

export interface IGate {
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

export interface ISsmDiff {
  path: string;
  current: string | null;
  new: string;
  changed: boolean;
}

/** `POST promotions` with `dry_run: true` (200). */
export interface IPromotionPlan {
  run_id: string;
  hyperparameters: Record<string, string>;
  gates: IGate[];
  gates_passed: boolean;
  diff: IPlanDiff;
}

/** What a promotion would change. */
export interface IPlanDiff {
  ssm: ISsmDiff[];
  config: IConfigDiff;
}

/** The production config file now and after the promotion. */
export interface IConfigDiff {
  current: JSONObject | null;
  new: JSONObject;
}

/** Production state captured before/after a promotion. */
export interface IProductionState {
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
  gates: IGate[];
  metrics: Record<string, number>;
  hyperparameters: Record<string, string>;
  before: IProductionState;
  after: IProductionState;
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
  state: IProductionState;
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
export interface IProductionView {
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

// --- A/B tests -------------------------------------------------------------

/** Lifecycle of an A/B test. */
export type ABTestStatus = 'running' | 'completed' | 'rolled_back' | 'stopped';

/** The actions of an A/B test's history. */
export type ABTestAction =
  'start' | 'advance' | 'promote' | 'rollback' | 'stop';

/** The audited changes of a running (or completed) A/B test. */
export type ABTestChangeAction = 'advance' | 'promote' | 'rollback' | 'stop';

/** One action on an A/B test (stored once, never overwritten). */
export interface IABTestEvent {
  event_id: string;
  action: ABTestAction;
  approver: string;
  reason: string;
  /** When the change was done (the endpoint verified). */
  timestamp: string;
  /** When the endpoint change began (the SRM check leaves out records of that window). */
  change_started_at?: string | null;
  /** The ledger record of the endpoint change. */
  promotion_id: string;
  stage: number;
  weights: Record<string, number>;
  status: ABTestStatus;
}

/** The persisted state of one A/B test. */
export interface IABTestState {
  ab_test_id: string;
  experiment_id: string;
  status: ABTestStatus;
  endpoint_name: string;
  champion_config: string;
  ab_config: string;
  promoted_config?: string | null;
  challenger_model: string;
  /** Challenger percent at each stage, increasing. */
  plan: number[];
  /** Index into plan of the current stage; -1 is the shadow stage. */
  stage: number;
  shadow_config?: string | null;
  /** Variant name -> percent of traffic. */
  weights: Record<string, number>;
  started_at: string;
  started_by: string;
  updated_at: string;
  history?: IABTestEvent[];
  /** The sample-size design frozen at start (see IABTestDesign); null for older tests. */
  design?: JSONObject | null;
}

/** `GET ab-tests`. */
export interface IABTestsResponse {
  ab_tests: IABTestState[];
}

/** `POST ab-tests` body. */
export interface IABTestStartRequest {
  /** The challenger's run: its id, or its name when unique. */
  run_id: string;
  model_artifact_s3_path?: string | null;
  /** Required unless dry_run is true. */
  reason?: string;
  /** Start with a shadow stage (the challenger scores a copy of the traffic). */
  shadow?: boolean;
  dry_run?: boolean;
  wait?: boolean;
}

/** `POST ab-tests/{id}/advance|promote|rollback|stop` body. */
export interface IABTestChangeRequest {
  /** Required unless dry_run is true. */
  reason?: string;
  dry_run?: boolean;
  wait?: boolean;
}

/** What an endpoint change's dry run returns: the endpoint now and after. */
export interface IEndpointChangePlan {
  kind: string;
  ab_test_id: string;
  before: IEndpointState;
  after: IEndpointState;
  /** The AWS calls the change makes, in words. */
  changes: string[];
}

/** How much of an A/B test's traffic has been scored and labelled. */
export interface IABDataSummary {
  records_scored: number;
  records_labelled: number;
  records_unlabelled: number;
  malformed: number;
  frauds_labelled: number;
  /** Newest label time used (ISO 8601 UTC); null before any label. */
  label_cutoff: string | null;
  /** Labelled frauds over the design's frauds needed; null without a design. */
  information_fraction: number | null;
  /** More capture existed than one read takes: the counts are a lower bound. */
  truncated: boolean;
}

/** One variant's serving latency. */
export interface IABLatency {
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  invocations: number | null;
  /** cloudwatch: percentiles; cloudwatch-max: p99 is the maximum (no percentiles); none. */
  source: 'cloudwatch' | 'cloudwatch-max' | 'none';
}

/** What the sequential test says to do now, and why. */
export interface IABRecommendation {
  /** none: the test is finished. */
  action: 'promote' | 'continue' | 'stop' | 'rollback' | 'none';
  /** In words. */
  reason: string;
  look: number | null;
  statistic: number | null;
  boundary: number | null;
  improvement: number | null;
}

/** One point of the primary metric's timeline, per variant. */
export interface IABTimelinePoint {
  at: string;
  variant: string;
  metric: string;
  value: number | null;
  low: number | null;
  high: number | null;
  n_labelled: number;
}

/** `GET ab-tests/{id}`: the state, the data, the readout and the recommendation. */
export interface IABTestView {
  state: IABTestState;
  /** The sample-size design frozen at start (see IABTestDesign). */
  design: JSONObject | null;
  data: IABDataSummary;
  /** See IABReadout; null before labelled data. */
  readout: JSONObject | null;
  /** See IABSampleRatio. */
  srm: JSONObject | null;
  latency: Record<string, IABLatency>;
  recommendation: IABRecommendation;
  timeline: IABTimelinePoint[];
}

/** Lifecycle of a background job. */
export type JobStatus = 'pending' | 'running' | 'succeeded' | 'failed';

/** A background job (`GET jobs/{id}`), answered 202 by long A/B changes. */
export interface IJob {
  job_id: string;
  kind: string;
  subject?: string | null;
  status: JobStatus;
  submitted_by: string;
  created_at: string;
  finished_at?: string | null;
  /** On success: the body the synchronous call returns. */
  result?: JSONObject | null;
  /** On failure: the HTTP status. */
  error_status?: number | null;
  /** On failure: the error body. */
  error?: IErrorBody | null;
}

// --- A/B free-form contents (Python to_dict(), not pydantic models) --------

/** A value with its interval (readout.Estimate.to_dict()). */
export interface IABEstimate {
  value: number | null;
  low: number | null;
  high: number | null;
  method: string;
}

/** One variant's readout (readout.VariantReadout.to_dict()). */
export interface IABVariantReadout {
  variant: string;
  n: number;
  n_labelled: number;
  n_unlabelled: number;
  frauds: number;
  frauds_flagged: number;
  alerts: number;
  average_precision: IABEstimate;
  recall_at_fpr: IABEstimate;
  alert_rate: IABEstimate;
  alert_precision: IABEstimate;
  detection_rate: IABEstimate;
  accuracy: IABEstimate;
  latency_ms: Record<string, number | null>;
}

/** IABTestView.readout (readout.Readout.to_dict()). */
export interface IABReadout {
  variants: Record<string, IABVariantReadout>;
  threshold: number;
  target_fpr: number;
  label_cutoff: number | null;
  n_unlabelled: number;
  agreement: IABEstimate | null;
}

/** IABTestView.srm (readout.SampleRatioCheck.to_dict()). */
export interface IABSampleRatio {
  observed: Record<string, number>;
  expected: Record<string, number>;
  chi_square: number | null;
  p_value: number | null;
  alarm: boolean;
  detail: string;
}

/** IABTestState.design (design.ABTestDesign.to_dict()). */
export interface IABTestDesign {
  baseline_rate: number;
  designed_rate: number;
  min_improvement_pct: number;
  alpha: number;
  power: number;
  information_fractions: number[];
  efficacy_boundaries: number[];
  drift: number;
  challenger_share: number;
  frauds_needed: number;
  frauds_champion: number;
  frauds_challenger: number;
  records_needed: number;
  fraud_rate: number;
  records_per_day: number;
  label_delay_days: number;
  days_needed: number;
  expected_days_if_effect: number;
  /** The feasibility sentence. */
  summary: string;
}
