/** Display formatting of comparison values. */

/** A value with 4 decimals, or an em dash when there is none. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—';
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

/** A delta with an explicit sign (`+0.0123`, `−0.0040`, `0`). */
export function formatDelta(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '—';
  }
  if (value === 0) {
    return '0';
  }
  const magnitude = formatValue(Math.abs(value));
  return value > 0 ? `+${magnitude}` : `−${magnitude}`;
}

/** A confidence interval as `[low, high]`. */
export function formatInterval(
  low: number | null | undefined,
  high: number | null | undefined
): string {
  if (
    low === null ||
    low === undefined ||
    high === null ||
    high === undefined
  ) {
    return '—';
  }
  return `[${formatDelta(low)}, ${formatDelta(high)}]`;
}

/**
 * A short, distinguishing form of a run id. Run ids are ULIDs whose leading
 * characters encode the creation time, shared by runs made together, so the
 * random tail is shown.
 */
export function shortId(runId: string): string {
  return runId.length > 8 ? `…${runId.slice(-6)}` : runId;
}
