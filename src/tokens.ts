import { ServerConnection } from '@jupyterlab/services';
import { Token } from '@lumino/coreutils';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import {
  ABTestChangeAction,
  IABTestsResponse,
  IABTestStartRequest,
  IABTestState,
  IABTestView,
  ICompareRequest,
  IEndpointChangePlan,
  IJob,
  ICompareResult,
  IExperimentsResponse,
  IIdentity,
  IProductionView,
  IRecoverRequest,
  IRecoverResponse,
  IPromotionPlan,
  IPromotionRecord,
  IPromotionRequest,
  IPromotionsPage,
  IRollbackRequest,
  IRunActions,
  IRunDetail,
  IRunsPage,
  IInfoResponse,
  ITrackerStatus
} from './api';

/** Query of `GET runs` (client-side options; sent as query parameters). */
export interface IRunsQuery {
  /** Filter expression, e.g. `metrics.auc_roc >= 0.9 and status = 'completed'`. */
  filter?: string;
  /** Order keys, e.g. `['metrics.auc_roc DESC']`. */
  orderBy?: string[];
  /** 1..1000, server default 100. */
  maxResults?: number;
  pageToken?: string | null;
}

/** Every command fraud_jlab registers. */
export namespace CommandIDs {
  /** Show the fraud_jlab sidebar (command palette, category "fraud_jlab"). */
  export const openSidebar = 'fraud-jlab:open-sidebar';
  /** Reload the runs table from the server. */
  export const refreshRuns = 'fraud-jlab:refresh-runs';
  /** Open the main-area runs grid (command palette, sidebar button). */
  export const openRunsView = 'fraud-jlab:open-runs-view';
  /** Open the detail view of one run. Args: `{runId: string}`. */
  export const openRun = 'fraud-jlab:open-run';
  /** Compare runs. Args: `{runIds: string[]}` (registered by the compare plugin). */
  export const compareRuns = 'fraud-jlab:compare-runs';
  /** Promote a run to production. Args: `{runId: string}` (registered by the promotion plugin). */
  export const promoteRun = 'fraud-jlab:promote-run';
  /** Start an A/B test with a run as challenger. Args: `{runId: string}` (abtest plugin). */
  export const startABTest = 'fraud-jlab:start-ab-test';
  /** Show the A/B tests section of the sidebar; `{abTestId?: string}` selects one. */
  export const openABTests = 'fraud-jlab:open-ab-tests';
}

/** Command palette category of fraud_jlab commands. */
export const COMMAND_CATEGORY = 'fraud_jlab';

/** Id of the main plugin; its settings are `schema/plugin.json`. */
export const PLUGIN_ID = 'fraud-jlab:plugin';

/** Id of the left sidebar widget. */
export const SIDEBAR_ID = 'fraud-jlab-sidebar';

/**
 * The single typed client of the fraud_jlab REST API.
 *
 * Every method throws `APIError` (from `./request`) carrying the server's
 * `message`, `errors`, `field` and HTTP `status`.
 */
export interface IFraudJlabService {
  /** Connection settings every request uses. */
  readonly serverSettings: ServerConnection.ISettings;
  /** Version of this frontend package (package.json). */
  readonly frontendVersion: string;
  /** Low-level call: `path` is relative to `<base_url>fraud-jlab/api/`. */
  requestAPI<T>(path: string, init?: RequestInit): Promise<T>;

  getInfo(): Promise<IInfoResponse>;
  /** `GET tracker`: backend, redacted URI, reachability and cause. */
  getTracker(): Promise<ITrackerStatus>;
  listRuns(query?: IRunsQuery, signal?: AbortSignal): Promise<IRunsPage>;
  getRun(runId: string, signal?: AbortSignal): Promise<IRunDetail>;
  listExperiments(): Promise<IExperimentsResponse>;
  /** `GET runs/{id}/actions`: whether Promote applies, and why not. */
  getRunActions(runId: string, signal?: AbortSignal): Promise<IRunActions>;
  /**
   * `GET runs/{id}/artifact?path=`: one artifact's content (authenticated,
   * confined to the run's artifact store).
   */
  fetchArtifact(
    runId: string,
    path: string,
    signal?: AbortSignal
  ): Promise<Blob>;

  compareRuns(request: ICompareRequest): Promise<ICompareResult>;

  /** `POST promotions` with `dry_run: true`. */
  planPromotion(
    request: Omit<IPromotionRequest, 'dry_run'>
  ): Promise<IPromotionPlan>;
  /** `POST promotions` (201): the ledger record. */
  promote(
    request: Omit<IPromotionRequest, 'dry_run'>
  ): Promise<IPromotionRecord>;
  listPromotions(
    maxResults?: number,
    pageToken?: string | null
  ): Promise<IPromotionsPage>;
  getPromotion(promotionId: string): Promise<IPromotionRecord>;
  rollback(
    promotionId: string,
    request: IRollbackRequest
  ): Promise<IPromotionRecord>;
  getProduction(): Promise<IProductionView>;
  /** `GET identity`: the approver production changes are recorded under. */
  getIdentity(): Promise<IIdentity>;
  /** `POST production/recover`: restore production from attempts whose process died. */
  recover(request: IRecoverRequest): Promise<IRecoverResponse>;

  /** `GET ab-tests`: every A/B test, newest start first. */
  listABTests(): Promise<IABTestsResponse>;
  /** `GET ab-tests/{id}`: state, data summary, readout, SRM, latency, recommendation, timeline. */
  getABTestView(abTestId: string, signal?: AbortSignal): Promise<IABTestView>;
  /** `POST ab-tests` with `dry_run: true`: what a start would change (nothing written). */
  planABTestStart(
    request: Omit<IABTestStartRequest, 'dry_run' | 'wait' | 'reason'>
  ): Promise<IEndpointChangePlan>;
  /** `POST ab-tests` (202): the job deploying the challenger; poll it with `getJob`. */
  submitABTestStart(
    request: Omit<IABTestStartRequest, 'dry_run' | 'wait'>
  ): Promise<IJob>;
  /** `POST ab-tests/{id}/{action}` with `dry_run: true`: what the change would do. */
  planABTestChange(
    abTestId: string,
    action: ABTestChangeAction
  ): Promise<IEndpointChangePlan>;
  /** `POST ab-tests/{id}/{action}` (202): the job making the audited change. */
  submitABTestChange(
    abTestId: string,
    action: ABTestChangeAction,
    reason: string
  ): Promise<IJob>;
  /** `GET jobs/{id}`: a background job's status, result or error. */
  getJob(jobId: string, signal?: AbortSignal): Promise<IJob>;
  /** Tell every view an A/B change made through this client finished (emits abTestChanged). */
  notifyABTestChanged(state: IABTestState): void;
  /** Emitted after an A/B test change made through this client succeeded. */
  readonly abTestChanged: ISignal<IFraudJlabService, IABTestState>;

  /** Emitted after this client changed production (promotion, rollback, recovery). */
  readonly productionChanged: ISignal<IFraudJlabService, IPromotionRecord>;
}

/** Token of the fraud_jlab REST client. */
export const IFraudJlabService = new Token<IFraudJlabService>(
  'fraud-jlab:IFraudJlabService',
  'The typed client of the fraud_jlab REST API.'
);

/** The fraud_jlab left sidebar (a SidePanel with collapsible sections). */
export interface IFraudJlabSidebar {
  /**
   * Add a section (its `title.label` is the section header).
   *
   * @param rank - lower ranks come first; the runs section has rank 100.
   */
  addSection(widget: Widget, rank?: number): void;
  /** Reveal the sidebar in the left area. */
  activate(): void;
  /** Run ids currently selected (checked) in the runs table. */
  readonly selectedRunIds: readonly string[];
  /** Emitted when the selection in the runs table changes. */
  readonly selectionChanged: ISignal<IFraudJlabSidebar, readonly string[]>;
}

/** Token of the fraud_jlab sidebar. */
export const IFraudJlabSidebar = new Token<IFraudJlabSidebar>(
  'fraud-jlab:IFraudJlabSidebar',
  'The fraud_jlab left sidebar; add sections to it.'
);
