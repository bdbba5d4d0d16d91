"""Search responses kept in memory until the store's data changes.

A runs table polls the same page again and again while nothing is logged; each poll of a
1000-run page costs the tracker ~10-20 ms of CPU. :class:`SearchCache` keeps the response
JSON of recent searches keyed by the query and the store's :meth:`TrackerStore.data_version`,
which changes on every commit by any writer, in this process or another (for SQLite it is
``PRAGMA data_version`` of a connection that never writes). A lookup costs one such read
(microseconds, no thread needed); an entry of an older version is never served, so no
explicit invalidation exists. A backend whose ``data_version`` is ``None`` is never cached.

Example::

    cache = SearchCache(store)
    key = cache.key("metrics.accuracy >= 0.95", ["metrics.auc_roc DESC"], 100, None)
    text = cache.lookup(key) or cache.compute(key)  # compute() blocks: call it off the loop
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from fraud_jlab.tracking.contract import TrackerStore

#: A query: (filter, order_by, max_results, page_token).
SearchKey = tuple[str, tuple[str, ...], int, str | None]

#: Most responses kept.
MAX_ENTRIES = 256
#: Most characters of response JSON kept over all entries (a 1000-run page is ~0.5 MB).
MAX_CHARS = 64 * 1024 * 1024


class SearchCache:
    """Response JSON of :meth:`TrackerStore.search_runs_json` for one store; thread-safe."""

    def __init__(
        self, store: TrackerStore, *, max_entries: int = MAX_ENTRIES, max_chars: int = MAX_CHARS
    ) -> None:
        self.store = store
        self.max_entries = max_entries
        self.max_chars = max_chars
        self._entries: OrderedDict[tuple[SearchKey, int], str] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        filter_string: str, order_by: Sequence[str], max_results: int, page_token: str | None
    ) -> SearchKey:
        """The cache key of a query (the arguments of ``search_runs``)."""
        return (filter_string, tuple(order_by), max_results, page_token)

    def lookup(self, key: SearchKey) -> str | None:
        """The cached response for ``key`` if the store has not changed since; else ``None``.

        Cheap and non-blocking (one ``data_version`` read), so an event loop may call it.
        """
        version = self.store.data_version()
        if version is None:
            return None
        with self._lock:
            text = self._entries.get((key, version))
            if text is None:
                self.misses += 1
                return None
            self._entries.move_to_end((key, version))
            self.hits += 1
            return text

    def compute(self, key: SearchKey) -> str:
        """Run the search (blocking), remember its response and return it.

        The version is read *before* the search: a write that lands meanwhile changes the
        version, so the response (which may or may not include the write) is never served
        for the newer data.
        """
        version = self.store.data_version()
        text = self.store.search_runs_json(*key)
        if version is not None and len(text) <= self.max_chars:
            with self._lock:
                old = self._entries.pop((key, version), None)
                if old is not None:
                    self._chars -= len(old)
                self._entries[(key, version)] = text
                self._chars += len(text)
                while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                    _, dropped = self._entries.popitem(last=False)
                    self._chars -= len(dropped)
        return text

    def get(self, key: SearchKey) -> str:
        """The response for ``key``: cached if still valid, else computed (blocking)."""
        text = self.lookup(key)
        return text if text is not None else self.compute(key)

    def clear(self) -> None:
        """Forget every response."""
        with self._lock:
            self._entries.clear()
            self._chars = 0
