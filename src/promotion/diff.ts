import { JSONObject, JSONValue } from '../api';

/** One leaf of the production config file, before and after a promotion. */
export interface IConfigDiffRow {
  /** Dotted path, e.g. `model.hyperparameters.max_depth`. */
  key: string;
  current: string | null;
  next: string | null;
  changed: boolean;
}

function isObject(value: JSONValue): value is JSONObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A config leaf as text: numbers at a meaningful precision (metrics carry
 * float noise such as 0.8123456789012: 4 significant digits, integers as is).
 */
export function displayValue(value: JSONValue): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' && !Number.isInteger(value)) {
    return String(Number(value.toPrecision(4)));
  }
  return JSON.stringify(value);
}

/** Leaves of a JSON object as `dotted.path -> value`. */
export function flattenConfigValues(
  value: JSONObject | null,
  prefix = '',
  into: Map<string, JSONValue> = new Map()
): Map<string, JSONValue> {
  if (value === null) {
    return into;
  }
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isObject(child) && Object.keys(child).length > 0) {
      flattenConfigValues(child, path, into);
    } else {
      into.set(path, child);
    }
  }
  return into;
}

/** Leaves of a JSON object as `dotted.path -> display text`. */
export function flattenConfig(
  value: JSONObject | null,
  prefix = '',
  into: Map<string, string> = new Map()
): Map<string, string> {
  for (const [key, child] of flattenConfigValues(value, prefix)) {
    into.set(key, displayValue(child));
  }
  return into;
}

function exact(value: JSONValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Row-by-row difference of two config files (current production vs the
 * config a promotion would write), in the key order of the new config with
 * keys only present in the current one appended. Changes are found on the
 * exact values; numbers show at 4 significant digits unless that would hide
 * the change.
 */
export function diffConfig(
  current: JSONObject | null,
  next: JSONObject | null
): IConfigDiffRow[] {
  const before = flattenConfigValues(current);
  const after = flattenConfigValues(next);
  const keys = [
    ...after.keys(),
    ...[...before.keys()].filter(k => !after.has(k))
  ];
  return keys.map(key => {
    const a = before.has(key) ? (before.get(key) as JSONValue) : undefined;
    const b = after.has(key) ? (after.get(key) as JSONValue) : undefined;
    const changed =
      a === undefined || b === undefined ? a !== b : exact(a) !== exact(b);
    let shownA = a === undefined ? null : displayValue(a);
    let shownB = b === undefined ? null : displayValue(b);
    if (changed && shownA !== null && shownA === shownB) {
      shownA = exact(a as JSONValue);
      shownB = exact(b as JSONValue);
    }
    return { key, current: shownA, next: shownB, changed };
  });
}
