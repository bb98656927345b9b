"""``<home>/webui/webui.db``: what the web UI owns, shared by every server process on the machine.

Per-session overrides (title, pinned, archived), tombstones of sessions removed from the
sidebar, the live stream registry and a change journal. The journal's newest version is part
of every cache stamp, so a change made through any process invalidates every process's lists.

Two connections: a writer used from worker threads (serialized by a lock) and a reader the
event loop uses for the cheap per-request snapshot; WAL mode means neither blocks the other.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

JOURNAL_KEEP = 2000
# How long an ended stream stays in snapshots, for lists built before it ended (seconds).
ENDED_STREAMS_KEPT = 60.0

MIGRATIONS: tuple[str, ...] = (
    # 1: overrides, tombstones, the change journal
    """
    CREATE TABLE overrides (
        profile TEXT NOT NULL, session_id TEXT NOT NULL,
        title TEXT, pinned INTEGER, archived INTEGER, updated_at REAL NOT NULL,
        PRIMARY KEY (profile, session_id));
    CREATE TABLE tombstones (
        profile TEXT NOT NULL, session_id TEXT NOT NULL, deleted_at REAL NOT NULL,
        PRIMARY KEY (profile, session_id));
    CREATE TABLE journal (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        profile TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
    """,
    # 2: the live stream registry
    """
    CREATE TABLE streams (
        stream_id TEXT PRIMARY KEY, profile TEXT NOT NULL, session_id TEXT NOT NULL,
        started_at REAL NOT NULL, heartbeat_at REAL NOT NULL,
        pending_user_message TEXT, pending_started_at REAL,
        message_count INTEGER, last_activity_at REAL,
        assistant_message_id INTEGER, pid INTEGER,
        ended_at REAL, status TEXT NOT NULL DEFAULT 'running', error TEXT);
    CREATE INDEX streams_open ON streams (ended_at, profile);
    """,
)


@dataclass(frozen=True, slots=True)
class Override:
    """What the web UI changed about a session; None means "as the agent says"."""

    title: str | None = None
    pinned: bool | None = None
    archived: bool | None = None


class WebuiDBError(Exception):
    """webui.db cannot be written (locked past the timeout, read-only home, full disk)."""


@dataclass(frozen=True, slots=True)
class StreamRecord:
    stream_id: str
    profile: str
    session_id: str
    started_at: float
    heartbeat_at: float
    pending_started_at: float | None
    message_count: int | None
    last_activity_at: float | None
    assistant_message_id: int | None
    ended_at: float | None
    status: str
    error: str | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The journal's newest version and the streams not yet ended, as of one read."""

    journal_version: int
    open_streams: tuple[StreamRecord, ...]
    # The newest journal entry that is not a stream starting or ending: what lists depend on
    # (streams reach the lists through their stamp marker and the overlay instead).
    structure_version: int = 0
    # Streams that ended lately, with their last count and activity, for lists built before.
    ended_streams: tuple[StreamRecord, ...] = ()


STREAM_COLUMNS = (
    "stream_id, profile, session_id, started_at, heartbeat_at, pending_started_at, "
    "message_count, last_activity_at, assistant_message_id, ended_at, status, error"
)


def stream_from_row(row: tuple[object, ...]) -> StreamRecord:
    return StreamRecord(*row)  # type: ignore[arg-type]


class WebuiDB:
    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = 5.0,
        wall_clock: Callable[[], float] | None = None,
    ) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._uri = str(path)
        # Why webui.db cannot be written (the home's webui/ is not a writable folder, the
        # file cannot be opened): then lists are still served from what can be read, and
        # every change is refused with a clear error (degraded mode).
        self.problem: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
            self._migrate()
            self._reader = self._connect()
        except (OSError, sqlite3.Error) as exc:
            self._degrade(exc)
        self._reader_version: int | None = None
        self._snapshot = Snapshot(0, ())

    def now(self) -> float:
        return self._wall_clock() if self._wall_clock is not None else time.time()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    @property
    def read_only(self) -> bool:
        return self.problem is not None

    def _degrade(self, exc: BaseException) -> None:
        """Serve read-only: the existing webui.db opened read-only when it can be (its
        overrides and tombstones still apply), else an empty in-memory one."""
        for name in ("_writer", "_reader"):
            conn = getattr(self, name, None)
            if conn is not None:
                conn.close()
        folder = self.path.parent
        if folder.exists() and not folder.is_dir():
            exc = NotADirectoryError(f"{folder} is not a folder")
        self.problem = (
            f"webui.db cannot be written ({exc}): lists are served read-only and "
            "changes are refused until the home's webui/ folder is writable (restart then)"
        )
        location = quote(str(self.path.absolute()))
        for uri in (f"file:{location}?mode=ro", f"file:{location}?mode=ro&immutable=1"):
            try:
                conn = self._open_uri(uri)
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            except sqlite3.Error:
                continue
            if version == len(MIGRATIONS):
                self._uri, self._writer, self._reader = uri, conn, self._open_uri(uri)
                return
            conn.close()
        # Nothing readable: an empty database in memory, alive while these connections are.
        self._uri = f"file:webui-readonly-{id(self)}?mode=memory&cache=shared"
        self._writer = self._open_uri(self._uri)
        for script in MIGRATIONS:
            self._writer.executescript(script)
        self._reader = self._open_uri(self._uri)

    def _open_uri(self, uri: str) -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )

    def require_writable(self) -> None:
        if self.problem is not None:
            raise WebuiDBError(self.problem)

    def _migrate(self) -> None:
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                version = self._writer.execute("PRAGMA user_version").fetchone()[0]
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in filter(str.strip, script.split(";")):
                        self._writer.execute(statement)
                    self._writer.execute(f"PRAGMA user_version = {number}")
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        return int(self._reader.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._writer.close()
        self._reader.close()

    # -- writes (worker threads) ---------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction on the writer connection."""
        self.require_writable()
        with self._lock:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise WebuiDBError(f"webui.db is not writable: {exc}") from None
            try:
                yield self._writer
                self._writer.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._writer.execute("ROLLBACK")
                raise WebuiDBError(f"webui.db write failed: {exc}") from None
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise

    def journal(self, conn: sqlite3.Connection, profile: str, reason: str) -> int:
        """Record a change inside the caller's transaction; returns its version."""
        cursor = conn.execute(
            "INSERT INTO journal (profile, reason, at) VALUES (?, ?, ?)",
            (profile, reason, self.now()),
        )
        version = int(cursor.lastrowid or 0)
        if version % 500 == 0:
            conn.execute("DELETE FROM journal WHERE version <= ?", (version - JOURNAL_KEEP,))
        return version

    def set_override(
        self, profile: str, session_id: str, reason: str, **fields: str | bool | None
    ) -> int:
        """Merge ``fields`` (title, pinned, archived) into the session's override."""
        with self.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO overrides (profile, session_id, updated_at) "
                "VALUES (?, ?, ?)",
                (profile, session_id, self.now()),
            )
            for name in ("title", "pinned", "archived"):
                if name in fields:
                    conn.execute(
                        f"UPDATE overrides SET {name} = ?, updated_at = ? "
                        "WHERE profile = ? AND session_id = ?",
                        (fields[name], self.now(), profile, session_id),
                    )
            return self.journal(conn, profile, reason)

    def set_tombstone(self, profile: str, session_id: str, deleted: bool) -> int:
        with self.write() as conn:
            if deleted:
                conn.execute(
                    "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?)",
                    (profile, session_id, self.now()),
                )
            else:
                conn.execute(
                    "DELETE FROM tombstones WHERE profile = ? AND session_id = ?",
                    (profile, session_id),
                )
            return self.journal(conn, profile, "deleted" if deleted else "restored")

    def record_change(self, profile: str, reason: str) -> int:
        with self.write() as conn:
            return self.journal(conn, profile, reason)

    # -- reads ---------------------------------------------------------------------------

    def read_profile_state(self, profile: str) -> tuple[dict[str, Override], frozenset[str]]:
        """Overrides and tombstones of one profile, for a list build (worker thread)."""
        conn = sqlite3.connect(
            self._uri, uri=True, timeout=self._busy_timeout, isolation_level=None
        )
        try:
            conn.execute("BEGIN")
            overrides = {
                str(sid): Override(
                    title=title,
                    pinned=None if pinned is None else bool(pinned),
                    archived=None if archived is None else bool(archived),
                )
                for sid, title, pinned, archived in conn.execute(
                    "SELECT session_id, title, pinned, archived FROM overrides WHERE profile = ?",
                    (profile,),
                )
            }
            tombstones = frozenset(
                str(r[0])
                for r in conn.execute(
                    "SELECT session_id FROM tombstones WHERE profile = ?", (profile,)
                )
            )
            return overrides, tombstones
        finally:
            conn.close()

    def query_one(self, sql: str, params: tuple[object, ...]) -> tuple[object, ...] | None:
        """One row read on the writer connection (current, and possible in degraded mode)."""
        with self._lock:
            row: tuple[object, ...] | None = self._writer.execute(sql, params).fetchone()
            return row

    def is_tombstoned(self, profile: str, session_id: str) -> bool:
        row = self._reader.execute(
            "SELECT 1 FROM tombstones WHERE profile = ? AND session_id = ?", (profile, session_id)
        ).fetchone()
        return row is not None

    def snapshot(self) -> Snapshot:
        """Journal version and open streams; re-read only when another connection committed.

        ``PRAGMA data_version`` costs microseconds and changes on every commit made by any
        other connection (the writer here, or another process), so an idle poll does no query.
        """
        version = int(self._reader.execute("PRAGMA data_version").fetchone()[0])
        if version != self._reader_version:
            self._reader.execute("BEGIN")
            try:
                journal, structure = self._reader.execute(
                    "SELECT MAX(version), MAX(CASE WHEN reason IN "
                    "('stream_started', 'stream_ended') THEN NULL ELSE version END) FROM journal"
                ).fetchone()
                rows = self._reader.execute(
                    f"SELECT {STREAM_COLUMNS} FROM streams WHERE ended_at IS NULL OR ended_at >= ?",
                    (self.now() - ENDED_STREAMS_KEPT,),
                ).fetchall()
            finally:
                self._reader.execute("COMMIT")
            streams = [stream_from_row(r) for r in rows]
            self._snapshot = Snapshot(
                int(journal or 0),
                tuple(s for s in streams if s.ended_at is None),
                int(structure or 0),
                tuple(s for s in streams if s.ended_at is not None),
            )
            self._reader_version = version
        return self._snapshot

    def changes_since(self, version: int) -> list[tuple[int, str, str]]:
        """Journal entries after ``version`` (other processes' changes, for change events)."""
        rows = self._reader.execute(
            "SELECT version, profile, reason FROM journal WHERE version > ? ORDER BY version",
            (version,),
        ).fetchall()
        return [(int(v), str(p), str(r)) for v, p, r in rows]
