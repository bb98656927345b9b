"""What changed in one ``state.db`` since the last look, read set-based and read-only.

The first read loads every session (the same statement as ``reader.read_sessions``) and keeps
a snapshot of the narrow list columns of ``sessions`` in a TEMP table of its own long-lived
read-only connection (a TEMP table lives in the connection's own temporary database: nothing
of the agent's file is touched). A later read, in one read transaction:

- finds the sessions with **new messages** from the rows of ``messages`` above the last seen
  id (its INTEGER PRIMARY KEY only grows);
- finds the **session rows inserted, updated or deleted** by one join of ``sessions`` against
  the snapshot, in SQLite, on ``rowid`` (a rowid reused or renumbered by VACUUM shows as a
  changed id, so it is caught too);
- re-reads just those sessions with the reader's own statement, and moves the snapshot on.

Whatever it cannot explain cheaply becomes a full read: a replaced file (new inode or a new
``application_id``), a schema change (``PRAGMA schema_version``), message ids going backwards,
messages deleted (the count no longer adds up: ``replace_messages`` rewriting history), or a
change touching a large part of the table. Correct first: every path ends in records made by
the same SQL as the from-scratch read.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, TypeVar
from urllib.parse import quote

from webui.agentdb.reader import (
    classify_error,
    has_list_tables,
    list_columns,
    quote_ident,
    session_sql,
)
from webui.records import RecordChanges, SessionRecord

# Above this share of the table changed, one full read is cheaper than the pieces.
FULL_READ_SHARE = 0.25
_CHUNK = 500  # ids per IN (...) list, well under SQLite's variable limit
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Identity:
    """Which file, laid out how: any difference means a full read."""

    ino: int
    application_id: int
    schema_version: int
    columns: tuple[str, ...]


@dataclass(slots=True)
class ReadStats:
    full_reads: int = 0
    incremental_reads: int = 0
    records_read: int = 0
    last_reason: str = ""


class _Changed(NamedTuple):
    rids: list[int]
    ids: set[str]
    inserted: int  # rows at rowids the snapshot did not have
    displaced: set[str]  # ids that a reused rowid held before


class ChangeReader:
    """One ``state.db``'s sessions: everything on the first read, then what changed.

    Not thread-safe: one read at a time (the caller serializes reads of one database).
    """

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.stats = ReadStats()
        self._conn: sqlite3.Connection | None = None
        self._identity: _Identity | None = None
        self._sql = ""
        self._watermark = 0
        self._message_count = 0
        self._session_count = 0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._identity = None, None

    def read(self) -> RecordChanges:
        """Every session (``full``) the first time, or after anything unexplained; else only
        the sessions added, changed or removed since the previous read."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.close()
            return self._full_empty("missing file")
        conn = self._connection(st.st_ino)
        try:
            conn.execute("BEGIN")
            try:
                changes = self._read(conn, st.st_ino)
            except BaseException:
                conn.execute("ROLLBACK")  # the snapshot moves with the read or not at all
                raise
            conn.execute("COMMIT")
            return changes
        except sqlite3.Error as exc:
            self.close()  # a fresh start next time: the snapshot may be half moved
            raise classify_error(self.path, exc) from None

    def _full_empty(self, reason: str) -> RecordChanges:
        self.stats.full_reads += 1
        self.stats.last_reason = reason
        return RecordChanges(True, {}, frozenset())

    def _connection(self, ino: int) -> sqlite3.Connection:
        if self._conn is not None and self._identity is not None and self._identity.ino != ino:
            self.close()  # the file was replaced: this connection still sees the old one
        if self._conn is None:
            uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
            try:
                conn = sqlite3.connect(
                    uri,
                    uri=True,
                    timeout=self.busy_timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA temp_store = MEMORY")
            except sqlite3.Error as exc:
                raise classify_error(self.path, exc) from None
            self._conn = conn
        return self._conn

    def _read(self, conn: sqlite3.Connection, ino: int) -> RecordChanges:
        if not has_list_tables(conn):
            self._identity = None
            return self._full_empty("no sessions/messages tables")
        identity = _Identity(
            ino,
            int(conn.execute("PRAGMA application_id").fetchone()[0]),
            int(conn.execute("PRAGMA schema_version").fetchone()[0]),
            list_columns(conn),
        )
        if identity != self._identity:
            reason = "first read" if self._identity is None else "new file or schema"
            return self._full(conn, identity, reason)
        return self._incremental(conn, identity)

    def _full(self, conn: sqlite3.Connection, identity: _Identity, reason: str) -> RecordChanges:
        self._identity = None  # until the snapshot below is complete
        self._sql = session_sql(conn)
        records = {r.id: r for r in map(SessionRecord._make, conn.execute(self._sql))}
        columns = ", ".join(quote_ident(c) for c in identity.columns)
        conn.execute("DROP TABLE IF EXISTS temp.list_snapshot")
        conn.execute(f"CREATE TEMP TABLE list_snapshot (rid INTEGER PRIMARY KEY, {columns})")
        conn.execute(f"INSERT INTO temp.list_snapshot SELECT rowid, {columns} FROM main.sessions")
        self._watermark, self._message_count = _top_message(conn), _message_count(conn)
        self._session_count = len(records)
        self._identity = identity
        self.stats.full_reads += 1
        self.stats.records_read += len(records)
        self.stats.last_reason = reason
        return RecordChanges(True, records, frozenset())

    def _incremental(self, conn: sqlite3.Connection, identity: _Identity) -> RecordChanges:
        top = _top_message(conn)
        if top < self._watermark:
            return self._full(conn, identity, "message ids went backwards")
        # A range of the rowid: grouped in SQL, the planner would walk the session index.
        new_messages = conn.execute(
            "SELECT session_id FROM main.messages WHERE id > ?", (self._watermark,)
        ).fetchall()
        touched = {str(row[0]) for row in new_messages}
        added = len(new_messages)
        changed = self._changed_rows(conn, identity.columns)
        gone_rids, gone_ids, deleted = self._vanished(conn, changed)
        if len(changed.rids) + len(gone_rids) > max(64, FULL_READ_SHARE * self._session_count):
            return self._full(conn, identity, "a large part of the table changed")
        # Every read counts the messages (a walk of the smallest index, 24 ms at 2.5 million):
        # a deletion the sessions do not show — the agent moves ``message_count`` with every
        # message it adds or removes, but a writer that does not is not ruled out — would
        # otherwise leave a stale row until the next full read, with no commit to trigger one.
        # (A deleted session took its messages along: that too is a full read, a rare one.)
        count = _message_count(conn)
        if count != self._message_count + added:
            return self._full(conn, identity, "messages were deleted or rewritten")
        self._move_snapshot(conn, identity.columns, changed.rids, gone_rids)
        wanted = touched | changed.ids
        records = self._records(conn, wanted)
        removed = frozenset((gone_ids | wanted) - records.keys())
        self._watermark, self._message_count = top, count
        self._session_count += changed.inserted - deleted
        self.stats.incremental_reads += 1
        self.stats.records_read += len(records)
        return RecordChanges(False, records, removed)

    def _changed_rows(self, conn: sqlite3.Connection, columns: Sequence[str]) -> _Changed:
        """Rows new or different since the snapshot, and the ids their rowids held before."""
        same = " AND ".join(f"t.{quote_ident(c)} IS s.{quote_ident(c)}" for c in columns)
        rows = conn.execute(
            "SELECT s.rowid, s.id, t.rid IS NULL, t.id FROM main.sessions s "
            "LEFT JOIN temp.list_snapshot t ON t.rid = s.rowid "
            f"WHERE t.rid IS NULL OR NOT ({same})"
        ).fetchall()
        return _Changed(
            [int(r[0]) for r in rows],
            {str(r[1]) for r in rows},
            sum(r[2] for r in rows),
            {str(r[3]) for r in rows if r[3] is not None and r[3] != r[1]},
        )

    def _vanished(
        self, conn: sqlite3.Connection, changed: _Changed
    ) -> tuple[list[int], set[str], int]:
        """Snapshot rows whose rowid is gone (rowids, ids, how many), and the ids displaced
        from a reused rowid. The join runs only when the table holds fewer rows than the
        snapshot and the inserts add up to: counting the rows is one walk of a small index."""
        now = int(conn.execute("SELECT COUNT(*) FROM main.sessions").fetchone()[0])
        if now == self._session_count + changed.inserted:
            return [], set(changed.displaced), 0
        rows = conn.execute(
            "SELECT t.rid, t.id, s.rowid IS NULL FROM temp.list_snapshot t "
            "LEFT JOIN main.sessions s ON s.rowid = t.rid "
            "WHERE s.rowid IS NULL OR s.id IS NOT t.id"
        ).fetchall()
        gone = {str(r[1]) for r in rows} | changed.displaced
        return [int(r[0]) for r in rows], gone, sum(r[2] for r in rows)

    def _move_snapshot(
        self,
        conn: sqlite3.Connection,
        columns: Sequence[str],
        changed: Sequence[int],
        gone: Sequence[int],
    ) -> None:
        names = ", ".join(quote_ident(c) for c in columns)
        for chunk in _chunks(sorted(set(changed) | set(gone))):
            marks = ", ".join("?" for _ in chunk)
            conn.execute(f"DELETE FROM temp.list_snapshot WHERE rid IN ({marks})", chunk)
        for chunk in _chunks(changed):
            marks = ", ".join("?" for _ in chunk)
            conn.execute(
                f"INSERT INTO temp.list_snapshot SELECT rowid, {names} FROM main.sessions "
                f"WHERE rowid IN ({marks})",
                chunk,
            )

    def _records(self, conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, SessionRecord]:
        found: dict[str, SessionRecord] = {}
        for chunk in _chunks(sorted(ids)):
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(f"{self._sql} WHERE s.id IN ({marks})", chunk)
            found.update((r.id, r) for r in map(SessionRecord._make, rows))
        return found


def _top_message(conn: sqlite3.Connection) -> int:
    """The highest message id: one seek (asked together with a count, SQLite would scan)."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM main.messages").fetchone()[0])


def _message_count(conn: sqlite3.Connection) -> int:
    """The number of messages: a walk of the smallest index of the table."""
    return int(conn.execute("SELECT COUNT(*) FROM main.messages").fetchone()[0])


def _chunks(items: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])
