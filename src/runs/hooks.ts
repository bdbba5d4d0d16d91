import { CommandRegistry } from '@lumino/commands';
import { useVirtualizer, Virtualizer } from '@tanstack/react-virtual';
import React, {
  useEffect,
  useRef,
  useState,
  useSyncExternalStore
} from 'react';

import { RunsModel } from './model';

/** Re-render the calling component whenever the runs model changes. */
export function useRunsModel(model: RunsModel): number {
  return useSyncExternalStore(
    onChange => {
      const slot = (): void => onChange();
      model.changed.connect(slot);
      return () => {
        model.changed.disconnect(slot);
      };
    },
    () => model.version
  );
}

/**
 * Whether a command exists, updated when commands are added or removed
 * (the compare/promotion plugins may activate after the sidebar).
 */
export function useHasCommand(commands: CommandRegistry, id: string): boolean {
  const [has, setHas] = useState(() => commands.hasCommand(id));
  useEffect(() => {
    const slot = (): void => setHas(commands.hasCommand(id));
    commands.commandChanged.connect(slot);
    slot();
    return () => {
      commands.commandChanged.disconnect(slot);
    };
  }, [commands, id]);
  return has;
}

/** What a server-paged list offers {@link usePagedRows}: more rows on demand. */
export interface IPagedSource {
  readonly hasMore: boolean;
  readonly loading: boolean;
  loadMore(): Promise<void>;
}

/**
 * Virtualised rows over a server-paged list: the next page is fetched when
 * the last rendered row comes within `prefetch` rows of the end, and a new
 * filter or order (`resetKeys`) scrolls back to the top.
 */
export function usePagedRows(options: {
  count: number;
  rowHeight: number;
  overscan: number;
  prefetch: number;
  source: IPagedSource;
  resetKeys: unknown[];
}): {
  scrollRef: React.RefObject<HTMLDivElement>;
  virtualizer: Virtualizer<HTMLDivElement, Element>;
} {
  const { count, rowHeight, overscan, prefetch, source, resetKeys } = options;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length > 0 ? items[items.length - 1].index : -1;
  useEffect(() => {
    if (source.hasMore && !source.loading && lastIndex >= count - prefetch) {
      void source.loadMore();
    }
  }, [lastIndex, count, source.hasMore, source.loading]);
  useEffect(() => {
    scrollRef.current?.scrollTo({ top: 0 });
  }, resetKeys);
  return { scrollRef, virtualizer };
}
