/**
 * Polling the background jobs long A/B changes answer with (`202` + `IJob`).
 *
 * On AWS an endpoint change takes minutes (until the endpoint is InService
 * again): the server runs it as a job and the client polls `GET jobs/{id}`.
 */
import { IJob, JSONObject } from '../api';
import { APIError } from '../request';
import { IFraudJlabService } from '../tokens';

/** First and longest pause between two polls (milliseconds). */
export const POLL_FIRST_MS = 300;
export const POLL_MAX_MS = 5000;

/** Whether a job has finished (succeeded or failed). */
export function isFinished(job: IJob): boolean {
  return job.status === 'succeeded' || job.status === 'failed';
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('Aborted', 'AbortError'));
      return;
    }
    const timer = window.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      window.clearTimeout(timer);
      reject(new DOMException('Aborted', 'AbortError'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Poll `job` until it finished, backing off from {@link POLL_FIRST_MS} to
 * {@link POLL_MAX_MS}; `onUpdate` sees every answer (e.g. pending -> running).
 *
 * @returns the finished job (succeeded or failed).
 * @throws {APIError} when polling itself fails (e.g. the server restarted and
 *   forgot the job: 404).
 */
export async function waitForJob(
  service: IFraudJlabService,
  job: IJob,
  options: { signal?: AbortSignal; onUpdate?: (job: IJob) => void } = {}
): Promise<IJob> {
  let current = job;
  let delay = POLL_FIRST_MS;
  while (!isFinished(current)) {
    await pause(delay, options.signal);
    delay = Math.min(delay * 2, POLL_MAX_MS);
    current = await service.getJob(job.job_id, options.signal);
    options.onUpdate?.(current);
  }
  return current;
}

/**
 * The result of a finished job, or its error as an `APIError` carrying the
 * server's message (which says whether production changed).
 */
export function jobResult<T = JSONObject>(job: IJob): T {
  if (job.status === 'succeeded' && job.result) {
    return job.result as unknown as T;
  }
  if (job.status === 'failed') {
    const error = job.error;
    throw new APIError(
      error?.message ?? `job ${job.job_id} failed`,
      job.error_status ?? 500,
      error?.errors ?? [],
      error?.field ?? null
    );
  }
  throw new APIError(`job ${job.job_id} is still ${job.status}`, 0);
}
