"""Read-only access to an agent's ``state.db``: schema probing and one function per question.

Every connection is a ``mode=ro`` URI connection with a busy timeout of seconds; nothing here
writes, creates an index or changes the journal mode. Columns are selected by name and the
optional ones are probed, so every schema version (and upgraded column orders) reads the same.
Queries are set-based: one statement for the whole list, never one per row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from webui.records import MessageRecord, SessionRecord, as_time

PREVIEW_CHARS = 200

# Optional session columns, by the schema version that added them; absent ones read as NULL.
OPTIONAL_SESSION_COLUMNS = (
    "archived",
    "pinned",
    "hidden",
    "session_key",
    "chat_id",
    "thread_id",
    "last_activity_at",
)
BASE_SESSION_COLUMNS = (
    "id",
    "source",
    "title",
    "model",
    "model_config",
    "parent_session_id",
    "started_at",
    "ended_at",
    "end_reason",
    "message_count",
    "input_tokens",
    "output_tokens",
    "estimated_cost_usd",
)


class SourceUnavailable(Exception):
    """The database exists but cannot be read now: locked, corrupt, not a file, no permission."""

    def __init__(self, path: Path, reason: str, detail: str) -> None:
        super().__init__(f"{path}: {reason}: {detail}")
        self.path = path
        self.reason = reason
        self.detail = detail


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def classify_error(path: Path, exc: sqlite3.Error) -> SourceUnavailable:
    text = str(exc)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        reason = "locked"
    elif "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        reason = "corrupt"
    else:
        reason = "unreadable"
    return SourceUnavailable(path, reason, text)


@contextmanager
def read_connection(path: Path, busy_timeout: float) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection inside one read transaction, or None when the file is missing.

    One transaction makes every statement of a read see the same snapshot.
    """
    if not path.exists():
        yield None
        return
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
    try:
        conn.execute("BEGIN")
        yield conn
    except sqlite3.Error as exc:
        raise classify_error(path, exc) from None
    finally:
        conn.close()


def table_columns(conn: sqlite3.Connection, table: str) -> frozenset[str]:
    """The column names ``table`` has in this database (empty when it does not exist)."""
    return frozenset(row[1] for row in conn.execute(f"PRAGMA table_info({quote_ident(table)})"))


def _has_session_index(conn: sqlite3.Connection) -> bool:
    """Whether some index on ``messages`` starts with ``session_id`` (the agent's usual one)."""
    for index in conn.execute("PRAGMA index_list(messages)").fetchall():
        first = conn.execute(f"PRAGMA index_info({quote_ident(index[1])})").fetchone()
        if first is not None and first[2] == "session_id":
            return True
    return False


def quote_ident(name: str) -> str:
    """An SQL identifier quoted, for names SQLite cannot take as parameters."""
    return '"' + name.replace('"', '""') + '"'


# How each column is read, so that foreign or old values (text timestamps, NULL counts, a
# blob title) arrive as the record's types. Text that is no number is a missing time.
_TIME = "CASE WHEN CAST({0} AS REAL) > 0 THEN CAST({0} AS REAL) END"
_INT = "COALESCE(CAST({0} AS INTEGER), 0)"
_FLAG = "(COALESCE(CAST({0} AS INTEGER), 0) != 0)"
_TEXT = "CAST({0} AS TEXT)"
_COERCE = {
    "source": "COALESCE(NULLIF(CAST({0} AS TEXT), ''), 'unknown')",
    "title": "NULLIF(CAST({0} AS TEXT), '')",
    "started_at": _TIME,
    "ended_at": _TIME,
    "last_activity_at": _TIME,
    "message_count": "MAX(" + _INT + ", 0)",
    "input_tokens": _INT,
    "output_tokens": _INT,
    "estimated_cost_usd": "CAST({0} AS REAL)",
    "archived": _FLAG,
    "pinned": _FLAG,
    "hidden": _FLAG,
}
_ABSENT = {"archived": "0", "pinned": "0", "hidden": "0", "message_count": "0"}


def _field(name: str, columns: frozenset[str]) -> str:
    if name not in columns:
        return f"{_ABSENT.get(name, 'NULL')} AS {name}"
    return _COERCE.get(name, _TEXT).format(f"s.{name}") + f" AS {name}"


def _session_select(columns: frozenset[str], indexed: bool) -> str:
    wanted = BASE_SESSION_COLUMNS + OPTIONAL_SESSION_COLUMNS
    fields = ", ".join(_field(c, columns) for c in wanted)
    preview = (
        f"(SELECT CAST(substr(m.content, 1, {PREVIEW_CHARS}) AS TEXT) FROM messages m "
        "WHERE m.session_id = s.id AND m.role = 'user' ORDER BY m.timestamp, m.id LIMIT 1)"
    )
    if indexed:
        # With the (session_id, timestamp) index each lookup is one seek: cheaper than a scan.
        last = _TIME.format("(SELECT MAX(m.timestamp) FROM messages m WHERE m.session_id = s.id)")
        return (
            f"SELECT {fields}, {last} AS last_message_at, "
            f"CASE WHEN s.title IS NULL OR s.title = '' THEN {preview} END AS preview, "
            "NULL AS cwd, NULL AS git_branch FROM sessions s"
        )
    # Without the index a per-session subquery would scan the table once per session: one
    # grouped pass over messages serves every session instead.
    return (
        f"SELECT {fields}, {_TIME.format('lm.last_ts')} AS last_message_at, "
        "fu.preview AS preview, NULL AS cwd, NULL AS git_branch FROM sessions s "
        "LEFT JOIN (SELECT session_id, MAX(timestamp) AS last_ts FROM messages "
        "GROUP BY session_id) lm ON lm.session_id = s.id "
        f"LEFT JOIN (SELECT m.session_id, CAST(substr(m.content, 1, {PREVIEW_CHARS}) AS TEXT) "
        "AS preview, MIN(m.id) FROM messages m WHERE m.role = 'user' "
        "GROUP BY m.session_id) fu ON fu.session_id = s.id AND (s.title IS NULL OR s.title = '')"
    )


def _has_tables(conn: sqlite3.Connection, *names: str) -> bool:
    placeholders = ", ".join("?" for _ in names)
    found = conn.execute(
        f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})",
        names,
    ).fetchone()[0]
    return bool(found == len(names))


def has_list_tables(conn: sqlite3.Connection) -> bool:
    return _has_tables(conn, "sessions", "messages")


def session_sql(conn: sqlite3.Connection) -> str:
    """The statement that reads every session as a ``SessionRecord`` (append a WHERE to narrow)."""
    return _session_select(table_columns(conn, "sessions"), _has_session_index(conn))


def list_columns(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The ``sessions`` columns a record is made from, as this database has them."""
    columns = table_columns(conn, "sessions")
    return tuple(c for c in BASE_SESSION_COLUMNS + OPTIONAL_SESSION_COLUMNS if c in columns)


def read_sessions(path: Path, busy_timeout: float) -> list[SessionRecord]:
    """Every session of one ``state.db``; a missing or empty database is an empty list."""
    with read_connection(path, busy_timeout) as conn:
        if conn is None or not has_list_tables(conn):
            return []
        return list(map(SessionRecord._make, conn.execute(session_sql(conn))))


def read_session(path: Path, session_id: str, busy_timeout: float) -> SessionRecord | None:
    """One session by id, read with the same rules as the list."""
    with read_connection(path, busy_timeout) as conn:
        if conn is None or not _has_tables(conn, "sessions", "messages"):
            return None
        sql = _session_select(table_columns(conn, "sessions"), indexed=True)
        row = conn.execute(f"{sql} WHERE s.id = ?", (session_id,)).fetchone()
        return None if row is None else SessionRecord._make(row)


def read_messages(
    path: Path, session_id: str, *, after: int, limit: int, busy_timeout: float
) -> list[MessageRecord]:
    """Messages of one session with an id above ``after``, oldest first."""
    with read_connection(path, busy_timeout) as conn:
        if conn is None or not _has_tables(conn, "messages"):
            return []
        rows = conn.execute(
            "SELECT id, role, content, timestamp FROM messages "
            "WHERE session_id = ? AND id > ? ORDER BY id LIMIT ?",
            (session_id, after, limit),
        ).fetchall()
    return [MessageRecord(int(r[0]), _as_text(r[1]), _as_text(r[2]), as_time(r[3])) for r in rows]
