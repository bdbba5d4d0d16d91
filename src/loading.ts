import { DependencyList, useEffect, useState } from 'react';

/** The state of one asynchronous load: loading, its value, or its error. */
export type LoadState<T> =
  | { kind: 'loading' }
  | { kind: 'loaded'; value: T }
  | { kind: 'failed'; error: Error };

/** An unknown thrown value as an Error. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Run `load` whenever `deps` change and follow its outcome; the answer of a
 * load superseded by a newer one (or of an unmounted component) is dropped.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: DependencyList
): LoadState<T> {
  const [state, setState] = useState<LoadState<T>>({ kind: 'loading' });
  useEffect(() => {
    let cancelled = false;
    setState({ kind: 'loading' });
    load()
      .then(value => {
        if (!cancelled) {
          setState({ kind: 'loaded', value });
        }
      })
      .catch((error: unknown) => {
        if (!cancelled) {
          setState({ kind: 'failed', error: asError(error) });
        }
      });
    return () => {
      cancelled = true;
    };
    // The caller's deps decide when to load again.
  }, deps);
  return state;
}
