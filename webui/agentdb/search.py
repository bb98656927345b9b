"""Message search in an agent's ``state.db``, through the agent's own FTS5 tables, read-only.

The index tables are found by ``fts_layout``, the terms made safe by ``fts_terms`` and routed
to an index by ``fts_routes``; here the routes run as SQL. A hit names a message, whose text
is always read from ``messages``. Where no usable index can answer (none, a stale or corrupt
one, terms too short for trigrams) the search is a ``LIKE`` scan bounded by rows and time, and
says so.

Nothing here writes: no index is created, the connection is ``read_connection``'s.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from webui.agentdb.fts_layout import probe_fts
from webui.agentdb.fts_routes import Route, routes, scan_route
from webui.agentdb.fts_terms import Term, like_pattern, match_expression
from webui.agentdb.reader import read_connection, table_columns

# Roles a person searches: tool output and system prompts are machine text.
ROLES = ("user", "assistant")


class MessageHit(NamedTuple):
    """The best matching message of one session: lower ``score`` is better (bm25; 0 in a
    scan, where the newest match stands for the session). Made straight from SQL rows."""

    session_id: str
    message_id: int
    role: str | None
    timestamp: float | None
    score: float


class SessionFacts(NamedTuple):
    """What the messaging and visibility rules need of a session the list does not show."""

    conversation: tuple[str, ...] | None
    hidden: bool
    archived: bool
    source: str
    delegated: bool  # a subagent's session (the ``_delegate_from`` marker)


@dataclass(frozen=True, slots=True)
class HitSet:
    hits: tuple[MessageHit, ...]
    index: str  # fts, trigram, scan or mixed
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much one search may cost: hits taken from an index (the newest ones, then ranked:
    a fixed bound, so that every page ranks the same hits the same way), messages a scan
    reads (the newest ones), seconds a statement may run. A scan that a bound cut short is
    not ``complete``."""

    max_hits: int = 1000
    scan_rows: int = 200_000
    seconds: float = 2.0


DEFAULT_BOUNDS = Bounds()


class _Deadline:
    def __init__(self, conn: sqlite3.Connection, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.hit = False
        conn.set_progress_handler(self._check, 20_000)

    def _check(self) -> int:
        if time.monotonic() > self.at:
            self.hit = True
            return 1
        return 0


def _interrupted(exc: sqlite3.OperationalError) -> bool:
    return "interrupt" in str(exc).lower()


def _is_lock(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _like_clause(terms: Sequence[Term]) -> tuple[str, list[str]]:
    clause = "".join(" AND m.content LIKE ? ESCAPE '\\'" for _ in terms)
    return clause, [like_pattern(t.text) for t in terms]


_ROLE_CLAUSE = "m.role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")"
# A hit's fields, coerced in SQL so that a row is a ``MessageHit`` as it comes.
_HIT_FIELDS = (
    "CAST(m.session_id AS TEXT), m.id, CAST(m.role AS TEXT), "
    "CASE WHEN CAST(m.timestamp AS REAL) > 0 THEN CAST(m.timestamp AS REAL) END"
)


def _index_hits(
    conn: sqlite3.Connection,
    table: str,
    match: str,
    filters: Sequence[Term],
    limit: int,
) -> list[tuple[object, ...]]:
    """The best hit per session among the newest ``limit`` index hits."""
    like, params = _like_clause(filters)
    sql = (
        f"SELECT {_HIT_FIELDS}, MIN(h.score) FROM "
        f"(SELECT rowid AS id, bm25({table}) AS score FROM {table} WHERE {table} MATCH ? "
        "ORDER BY rowid DESC LIMIT ?) h JOIN messages m ON m.id = h.id "
        f"WHERE {_ROLE_CLAUSE}{like} GROUP BY m.session_id"
    )
    return conn.execute(sql, [match, limit, *params]).fetchall()


def _scan_hits(
    conn: sqlite3.Connection,
    terms: Sequence[Term],
    window: tuple[int, int],
    limit: int,
    deadline: _Deadline,
) -> tuple[list[tuple[object, ...]], bool]:
    """Newest first through ``messages`` ids in ``window`` (low exclusive), one hit per
    session; stops at ``limit`` matches or the deadline (then not complete)."""
    like, params = _like_clause(terms)
    sql = (
        f"SELECT {_HIT_FIELDS}, 0.0 FROM messages m "
        f"WHERE m.id > ? AND m.id <= ? AND {_ROLE_CLAUSE}{like} ORDER BY m.id DESC LIMIT ?"
    )
    seen: dict[object, tuple[object, ...]] = {}
    complete = True
    cursor = conn.execute(sql, [window[0], window[1], *params, limit])
    try:
        for row in cursor:
            seen.setdefault(row[0], row)
    except sqlite3.OperationalError as exc:
        if not _interrupted(exc):
            raise
        complete = False
    return list(seen.values()), complete and not deadline.hit


Row = tuple[object, ...]


def _run_route(
    conn: sqlite3.Connection, route: Route, bounds: Bounds, deadline: _Deadline
) -> tuple[list[Row], bool]:
    if route.table is None:
        top = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM messages").fetchone()[0])
        low = max(0, top - bounds.scan_rows)
        rows, complete = _scan_hits(conn, route.filtered, (low, top), bounds.max_hits, deadline)
        return rows, complete and low == 0
    match = match_expression(route.matched, column=route.column, trigram=route.trigram)
    rows = _index_hits(conn, route.table, match, route.filtered, bounds.max_hits)
    return rows, True


def _search(
    conn: sqlite3.Connection, terms: Sequence[Term], bounds: Bounds
) -> tuple[list[Row], str, bool]:
    tables = probe_fts(conn)
    deadline = _Deadline(conn, bounds.seconds)
    tried = routes(tables, terms)
    rows: list[Row] = []
    name, complete = "fts", True
    for route in tried:
        try:
            rows, complete = _run_route(conn, route, bounds, deadline)
        except sqlite3.DatabaseError as exc:
            if _is_lock(exc):
                raise  # the database, not the index: the caller reports it unavailable
            if isinstance(exc, sqlite3.OperationalError) and _interrupted(exc):
                return [], route.name, False
            # A corrupt or unusable index; ``messages`` still has the text.
            rows, complete = _run_route(conn, scan_route(terms), bounds, deadline)
            return rows, "scan", complete
        name = route.name
        if rows:
            break
    if tables.gap is not None and name != "scan":
        gap_rows, gap_complete = _scan_hits(conn, terms, tables.gap, bounds.max_hits, deadline)
        if gap_rows:
            known = {r[0] for r in rows}
            rows += [r for r in gap_rows if r[0] not in known]
        return rows, "mixed", complete and gap_complete
    return rows, name, complete


_SESSION_FIELDS = (
    "source",
    "session_key",
    "chat_id",
    "thread_id",
    "hidden",
    "archived",
    "model_config",
)


def _conversation(
    source: object, key: object, chat: object, thread: object
) -> tuple[str, ...] | None:
    if key:
        return ("key", str(key))
    if chat:
        return ("chat", str(source), str(chat), str(thread or ""))
    return None


class MessageSearch:
    """One search's reads of one ``state.db``: every statement on one read-only connection
    inside one read transaction, so hits, facts and texts come from the same snapshot."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.searchable = {"id", "session_id", "content"} <= table_columns(conn, "messages")
        self._sessions: frozenset[str] | None = None

    @property
    def sessions(self) -> frozenset[str]:
        """The columns of ``sessions``, read when first needed (most searches never do)."""
        if self._sessions is None:
            self._sessions = table_columns(self.conn, "sessions")
        return self._sessions

    def find(self, terms: Sequence[Term], bounds: Bounds = DEFAULT_BOUNDS) -> HitSet:
        """The best matching message of every session that has one."""
        if not self.searchable:
            return HitSet((), "fts")
        try:
            rows, index, complete = _search(self.conn, terms, bounds)
        finally:
            self.conn.set_progress_handler(None, 0)
        return HitSet(tuple(map(MessageHit._make, rows)), index, complete)

    def _chunks(self, sql: str, values: Sequence[object]) -> Iterable[Row]:
        """``sql`` with its ``{marks}`` filled for each chunk of ``values`` (bound, never text)."""
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            yield from self.conn.execute(sql.format(marks=", ".join("?" for _ in part)), part)

    def facts(self, session_ids: Iterable[str]) -> dict[str, SessionFacts]:
        """The conversation, ``hidden`` and ``archived`` of each session (absent columns:
        none); sessions outside any conversation are left out."""
        columns = self.sessions
        keys = [f"s.{c} IS NOT NULL" for c in ("session_key", "chat_id") if c in columns]
        if not keys:
            return {}  # before v22 the agent kept no conversations
        fields = ", ".join(f"s.{c}" if c in columns else "NULL" for c in _SESSION_FIELDS)
        sql = (
            f"SELECT s.id, {fields} FROM sessions s "
            f"WHERE ({' OR '.join(keys)}) AND s.id IN ({{marks}})"
        )
        facts: dict[str, SessionFacts] = {}
        for sid, source, key, chat, thread, hidden, archived, config in self._chunks(
            sql, list(session_ids)
        ):
            conversation = _conversation(source, key, chat, thread)
            if conversation is not None:
                delegated = '"_delegate_from"' in str(config or "")
                facts[str(sid)] = SessionFacts(
                    conversation, bool(hidden), bool(archived), str(source), delegated
                )
        return facts

    def members(
        self, conversations: Iterable[tuple[str, ...]]
    ) -> dict[tuple[str, ...], tuple[str, ...]]:
        """The session ids of each messaging conversation (same ``session_key``, else the
        same platform, chat and thread), as the list groups them."""
        if not {"session_key", "chat_id", "thread_id"} <= self.sessions:
            return {}
        wanted = set(conversations)
        keys = sorted({c[1] for c in wanted if c[0] == "key"})
        chats = sorted({c[2] for c in wanted if c[0] == "chat"})
        found: dict[tuple[str, ...], list[str]] = {}
        fields = "id, source, session_key, chat_id, thread_id"
        for name, values in (("session_key", keys), ("chat_id", chats)):
            sql = f"SELECT {fields} FROM sessions WHERE {name} IN ({{marks}})"
            for sid, source, key, chat, thread in self._chunks(sql, values):
                conversation = _conversation(source, key, chat, thread)
                if conversation in wanted:
                    found.setdefault(conversation, []).append(str(sid))
        return {c: tuple(ids) for c, ids in found.items()}

    def contents(self, ids: Sequence[int], *, chars: int) -> dict[int, str]:
        """The text of the messages ``ids`` (at most ``chars`` of each)."""
        if not ids or not self.searchable:
            return {}
        sql = (
            f"SELECT id, substr(CAST(content AS TEXT), 1, {int(chars)}) FROM messages "
            "WHERE id IN ({marks})"
        )
        return {int(str(r[0])): str(r[1] or "") for r in self._chunks(sql, list(ids))}


@contextmanager
def open_search(path: Path, busy_timeout: float) -> Iterator[MessageSearch | None]:
    """A ``MessageSearch`` of the database at ``path`` (None when the file is missing; one
    without the tables finds nothing). Errors become ``SourceUnavailable`` as every read's do."""
    with read_connection(path, busy_timeout) as conn:
        yield None if conn is None else MessageSearch(conn)


def find_messages(
    path: Path, terms: Sequence[Term], *, busy_timeout: float, bounds: Bounds = DEFAULT_BOUNDS
) -> HitSet:
    """``MessageSearch.find`` on a read of its own; a missing database finds nothing."""
    with open_search(path, busy_timeout) as search:
        return HitSet((), "fts") if search is None else search.find(terms, bounds)


def like_scan(path: Path, terms: Sequence[Term], *, busy_timeout: float) -> list[Row]:
    """Every matching message by a plain, unbounded ``LIKE`` scan: the benchmark's baseline."""
    like, params = _like_clause(terms)
    sql = f"SELECT m.session_id, m.id FROM messages m WHERE {_ROLE_CLAUSE}{like}"
    with read_connection(path, busy_timeout) as conn:
        if conn is None:
            return []
        rows: list[Row] = conn.execute(sql, params).fetchall()
    return rows
