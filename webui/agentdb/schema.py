"""The agent's ``state.db`` schema as the agent itself writes it, version by version.

This is the *writer's* side of the database the session list reads: the web UI's own chat
turns write through it, and tests and the demo home use it to play the agent. It builds every
schema version seen in the wild, both as a fresh database (columns in the order the agent
declares them) and as an upgraded one (the oldest layout plus ``ALTER TABLE ADD COLUMN`` per
version, so the column order differs), in WAL or DELETE journal mode, with the agent's FTS5
tables and their triggers (``fts_schema``), so every write costs what it costs the agent. The
list path never writes: it reads ``state.db`` through ``reader``.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from webui.agentdb.fts_schema import default_fts_layout, fts_statements
from webui.agentdb.reader import quote_ident, table_columns

SCHEMA_VERSIONS: tuple[int, ...] = (11, 14, 22, 30)
LATEST_VERSION: int = 30
JOURNAL_MODES = ("wal", "delete")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    decl: str
    since: int


def _columns(since: int, *specs: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(name, decl, since) for name, decl in specs)


# ``sessions`` in the order a fresh CREATE TABLE of the newest agent declares it: later columns
# sit next to their relatives, not at the end, so a fresh and an upgraded database really differ.
SESSION_COLUMNS: tuple[Column, ...] = (
    *_columns(11, ("id", "TEXT PRIMARY KEY"), ("source", "TEXT NOT NULL")),
    *_columns(30, ("created_source", "TEXT")),
    *_columns(11, ("user_id", "TEXT")),
    *_columns(22, ("session_key", "TEXT"), ("chat_id", "TEXT"), ("chat_type", "TEXT")),
    *_columns(22, ("thread_id", "TEXT"), ("display_name", "TEXT"), ("origin_json", "TEXT")),
    *_columns(11, ("model", "TEXT"), ("model_config", "TEXT"), ("parent_session_id", "TEXT")),
    *_columns(22, ("profile_name", "TEXT")),
    *_columns(14, ("cwd", "TEXT")),
    *_columns(22, ("git_branch", "TEXT"), ("git_repo_root", "TEXT")),
    *_columns(11, ("started_at", "REAL NOT NULL"), ("ended_at", "REAL"), ("end_reason", "TEXT")),
    *_columns(30, ("last_activity_at", "REAL"), ("last_read_at", "REAL")),
    *_columns(11, ("message_count", "INTEGER DEFAULT 0"), ("tool_call_count", "INTEGER DEFAULT 0")),
    *_columns(11, ("input_tokens", "INTEGER DEFAULT 0"), ("output_tokens", "INTEGER DEFAULT 0")),
    *_columns(11, ("cache_read_tokens", "INTEGER DEFAULT 0")),
    *_columns(11, ("cache_write_tokens", "INTEGER DEFAULT 0")),
    *_columns(11, ("reasoning_tokens", "INTEGER DEFAULT 0")),
    *_columns(11, ("estimated_cost_usd", "REAL"), ("actual_cost_usd", "REAL")),
    *_columns(11, ("title", "TEXT")),
    *_columns(30, ("title_source", "TEXT")),
    *_columns(14, ("rewind_count", "INTEGER DEFAULT 0"), ("archived", "INTEGER DEFAULT 0")),
    *_columns(30, ("pinned", "INTEGER DEFAULT 0"), ("hidden", "INTEGER DEFAULT 0")),
)

# The order in which each version's migration appended its columns (the schema notes' order).
ADDED_SESSION_COLUMNS: Mapping[int, tuple[str, ...]] = MappingProxyType(
    {
        14: ("cwd", "rewind_count", "archived"),
        22: (
            "session_key",
            "chat_id",
            "chat_type",
            "thread_id",
            "display_name",
            "origin_json",
            "git_branch",
            "git_repo_root",
            "profile_name",
        ),
        30: (
            "created_source",
            "title_source",
            "last_activity_at",
            "pinned",
            "hidden",
            "last_read_at",
        ),
    }
)

MESSAGE_COLUMNS: tuple[Column, ...] = (
    *_columns(11, ("id", "INTEGER PRIMARY KEY AUTOINCREMENT")),
    *_columns(11, ("session_id", "TEXT NOT NULL REFERENCES sessions(id)")),
    *_columns(11, ("role", "TEXT NOT NULL"), ("content", "TEXT"), ("tool_call_id", "TEXT")),
    *_columns(11, ("tool_calls", "TEXT"), ("tool_name", "TEXT")),
    *_columns(11, ("timestamp", "REAL NOT NULL"), ("token_count", "INTEGER")),
    *_columns(11, ("finish_reason", "TEXT")),
    *_columns(14, ("active", "INTEGER DEFAULT 1")),
)

# Indexes by the version that introduced them.
_INDEXES: tuple[tuple[int, str], ...] = (
    (11, "CREATE INDEX idx_sessions_source ON sessions(source)"),
    (11, "CREATE INDEX idx_sessions_parent ON sessions(parent_session_id)"),
    (11, "CREATE INDEX idx_sessions_started ON sessions(started_at DESC)"),
    (
        11,
        "CREATE UNIQUE INDEX idx_sessions_title_unique ON sessions(title) WHERE title IS NOT NULL",
    ),
    (11, "CREATE INDEX idx_messages_session ON messages(session_id, timestamp)"),
    (22, "CREATE INDEX idx_sessions_session_key ON sessions(session_key)"),
)

_BASE_TABLES = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE state_meta (key TEXT PRIMARY KEY, value TEXT)",
    """CREATE TABLE session_model_usage (
        session_id TEXT NOT NULL,
        model TEXT NOT NULL,
        api_calls INTEGER DEFAULT 0,
        input_tokens INTEGER DEFAULT 0,
        output_tokens INTEGER DEFAULT 0,
        cache_read_tokens INTEGER DEFAULT 0,
        cache_write_tokens INTEGER DEFAULT 0,
        reasoning_tokens INTEGER DEFAULT 0,
        estimated_cost_usd REAL,
        PRIMARY KEY (session_id, model)
    )""",
)

_SESSION_ID_HEX = re.compile(r"[0-9a-f]+")
_LOCK_RETRY_BUDGET = 5.0


def _check_version(version: int) -> None:
    if version not in SCHEMA_VERSIONS:
        raise ValueError(f"unknown schema version {version}; known: {SCHEMA_VERSIONS}")


def _create_table(table: str, columns: Iterable[Column], version: int) -> str:
    body = ",\n    ".join(f"{c.name} {c.decl}" for c in columns if c.since <= version)
    return f"CREATE TABLE {table} (\n    {body}\n)"


def _by_name(columns: tuple[Column, ...], name: str) -> Column:
    return next(c for c in columns if c.name == name)


def _upgrade_statements(version: int) -> Iterator[str]:
    """The ALTER TABLE steps that take a v11 database to ``version``, as the agent ran them."""
    for step in SCHEMA_VERSIONS:
        if step <= SCHEMA_VERSIONS[0] or step > version:
            continue
        for name in ADDED_SESSION_COLUMNS[step]:
            column = _by_name(SESSION_COLUMNS, name)
            yield f"ALTER TABLE sessions ADD COLUMN {column.name} {column.decl}"
        for column in MESSAGE_COLUMNS:
            if column.since == step:
                yield f"ALTER TABLE messages ADD COLUMN {column.name} {column.decl}"
        yield from (sql for since, sql in _INDEXES if since == step)
        yield f"UPDATE schema_version SET version = {step}"


def schema_statements(
    version: int = LATEST_VERSION,
    *,
    upgraded: bool = False,
    fts: str | None = None,
    trigram: bool = True,
) -> list[str]:
    """Every statement that creates the schema of ``version`` (fresh, or upgraded from v11).

    ``fts`` picks the full-text layout (``fts_schema.FTS_LAYOUTS``); None gives the one the
    agent would have left (``default_fts_layout``).
    """
    _check_version(version)
    created = SCHEMA_VERSIONS[0] if upgraded else version
    layout = default_fts_layout(version, upgraded=upgraded) if fts is None else fts
    statements = [
        *_BASE_TABLES,
        _create_table("sessions", SESSION_COLUMNS, created),
        _create_table("messages", MESSAGE_COLUMNS, created),
        *(sql for since, sql in _INDEXES if since <= created),
        *fts_statements(layout, trigram=trigram),
        f"INSERT INTO schema_version (version) VALUES ({created})",
    ]
    if upgraded:
        statements.extend(_upgrade_statements(version))
    return statements


def _set_journal_mode(conn: sqlite3.Connection, journal_mode: str) -> None:
    (mode,) = conn.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()
    if str(mode).lower() != journal_mode:
        raise sqlite3.OperationalError(f"journal_mode {journal_mode} refused (got {mode})")


def create_state_db(
    path: Path,
    *,
    version: int = LATEST_VERSION,
    journal_mode: str = "wal",
    upgraded: bool = False,
    fts: str | None = None,
    trigram: bool = True,
) -> None:
    """Create a new ``state.db`` of schema ``version``; an existing file is never touched.

    ``fts`` and ``trigram`` choose the full-text tables (see ``schema_statements``).
    """
    _check_version(version)
    if journal_mode not in JOURNAL_MODES:
        raise ValueError(f"journal_mode must be one of {JOURNAL_MODES}, not {journal_mode!r}")
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = open_writer(path)
    try:
        # The journal mode is set before any table exists, as the agent does on first open.
        _set_journal_mode(conn, journal_mode)
        with write_transaction(conn):
            for sql in schema_statements(version, upgraded=upgraded, fts=fts, trigram=trigram):
                conn.execute(sql)
    finally:
        conn.close()


def open_writer(path: Path, *, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """One writer connection as the agent holds it: autocommit, explicit transactions.

    ``check_same_thread`` is off so a test may hand the connection to the thread that plays the
    agent; the caller still uses it from one thread at a time.
    """
    conn = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
    return conn


def _is_locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def begin_immediate(conn: sqlite3.Connection, *, budget: float = _LOCK_RETRY_BUDGET) -> None:
    """``BEGIN IMMEDIATE``, retried with 20–150 ms of jitter on a lock, as the agent retries."""
    deadline = time.monotonic() + budget
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if not _is_locked(error) or time.monotonic() >= deadline:
                raise
            time.sleep(random.uniform(0.02, 0.15))


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE … COMMIT``; rolls back when the body raises."""
    begin_immediate(conn)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (still locked after the busy timeout) leaves the transaction open.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _checked(conn: sqlite3.Connection, table: str, names: Iterable[str]) -> list[str]:
    """The names, each verified to be a column of ``table``: the only way a name reaches SQL."""
    present = table_columns(conn, table)
    names = list(names)
    for name in names:
        if name not in present:
            raise ValueError(f"{table} has no column {name!r} in this database")
    return names


def _insert(
    conn: sqlite3.Connection, table: str, names: list[str], values: dict[str, object]
) -> int:
    columns = ", ".join(quote_ident(n) for n in names)
    marks = ", ".join("?" for _ in names)
    sql = f"INSERT INTO {quote_ident(table)} ({columns}) VALUES ({marks})"
    cursor = conn.execute(sql, [values[n] for n in names])
    return int(cursor.lastrowid or 0)


def insert_session(
    conn: sqlite3.Connection, *, id: str, source: str, started_at: float, **columns: object
) -> None:
    """Insert one session row by column name; the caller owns the transaction.

    Where the database has ``last_activity_at`` and the caller gave none, it starts at
    ``started_at``, as the agent stamps it on creation.
    """
    values: dict[str, object] = {"id": id, "source": source, "started_at": started_at}
    values.update(columns)
    if "last_activity_at" not in values and "last_activity_at" in table_columns(conn, "sessions"):
        values["last_activity_at"] = started_at
    _insert(conn, "sessions", _checked(conn, "sessions", values), values)


def insert_message(
    conn: sqlite3.Connection,
    *,
    session_id: str,
    role: str,
    content: str | None,
    timestamp: float,
    **columns: object,
) -> int:
    """Insert one message and count it on its session, as the agent does in one transaction.

    The caller owns the transaction. A session that does not exist is a ``ValueError`` and
    nothing is written.
    """
    values: dict[str, object] = {
        "session_id": session_id,
        "role": role,
        "content": content,
        "timestamp": timestamp,
    }
    values.update(columns)
    names = _checked(conn, "messages", values)
    bump = "message_count = COALESCE(message_count, 0) + 1"
    params: list[object] = []
    if "last_activity_at" in table_columns(conn, "sessions"):
        bump += ", last_activity_at = ?"
        params.append(timestamp)
    cursor = conn.execute(f"UPDATE sessions SET {bump} WHERE id = ?", [*params, session_id])
    if cursor.rowcount == 0:
        raise ValueError(f"no session {session_id!r}")
    return _insert(conn, "messages", names, values)


def update_session(conn: sqlite3.Connection, session_id: str, **columns: object) -> None:
    """Set columns of one session by name; the caller owns the transaction."""
    names = _checked(conn, "sessions", columns)
    if not names:
        return
    assignments = ", ".join(f"{quote_ident(n)} = ?" for n in names)
    params = [*(columns[n] for n in names), session_id]
    cursor = conn.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", params)
    if cursor.rowcount == 0:
        raise ValueError(f"no session {session_id!r}")


def new_session_id(now: float, rand_hex: str) -> str:
    """An agent session id: ``YYYYmmdd_HHMMSS_<hex>`` with the time in UTC."""
    if not _SESSION_ID_HEX.fullmatch(rand_hex):
        raise ValueError(f"rand_hex must be lowercase hex, not {rand_hex!r}")
    return time.strftime("%Y%m%d_%H%M%S", time.gmtime(now)) + "_" + rand_hex
