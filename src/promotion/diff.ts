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

/** Leaves of a JSON object as `dotted.path -> display text`. */
export function flattenConfig(
  value: JSONObject | null,
  prefix = '',
  into: Map<string, string> = new Map()
): Map<string, string> {
  if (value === null) {
    return into;
  }
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isObject(child) && Object.keys(child).length > 0) {
      flattenConfig(child, path, into);
    } else {
      into.set(path, typeof child === 'string' ? child : JSON.stringify(child));
    }
  }
  return into;
}

/**
 * Row-by-row difference of two config files (current production vs the
 * config a promotion would write), in the key order of the new config with
 * keys only present in the current one appended.
 */
export function diffConfig(
  current: JSONObject | null,
  next: JSONObject | null
): IConfigDiffRow[] {
  const before = flattenConfig(current);
  const after = flattenConfig(next);
  const keys = [
    ...after.keys(),
    ...[...before.keys()].filter(k => !after.has(k))
  ];
  return keys.map(key => {
    const a = before.get(key) ?? null;
    const b = after.get(key) ?? null;
    return { key, current: a, next: b, changed: a !== b };
  });
}
