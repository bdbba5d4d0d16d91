import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

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
  IErrorBody,
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
import { IFraudJlabService, IRunsQuery } from './tokens';

/** URL segment under the server's base URL where the fraud_jlab API lives. */
export const API_NAMESPACE = 'fraud-jlab/api';

/**
 * Longest encoded query `listRuns` sends as `GET runs?...`; longer ones go as
 * `POST runs/search` with a JSON body.
 */
export const MAX_GET_QUERY_LENGTH = 8 * 1024;

/**
 * An error answered by the fraud_jlab server (or a network failure, status 0).
 *
 * `message` is the server's message, suitable to show the user as is.
 */
export class APIError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errors: string[] = [],
    readonly field: string | null = null
  ) {
    super(message);
    this.name = 'APIError';
  }
}

function isErrorBody(value: unknown): value is Partial<IErrorBody> {
  return typeof value === 'object' && value !== null && 'message' in value;
}

/**
 * Call the fraud_jlab REST API.
 *
 * @param path - path relative to `<base_url>fraud-jlab/api/`, query included.
 * @param init - fetch options (method, body, signal).
 * @param settings - server connection settings (default: the page's).
 * @returns the decoded JSON body.
 * @throws {APIError} with the server's message for any non-2xx answer, or
 *   status 0 when the server cannot be reached.
 */
export async function requestAPI<T>(
  path = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') {
      throw error;
    }
    throw new APIError(
      `Cannot reach the fraud_jlab server: ${(error as Error).message}`,
      0
    );
  }
  const text = await response.text();
  let data: unknown = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (isErrorBody(data)) {
      throw new APIError(
        String(data.message),
        response.status,
        Array.isArray(data.errors) ? data.errors.map(String) : [],
        typeof data.field === 'string' ? data.field : null
      );
    }
    throw new APIError(
      `fraud_jlab server error ${response.status}: ${response.statusText || text.slice(0, 200)}`,
      response.status
    );
  }
  return data as T;
}

/**
 * Default implementation of `IFraudJlabService` (see `./tokens`).
 */
export class FraudJlabService implements IFraudJlabService {
  constructor(
    readonly frontendVersion: string,
    readonly serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(path, init, this.serverSettings);
  }

  getInfo(): Promise<IInfoResponse> {
    return this.requestAPI<IInfoResponse>('info');
  }

  getTracker(): Promise<ITrackerStatus> {
    return this.requestAPI<ITrackerStatus>('tracker');
  }

  listRuns(query: IRunsQuery = {}, signal?: AbortSignal): Promise<IRunsPage> {
    const params = new URLSearchParams();
    if (query.filter) {
      params.append('filter', query.filter);
    }
    for (const key of query.orderBy ?? []) {
      params.append('order_by', key);
    }
    if (query.maxResults !== undefined) {
      params.append('max_results', String(query.maxResults));
    }
    if (query.pageToken) {
      params.append('page_token', query.pageToken);
    }
    const qs = params.toString();
    if (qs.length > MAX_GET_QUERY_LENGTH) {
      // Too long for a URL (the server resets requests over 64 KB of headers):
      // the same search with the query in a JSON body.
      const body: Record<string, unknown> = {
        filter: query.filter ?? '',
        order_by: query.orderBy ?? []
      };
      if (query.maxResults !== undefined) {
        body.max_results = query.maxResults;
      }
      if (query.pageToken) {
        body.page_token = query.pageToken;
      }
      return this.requestAPI<IRunsPage>('runs/search', {
        ...postJSON(body),
        signal
      });
    }
    return this.requestAPI<IRunsPage>(qs ? `runs?${qs}` : 'runs', { signal });
  }

  getRun(runId: string, signal?: AbortSignal): Promise<IRunDetail> {
    return this.requestAPI<IRunDetail>(`runs/${encodeURIComponent(runId)}`, {
      signal
    });
  }

  getRunActions(runId: string, signal?: AbortSignal): Promise<IRunActions> {
    return this.requestAPI<IRunActions>(
      `runs/${encodeURIComponent(runId)}/actions`,
      { signal }
    );
  }

  async fetchArtifact(
    runId: string,
    path: string,
    signal?: AbortSignal
  ): Promise<Blob> {
    const url = URLExt.join(
      this.serverSettings.baseUrl,
      API_NAMESPACE,
      `runs/${encodeURIComponent(runId)}/artifact`
    );
    const response = await ServerConnection.makeRequest(
      `${url}?${new URLSearchParams({ path }).toString()}`,
      { signal },
      this.serverSettings
    );
    if (!response.ok) {
      const text = await response.text();
      let message = `fraud_jlab server error ${response.status}`;
      try {
        const body = JSON.parse(text) as Partial<IErrorBody>;
        if (typeof body.message === 'string') {
          message = body.message;
        }
      } catch {
        // not JSON: keep the status line
      }
      throw new APIError(message, response.status);
    }
    return response.blob();
  }

  listExperiments(): Promise<IExperimentsResponse> {
    return this.requestAPI<IExperimentsResponse>('experiments');
  }

  compareRuns(request: ICompareRequest): Promise<ICompareResult> {
    return this.requestAPI<ICompareResult>('compare', postJSON(request));
  }

  planPromotion(
    request: Omit<IPromotionRequest, 'dry_run'>
  ): Promise<IPromotionPlan> {
    return this.requestAPI<IPromotionPlan>(
      'promotions',
      postJSON({ ...request, dry_run: true })
    );
  }

  async promote(
    request: Omit<IPromotionRequest, 'dry_run'>
  ): Promise<IPromotionRecord> {
    const record = await this.requestAPI<IPromotionRecord>(
      'promotions',
      postJSON({ ...request, dry_run: false })
    );
    this._productionChanged.emit(record);
    return record;
  }

  listPromotions(
    maxResults?: number,
    pageToken?: string | null
  ): Promise<IPromotionsPage> {
    const params = new URLSearchParams();
    if (maxResults !== undefined) {
      params.append('max_results', String(maxResults));
    }
    if (pageToken) {
      params.append('page_token', pageToken);
    }
    const qs = params.toString();
    return this.requestAPI<IPromotionsPage>(
      qs ? `promotions?${qs}` : 'promotions'
    );
  }

  getPromotion(promotionId: string): Promise<IPromotionRecord> {
    return this.requestAPI<IPromotionRecord>(
      `promotions/${encodeURIComponent(promotionId)}`
    );
  }

  async rollback(
    promotionId: string,
    request: IRollbackRequest
  ): Promise<IPromotionRecord> {
    const record = await this.requestAPI<IPromotionRecord>(
      `promotions/${encodeURIComponent(promotionId)}/rollback`,
      postJSON(request)
    );
    this._productionChanged.emit(record);
    return record;
  }

  getIdentity(): Promise<IIdentity> {
    return this.requestAPI<IIdentity>('identity');
  }

  getProduction(): Promise<IProductionView> {
    return this.requestAPI<IProductionView>('production');
  }

  async recover(request: IRecoverRequest): Promise<IRecoverResponse> {
    const result = await this.requestAPI<IRecoverResponse>(
      'production/recover',
      postJSON(request)
    );
    const last = result.records[result.records.length - 1];
    if (last) {
      this._productionChanged.emit(last);
    }
    return result;
  }

  listABTests(): Promise<IABTestsResponse> {
    return this.requestAPI<IABTestsResponse>('ab-tests');
  }

  getABTestView(abTestId: string, signal?: AbortSignal): Promise<IABTestView> {
    return this.requestAPI<IABTestView>(
      `ab-tests/${encodeURIComponent(abTestId)}`,
      { signal }
    );
  }

  planABTestStart(
    request: Omit<IABTestStartRequest, 'dry_run' | 'wait' | 'reason'>
  ): Promise<IEndpointChangePlan> {
    return this.requestAPI<IEndpointChangePlan>(
      'ab-tests',
      postJSON({ ...request, dry_run: true })
    );
  }

  submitABTestStart(
    request: Omit<IABTestStartRequest, 'dry_run' | 'wait'>
  ): Promise<IJob> {
    return this.requestAPI<IJob>(
      'ab-tests',
      postJSON({ ...request, dry_run: false, wait: false })
    );
  }

  planABTestChange(
    abTestId: string,
    action: ABTestChangeAction
  ): Promise<IEndpointChangePlan> {
    return this.requestAPI<IEndpointChangePlan>(
      `ab-tests/${encodeURIComponent(abTestId)}/${action}`,
      postJSON({ dry_run: true })
    );
  }

  submitABTestChange(
    abTestId: string,
    action: ABTestChangeAction,
    reason: string
  ): Promise<IJob> {
    return this.requestAPI<IJob>(
      `ab-tests/${encodeURIComponent(abTestId)}/${action}`,
      postJSON({ reason, dry_run: false, wait: false })
    );
  }

  getJob(jobId: string, signal?: AbortSignal): Promise<IJob> {
    return this.requestAPI<IJob>(`jobs/${encodeURIComponent(jobId)}`, {
      signal
    });
  }

  notifyABTestChanged(state: IABTestState): void {
    this._abTestChanged.emit(state);
  }

  get abTestChanged(): ISignal<IFraudJlabService, IABTestState> {
    return this._abTestChanged;
  }

  get productionChanged(): ISignal<IFraudJlabService, IPromotionRecord> {
    return this._productionChanged;
  }

  private _abTestChanged = new Signal<IFraudJlabService, IABTestState>(this);
  private _productionChanged = new Signal<IFraudJlabService, IPromotionRecord>(
    this
  );
}

function postJSON(body: object): RequestInit {
  return {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  };
}
