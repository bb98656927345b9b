"""The web UI's one writer into an agent's ``state.db``, writing exactly as the agent does.

Several processes write to one ``state.db`` (gateway, CLI sessions, cron, web UIs). Like the
agent, each write here is one ``BEGIN IMMEDIATE … COMMIT`` on one long-lived connection; on
``database is locked`` the transaction is rolled back and retried after 20-150 ms with jitter
until a budget of seconds runs out. Columns added by later schema versions are set only where
the probed table has them, and an existing database's schema and journal mode are never changed.
"""

from __future__ import annotations

import os
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from webui.agentdb.reader import table_columns
from webui.agentdb.schema import (
    create_state_db,
    insert_message,
    insert_session,
    new_session_id,
    open_writer,
)

SOURCE = "webui"
TITLE_MAX_CHARS = 100
RETRY_MIN_DELAY = 0.020
RETRY_MAX_DELAY = 0.150
# A clash of random id suffixes within one second is rare; a handful of draws settles it.
_ID_ATTEMPTS = 16
_TITLE_ATTEMPTS = 1000
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]


class DatabaseBusy(Exception):
    """The retry budget ran out while ``state.db`` stayed locked by another writer."""

    def __init__(self, path: Path, waited: float) -> None:
        super().__init__(f"{path} stayed locked by another writer for {waited:.1f} s")
        self.path = path
        self.waited = waited


def is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether the error is SQLite's busy/locked condition, the one worth retrying."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF in _BUSY_CODES:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database is busy" in text


def clean_title(title: str) -> str:
    """A title as stored: whitespace collapsed, at most ``TITLE_MAX_CHARS`` characters."""
    return " ".join(title.split())[:TITLE_MAX_CHARS].rstrip()


def title_candidates(title: str) -> Iterator[str]:
    """``title``, then ``title (2)``, ``title (3)`` … each cut to fit the length limit."""
    yield title
    for number in range(2, _TITLE_ATTEMPTS + 1):
        suffix = f" ({number})"
        yield title[: TITLE_MAX_CHARS - len(suffix)].rstrip() + suffix


def _create_new(path: Path) -> None:
    """Create a brand-new ``state.db`` with the latest schema, unless another process wins.

    The schema is built in a temporary file and hard-linked into place, so no reader ever sees
    a half-built database and a concurrent creator's file is never overwritten.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    try:
        create_state_db(temporary)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another writer created it first: use theirs
        except OSError:
            # A filesystem without hard links: a rename, which can only race with a creator.
            if not path.exists():
                os.replace(temporary, path)
    finally:
        for leftover in ("", "-wal", "-shm", "-journal"):
            Path(f"{temporary}{leftover}").unlink(missing_ok=True)


class AgentWriter:
    """One writer connection to one profile's ``state.db``.

    Sync methods: the caller runs them in a worker thread. Thread-safe (a lock around the
    connection). Timestamps are passed in (``now``), so callers own the clock.
    """

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout: float = 5.0,
        retry_budget: float = 10.0,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        if not path.exists():
            _create_new(path)
        self.path = path
        self.retry_budget = retry_budget
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._conn = open_writer(path, busy_timeout=busy_timeout)
        # Probed once: versions only add columns, and the optional ones are all we look up.
        self._session_columns = table_columns(self._conn, "sessions")
        self._message_columns = table_columns(self._conn, "messages")

    # --- transactions -------------------------------------------------------------------------

    def _pause(self, remaining: float) -> None:
        jitter = self._jitter() if self._jitter is not None else random.random()
        delay = RETRY_MIN_DELAY + (RETRY_MAX_DELAY - RETRY_MIN_DELAY) * min(max(jitter, 0.0), 1.0)
        # Looked up at call time so tests (and freezegun) can replace time.sleep.
        sleep = self._sleep if self._sleep is not None else time.sleep
        sleep(min(delay, remaining))

    def _attempt(self, work: Work[T], write: bool) -> T:
        conn = self._conn
        if not write:
            return work(conn)
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            # Undo this attempt whatever went wrong; SQLite may already have rolled back.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    def _run(self, work: Work[T], *, write: bool = True) -> T:
        """Run ``work`` (in one ``BEGIN IMMEDIATE`` transaction when writing), retrying on busy."""
        with self._lock:
            start = time.monotonic()
            while True:
                try:
                    return self._attempt(work, write)
                except sqlite3.OperationalError as exc:
                    if not is_busy(exc):
                        raise
                    waited = time.monotonic() - start
                    if waited >= self.retry_budget:
                        raise DatabaseBusy(self.path, waited) from exc
                    self._pause(self.retry_budget - waited)

    # --- helpers inside a transaction -----------------------------------------------------------

    def _present(self, columns: Mapping[str, object], table: frozenset[str]) -> dict[str, object]:
        return {name: value for name, value in columns.items() if name in table}

    def _require_session(self, conn: sqlite3.Connection, session_id: str) -> str | None:
        """The session's title; ``KeyError`` when there is no such session."""
        row = conn.execute("SELECT title FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise KeyError(session_id)
        title: str | None = row[0]
        return title

    def _store_title(
        self, conn: sqlite3.Connection, session_id: str, title: str, source: str
    ) -> str:
        """Set a title no other session has (``title (2)`` … on a clash); returns the one stored."""
        extra = self._present({"title_source": source}, self._session_columns)
        assignments = ", ".join(f"{name} = ?" for name in ["title", *extra])
        for candidate in title_candidates(title):
            taken = conn.execute(
                "SELECT 1 FROM sessions WHERE title = ? AND id != ?", (candidate, session_id)
            ).fetchone()
            if taken is not None:
                continue
            try:
                conn.execute(
                    f"UPDATE sessions SET {assignments} WHERE id = ?",
                    (candidate, *extra.values(), session_id),
                )
            except sqlite3.IntegrityError:
                continue  # a uniqueness rule looser than equality (say NOCASE) matched another
            return candidate
        raise ValueError(f"no free variant of the title {title!r}")

    def _touch(self, conn: sqlite3.Connection, session_id: str, now: float) -> None:
        if "last_activity_at" in self._session_columns:
            conn.execute("UPDATE sessions SET last_activity_at = ? WHERE id = ?", (now, session_id))

    # --- the operations ---------------------------------------------------------------------------

    def create_session(
        self, *, now: float, title: str | None = None, model: str | None = None
    ) -> str:
        """Start a ``source='webui'`` session with a fresh agent-style id; returns the id."""
        wanted = clean_title(title) if title else ""
        extra = {"model": model, "created_source": SOURCE, "last_activity_at": now}

        def work(conn: sqlite3.Connection) -> str:
            for _ in range(_ID_ATTEMPTS):
                session_id = new_session_id(now, secrets.token_hex(3))
                exists = conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,))
                if exists.fetchone() is None:
                    break
            else:
                raise RuntimeError("could not draw an unused session id")
            columns = self._present(extra, self._session_columns)
            insert_session(conn, id=session_id, source=SOURCE, started_at=now, **columns)
            if wanted:
                self._store_title(conn, session_id, wanted, "user")
            return session_id

        return self._run(work)

    def append_message(self, session_id: str, *, role: str, content: str, now: float) -> int:
        """Add a message (``message_count`` +1 in the same transaction); returns its id."""

        def work(conn: sqlite3.Connection) -> int:
            self._require_session(conn, session_id)
            columns = self._present({"active": 1}, self._message_columns)
            return insert_message(
                conn, session_id=session_id, role=role, content=content, timestamp=now, **columns
            )

        return self._run(work)

    def set_message_content(
        self,
        session_id: str,
        message_id: int,
        *,
        content: str,
        now: float,
        finish_reason: str | None = None,
    ) -> None:
        """Replace a message's content (the growing assistant reply) and mark activity."""
        assignments = "content = ?" + (", finish_reason = ?" if finish_reason is not None else "")
        values = (content, finish_reason) if finish_reason is not None else (content,)

        def work(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                f"UPDATE messages SET {assignments} WHERE id = ? AND session_id = ?",
                (*values, message_id, session_id),
            )
            if cursor.rowcount == 0:
                raise KeyError((session_id, message_id))
            self._touch(conn, session_id, now)

        self._run(work)

    def set_title_if_missing(self, session_id: str, title: str) -> None:
        """Give an untitled session ``title`` (made unique); a titled one keeps its own."""
        wanted = clean_title(title)
        if not wanted:
            return

        def work(conn: sqlite3.Connection) -> None:
            if not self._require_session(conn, session_id):
                self._store_title(conn, session_id, wanted, "auto")

        self._run(work)

    def session_exists(self, session_id: str) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone()
            return row is not None

        return self._run(work, write=False)

    def message_count(self, session_id: str) -> int:
        """The session's ``message_count`` as committed (0 for an unknown session)."""

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT message_count FROM sessions WHERE id = ?", (session_id,)
            ).fetchone()
            return int(row[0] or 0) if row is not None else 0

        return self._run(work, write=False)

    def history(self, session_id: str, limit: int = 50) -> list[tuple[str, str]]:
        """``(role, content)`` of the newest ``limit`` user/assistant messages, oldest first.

        Messages compacted away by the agent (``active = 0``) and empty ones (a reply that has
        not started) are left out: they are not part of the conversation a model should see.
        """
        active = " AND COALESCE(active, 1) != 0" if "active" in self._message_columns else ""
        query = (
            "SELECT role, content FROM messages WHERE session_id = ?"
            " AND role IN ('user', 'assistant') AND content IS NOT NULL AND content != ''"
            f"{active} ORDER BY id DESC LIMIT ?"
        )

        def work(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(query, (session_id, limit)).fetchall()
            return [(str(role), str(content)) for role, content in reversed(rows)]

        return self._run(work, write=False)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> AgentWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
