"""Per-thread SQLite connections of the embedded tracker, its transactions and its version.

Each thread gets its own connection (WAL lets readers run while one writer commits). Every
write is one ``BEGIN IMMEDIATE`` transaction; a read is one snapshot (``BEGIN`` .. ``COMMIT``).

:meth:`Connections.data_version` tells whether the database changed: it is ``PRAGMA
data_version`` of a connection that never writes, which changes whenever any other
connection, in this process or another, commits.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Connections:
    """The connections to one SQLite file; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._version_conn: sqlite3.Connection | None = None
        self._version_lock = threading.Lock()
        self._version_epoch = 0

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: a commit survives a process crash; only an OS crash may lose the last ones.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 30000")
        # 100k runs are ~150 MB: keep the hot index pages in memory and read through mmap.
        conn.execute("PRAGMA cache_size = -32000")
        conn.execute("PRAGMA mmap_size = 268435456")
        # Each run rewrites the same tail pages many times; checkpoint them less often.
        conn.execute("PRAGMA wal_autocheckpoint = 4000")
        return conn

    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, rolled back if the block raises."""
        conn = self.conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One read snapshot (count, page and hydration see the same data)."""
        conn = self.conn()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def data_version(self) -> int:
        """A number that changes whenever any connection (any process) commits to the file.

        A few microseconds (it reads the WAL index in shared memory), so it may be called on
        an event loop. Only this dedicated connection reads it: ``PRAGMA data_version`` does not
        change for a connection's own commits, and this one never writes.
        """
        with self._version_lock:
            if self._version_conn is None:
                self._version_conn = sqlite3.connect(
                    self.path, timeout=30.0, isolation_level=None, check_same_thread=False
                )
                # A reopened connection counts data_version afresh: the epoch keeps the
                # numbers of different connections apart.
                self._version_epoch += 1
            value = int(self._version_conn.execute("PRAGMA data_version").fetchone()[0])
            return (self._version_epoch << 40) + value

    def close(self) -> None:
        """Close every thread's connection (they reopen lazily if used again)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        with self._version_lock:
            if self._version_conn is not None:
                conns.append(self._version_conn)
                self._version_conn = None
        for conn in conns:
            conn.close()
        self._local = threading.local()
