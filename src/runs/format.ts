/** Display formatting of run values. */

/** A metric value with 4 decimals (full precision stays in the tooltip). */
export function formatMetric(value: number | undefined): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (Number.isInteger(value)) {
    return String(value);
  }
  return value.toFixed(4);
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** An ISO timestamp as local `YYYY-MM-DD HH:MM`. */
export function formatTime(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

/** A byte count as B/KiB/MiB/GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0
    ? `${value} ${units[0]}`
    : `${value.toFixed(1)} ${units[unit]}`;
}

/** The duration between two ISO timestamps, e.g. `1m 05s`. */
export function formatDuration(start: string, end: string | null): string {
  if (!end) {
    return '';
  }
  const seconds = Math.max(
    0,
    Math.round((new Date(end).getTime() - new Date(start).getTime()) / 1000)
  );
  if (seconds < 60) {
    return `${seconds}s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes}m ${pad(seconds % 60)}s`;
  }
  return `${Math.floor(minutes / 60)}h ${pad(minutes % 60)}m`;
}
