"""Read-only access to an agent's ``state.db``: schema probing and one function per question.

Every connection is a ``mode=ro`` URI connection with a busy timeout of seconds; nothing here
writes, creates an index or changes the journal mode. Columns are selected by name and the
optional ones are probed, so every schema version (and upgraded column orders) reads the same.
Queries are set-based: one statement for the whole list, never one per row.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

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


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One ``sessions`` row as the list needs it, with its newest message time and preview."""

    id: str
    source: str
    title: str | None
    model: str | None
    model_config: str | None
    parent_session_id: str | None
    started_at: float | None
    ended_at: float | None
    end_reason: str | None
    message_count: int
    input_tokens: int
    output_tokens: int
    estimated_cost_usd: float | None
    archived: bool
    pinned: bool
    hidden: bool
    session_key: str | None
    chat_id: str | None
    thread_id: str | None
    last_activity_at: float | None
    last_message_at: float | None
    preview: str | None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    role: str | None
    content: str | None
    timestamp: float | None


def as_time(value: object) -> float | None:
    """Epoch seconds, or None for anything that is not a finite number (old text timestamps)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _as_int(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    return 0


def _as_float(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _classify(path: Path, exc: sqlite3.Error) -> SourceUnavailable:
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
        raise _classify(path, exc) from None
    try:
        conn.execute("BEGIN")
        yield conn
    except sqlite3.Error as exc:
        raise _classify(path, exc) from None
    finally:
        conn.close()


def table_columns(conn: sqlite3.Connection, table: str) -> frozenset[str]:
    return frozenset(row[1] for row in conn.execute(f"PRAGMA table_info({table})"))


def _has_session_index(conn: sqlite3.Connection) -> bool:
    """Whether some index on ``messages`` starts with ``session_id`` (the agent's usual one)."""
    for index in conn.execute("PRAGMA index_list(messages)").fetchall():
        first = conn.execute(f"PRAGMA index_info({_quote_ident(index[1])})").fetchone()
        if first is not None and first[2] == "session_id":
            return True
    return False


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _session_select(columns: frozenset[str], indexed: bool) -> str:
    wanted = BASE_SESSION_COLUMNS + OPTIONAL_SESSION_COLUMNS
    fields = [f"s.{c}" if c in columns else f"NULL AS {c}" for c in wanted]
    preview = (
        f"(SELECT substr(m.content, 1, {PREVIEW_CHARS}) FROM messages m "
        "WHERE m.session_id = s.id AND m.role = 'user' ORDER BY m.timestamp, m.id LIMIT 1)"
    )
    if indexed:
        # With the (session_id, timestamp) index each lookup is one seek: cheaper than a scan.
        last = "(SELECT MAX(m.timestamp) FROM messages m WHERE m.session_id = s.id)"
        return (
            f"SELECT {', '.join(fields)}, {last} AS last_message_at, "
            f"CASE WHEN s.title IS NULL OR s.title = '' THEN {preview} END AS preview "
            "FROM sessions s"
        )
    # Without the index a per-session subquery would scan the table once per session: one
    # grouped pass over messages serves every session instead.
    return (
        f"SELECT {', '.join(fields)}, lm.last_ts AS last_message_at, fu.preview AS preview "
        "FROM sessions s "
        "LEFT JOIN (SELECT session_id, MAX(timestamp) AS last_ts FROM messages "
        "GROUP BY session_id) lm ON lm.session_id = s.id "
        "LEFT JOIN (SELECT m.session_id, substr(m.content, 1, "
        f"{PREVIEW_CHARS}) AS preview, MIN(m.id) FROM messages m WHERE m.role = 'user' "
        "GROUP BY m.session_id) fu ON fu.session_id = s.id AND (s.title IS NULL OR s.title = '')"
    )


def _record(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=str(row["id"]),
        source=_as_text(row["source"]) or "unknown",
        title=_as_text(row["title"]) or None,
        model=_as_text(row["model"]),
        model_config=_as_text(row["model_config"]),
        parent_session_id=_as_text(row["parent_session_id"]),
        started_at=as_time(row["started_at"]),
        ended_at=as_time(row["ended_at"]),
        end_reason=_as_text(row["end_reason"]),
        message_count=max(0, _as_int(row["message_count"])),
        input_tokens=_as_int(row["input_tokens"]),
        output_tokens=_as_int(row["output_tokens"]),
        estimated_cost_usd=_as_float(row["estimated_cost_usd"]),
        archived=bool(_as_int(row["archived"])),
        pinned=bool(_as_int(row["pinned"])),
        hidden=bool(_as_int(row["hidden"])),
        session_key=_as_text(row["session_key"]),
        chat_id=_as_text(row["chat_id"]),
        thread_id=_as_text(row["thread_id"]),
        last_activity_at=as_time(row["last_activity_at"]),
        last_message_at=as_time(row["last_message_at"]),
        preview=_as_text(row["preview"]),
    )


def _has_tables(conn: sqlite3.Connection, *names: str) -> bool:
    placeholders = ", ".join("?" for _ in names)
    found = conn.execute(
        f"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})",
        names,
    ).fetchone()[0]
    return bool(found == len(names))


def read_sessions(path: Path, busy_timeout: float) -> list[SessionRecord]:
    """Every session of one ``state.db``; a missing or empty database is an empty list."""
    with read_connection(path, busy_timeout) as conn:
        if conn is None or not _has_tables(conn, "sessions", "messages"):
            return []
        conn.row_factory = sqlite3.Row
        sql = _session_select(table_columns(conn, "sessions"), _has_session_index(conn))
        return [_record(row) for row in conn.execute(sql)]


def read_session(path: Path, session_id: str, busy_timeout: float) -> SessionRecord | None:
    """One session by id, read with the same rules as the list."""
    with read_connection(path, busy_timeout) as conn:
        if conn is None or not _has_tables(conn, "sessions", "messages"):
            return None
        conn.row_factory = sqlite3.Row
        sql = _session_select(table_columns(conn, "sessions"), indexed=True)
        row = conn.execute(f"{sql} WHERE s.id = ?", (session_id,)).fetchone()
        return None if row is None else _record(row)


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
