import {
  ABTestStatus,
  IABEstimate,
  IABReadout,
  IABSampleRatio,
  IABTestDesign,
  IABTestState,
  JSONObject
} from '../api';

/** A number at 3 significant digits (integers as they are), `—` for null. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) {
    return '—';
  }
  if (Number.isInteger(value)) {
    return value.toLocaleString('en-US');
  }
  return String(Number(value.toPrecision(3)));
}

/** `0.812 (0.781–0.843)`, `0.812` without an interval, `—` when not estimable. */
export function formatEstimate(estimate: IABEstimate | undefined): string {
  if (!estimate || estimate.value === null) {
    return '—';
  }
  const value = formatNumber(estimate.value);
  if (estimate.low === null || estimate.high === null) {
    return value;
  }
  return `${value} (${formatNumber(estimate.low)}–${formatNumber(estimate.high)})`;
}

/** `stage 2/4`, or `shadow` for the shadow stage (-1). */
export function stageText(state: IABTestState): string {
  if (state.stage < 0) {
    return `shadow (then ${state.plan.length} stages)`;
  }
  return `stage ${state.stage + 1}/${state.plan.length}`;
}

/** Which changes a test in `status` at this stage allows. */
export function allowedActions(state: IABTestState): {
  advance: boolean;
  promote: boolean;
  rollback: boolean;
  stop: boolean;
} {
  const running = state.status === 'running';
  return {
    advance: running && state.stage + 1 < state.plan.length,
    promote: running,
    rollback: running || state.status === 'completed',
    stop: running
  };
}

/** Readable status. */
export const STATUS_LABELS: Record<ABTestStatus, string> = {
  running: 'running',
  completed: 'completed (challenger promoted)',
  rolled_back: 'rolled back',
  stopped: 'stopped'
};

function isObject(value: unknown): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The view's free-form readout as its typed shape (null when absent or malformed). */
export function asReadout(value: JSONObject | null): IABReadout | null {
  return isObject(value) && isObject(value.variants)
    ? (value as unknown as IABReadout)
    : null;
}

/** The view's free-form SRM check as its typed shape. */
export function asSampleRatio(value: JSONObject | null): IABSampleRatio | null {
  return isObject(value) && typeof value.alarm === 'boolean'
    ? (value as unknown as IABSampleRatio)
    : null;
}

/** The state's free-form design as its typed shape. */
export function asDesign(
  value: JSONObject | null | undefined
): IABTestDesign | null {
  return isObject(value) && typeof value.summary === 'string'
    ? (value as unknown as IABTestDesign)
    : null;
}

/** Variant names in a stable order: champion first, then the others by name. */
export function variantOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => {
    const rank = (n: string): number =>
      n.toLowerCase() === 'champion' ? 0 : 1;
    return rank(a) - rank(b) || a.localeCompare(b);
  });
}
