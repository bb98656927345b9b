"""The agent's schema as the writer side builds it, and the test factory that plays the agent."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from factory import AgentDB, make_agent_db

from webui.agentdb import schema as agentschema
from webui.agentdb.reader import table_columns
from webui.agentdb.schema import (
    LATEST_VERSION,
    SCHEMA_VERSIONS,
    create_state_db,
    insert_message,
    insert_session,
    new_session_id,
    open_writer,
    write_transaction,
)

V11_SESSIONS = {
    "id",
    "source",
    "user_id",
    "model",
    "model_config",
    "parent_session_id",
    "started_at",
    "ended_at",
    "end_reason",
    "message_count",
    "tool_call_count",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "estimated_cost_usd",
    "actual_cost_usd",
    "title",
}
ADDED = {
    14: {"cwd", "rewind_count", "archived"},
    22: {
        "session_key",
        "chat_id",
        "chat_type",
        "thread_id",
        "display_name",
        "origin_json",
        "git_branch",
        "git_repo_root",
        "profile_name",
    },
    30: {"created_source", "title_source", "last_activity_at", "pinned", "hidden", "last_read_at"},
}
V11_MESSAGES = {
    "id",
    "session_id",
    "role",
    "content",
    "tool_call_id",
    "tool_calls",
    "tool_name",
    "timestamp",
    "token_count",
    "finish_reason",
}
START = 1_763_800_000.0


def expected_session_columns(version: int) -> set[str]:
    return V11_SESSIONS.union(*(cols for v, cols in ADDED.items() if v <= version))


def column_order(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def fts_hits(conn: sqlite3.Connection, word: str) -> list[int]:
    query = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid"
    return [row[0] for row in conn.execute(query, (word,))]


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Callable[..., sqlite3.Connection]]:
    """Opens writer connections on new databases; closes them all at the end."""
    opened: list[sqlite3.Connection] = []

    def make(version: int = LATEST_VERSION, *, upgraded: bool = False) -> sqlite3.Connection:
        path = tmp_path / f"v{version}-{len(opened)}.db"
        create_state_db(path, version=version, upgraded=upgraded)
        opened.append(open_writer(path))
        return opened[-1]

    yield make
    for conn in opened:
        conn.close()


@pytest.mark.parametrize("upgraded", [False, True])
@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_every_version_has_its_columns_and_tables(
    writer: Callable[..., sqlite3.Connection], version: int, upgraded: bool
) -> None:
    conn = writer(version, upgraded=upgraded)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(version,)]
    assert table_columns(conn, "sessions") == expected_session_columns(version)
    messages = V11_MESSAGES | ({"active"} if version >= 14 else set())
    assert table_columns(conn, "messages") == messages
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"schema_version", "state_meta", "session_model_usage", "messages_fts"} <= tables
    index = conn.execute("PRAGMA index_info(idx_messages_session)").fetchall()
    assert [row[2] for row in index] == ["session_id", "timestamp"]


def test_table_columns_of_a_missing_table_is_empty(
    writer: Callable[..., sqlite3.Connection],
) -> None:
    assert table_columns(writer(), "no_such_table") == frozenset()


@pytest.mark.parametrize("version", [v for v in SCHEMA_VERSIONS if v > SCHEMA_VERSIONS[0]])
def test_upgraded_column_order_differs_from_fresh(
    writer: Callable[..., sqlite3.Connection], version: int
) -> None:
    fresh = column_order(writer(version), "sessions")
    upgraded = column_order(writer(version, upgraded=True), "sessions")
    assert set(fresh) == set(upgraded)
    assert fresh != upgraded
    # Upgrading appends: the v11 columns come first, in their original order.
    assert upgraded[: len(V11_SESSIONS)] == column_order(writer(11), "sessions")


def test_fresh_latest_interleaves_later_columns(writer: Callable[..., sqlite3.Connection]) -> None:
    order = column_order(writer(), "sessions")
    assert order.index("last_activity_at") < order.index("message_count")
    assert order.index("session_key") < order.index("started_at")


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
@pytest.mark.parametrize("upgraded", [False, True])
def test_journal_mode_is_really_set(tmp_path: Path, journal_mode: str, upgraded: bool) -> None:
    path = tmp_path / "state.db"
    create_state_db(path, journal_mode=journal_mode, upgraded=upgraded)
    # A fresh connection reads the mode from the file itself.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == journal_mode


def test_open_writer_is_autocommit_with_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    create_state_db(path)
    conn = open_writer(path, busy_timeout=2.5)
    try:
        assert conn.isolation_level is None
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 2500
        assert not conn.in_transaction
    finally:
        conn.close()


def test_create_refuses_existing_files_and_bad_arguments(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    create_state_db(path)
    with pytest.raises(FileExistsError):
        create_state_db(path)
    with pytest.raises(ValueError, match="version"):
        create_state_db(tmp_path / "a.db", version=12)
    with pytest.raises(ValueError, match="journal_mode"):
        create_state_db(tmp_path / "b.db", journal_mode="memory")
    assert not (tmp_path / "a.db").exists()
    assert not (tmp_path / "b.db").exists()


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_insert_message_counts_and_writes_fts(
    writer: Callable[..., sqlite3.Connection], version: int
) -> None:
    conn = writer(version)
    with write_transaction(conn):
        insert_session(conn, id="20251122_082640_abcdef", source="cli", started_at=START)
        first = insert_message(
            conn,
            session_id="20251122_082640_abcdef",
            role="user",
            content="flaky login",
            timestamp=START + 1,
        )
        second = insert_message(
            conn,
            session_id="20251122_082640_abcdef",
            role="assistant",
            content="fixed login",
            timestamp=START + 2,
            finish_reason="stop",
        )
    assert second > first
    count = conn.execute("SELECT message_count FROM sessions").fetchone()[0]
    assert count == 2
    assert fts_hits(conn, "login") == [first, second]
    if version >= 30:
        assert conn.execute("SELECT last_activity_at FROM sessions").fetchone()[0] == START + 2


def test_fts_follows_updates_and_deletes(writer: Callable[..., sqlite3.Connection]) -> None:
    conn = writer()
    with write_transaction(conn):
        insert_session(conn, id="s1", source="webui", started_at=START)
        message = insert_message(
            conn, session_id="s1", role="assistant", content="partial", timestamp=START + 1
        )
    with write_transaction(conn):
        conn.execute("UPDATE messages SET content = 'partial reply grows' WHERE id = ?", (message,))
    assert fts_hits(conn, "grows") == [message]
    with write_transaction(conn):
        conn.execute("DELETE FROM messages WHERE id = ?", (message,))
    assert fts_hits(conn, "partial") == []


def test_last_activity_defaults_to_start_where_the_column_exists(
    writer: Callable[..., sqlite3.Connection],
) -> None:
    conn = writer()
    with write_transaction(conn):
        insert_session(conn, id="s1", source="cli", started_at=START)
        insert_session(conn, id="s2", source="cli", started_at=START, last_activity_at=None)
    rows = conn.execute("SELECT id, last_activity_at FROM sessions ORDER BY id").fetchall()
    assert rows == [("s1", START), ("s2", None)]


def test_unknown_columns_are_value_errors_naming_them(
    writer: Callable[..., sqlite3.Connection],
) -> None:
    conn = writer(22)
    with write_transaction(conn):
        with pytest.raises(ValueError, match="pinned"):
            insert_session(conn, id="s1", source="cli", started_at=START, pinned=1)
        insert_session(conn, id="s1", source="cli", started_at=START, archived=1)
        with pytest.raises(ValueError, match="mood"):
            insert_message(
                conn, session_id="s1", role="user", content="x", timestamp=START, mood="happy"
            )
        with pytest.raises(ValueError, match="no session"):
            insert_message(conn, session_id="nope", role="user", content="x", timestamp=START)
    assert conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert conn.execute("SELECT message_count FROM sessions").fetchone()[0] == 0


def test_active_column_only_from_v14(writer: Callable[..., sqlite3.Connection]) -> None:
    old, new = writer(11), writer(14)
    for conn in (old, new):
        with write_transaction(conn):
            insert_session(conn, id="s1", source="cli", started_at=START)
    with pytest.raises(ValueError, match="active"):
        insert_message(old, session_id="s1", role="user", content="x", timestamp=START, active=0)
    insert_message(new, session_id="s1", role="user", content="x", timestamp=START, active=0)
    assert new.execute("SELECT active FROM messages").fetchone()[0] == 0


def test_titles_are_unique_when_set(writer: Callable[..., sqlite3.Connection]) -> None:
    conn = writer()
    with write_transaction(conn):
        for n in range(3):
            insert_session(conn, id=f"untitled{n}", source="cli", started_at=START)
        insert_session(conn, id="a", source="cli", started_at=START, title="Same")
    with pytest.raises(sqlite3.IntegrityError), write_transaction(conn):
        insert_session(conn, id="b", source="cli", started_at=START, title="Same")
    assert not conn.in_transaction


def test_new_session_id_is_utc_and_checks_its_hex() -> None:
    assert new_session_id(START, "a1b2c3") == "20251122_082640_a1b2c3"
    with pytest.raises(ValueError):
        new_session_id(START, "XYZ")


def test_upgrade_statements_add_columns_and_bump_the_version() -> None:
    steps = agentschema.schema_statements(30, upgraded=True)
    alters = [s for s in steps if s.startswith("ALTER TABLE sessions")]
    assert len(alters) == sum(len(cols) for cols in ADDED.values())
    versions = [s for s in steps if s.startswith("UPDATE schema_version")]
    assert versions == [f"UPDATE schema_version SET version = {v}" for v in (14, 22, 30)]


# -- the factory ------------------------------------------------------------------------------

ID_PATTERN = re.compile(r"\d{8}_\d{6}_[0-9a-f]{6}")


def test_factory_session_writes_like_the_agent(agent_db: Callable[..., AgentDB]) -> None:
    db = agent_db()
    sid = db.session("webui", title="Plan", messages=4)
    assert ID_PATTERN.fullmatch(sid)
    row = db.conn.execute(
        "SELECT source, title, message_count, started_at, last_activity_at FROM sessions"
    ).fetchone()
    assert row[:3] == ("webui", "Plan", 4)
    messages = db.conn.execute(
        "SELECT role, timestamp FROM messages WHERE session_id = ? ORDER BY id", (sid,)
    ).fetchall()
    assert [m[0] for m in messages] == ["user", "assistant", "user", "assistant"]
    times = [m[1] for m in messages]
    assert times == sorted(times) and times[0] > row[3] and row[4] == times[-1]
    assert fts_hits(db.conn, "flaky")


def test_factory_ids_and_clock_are_unique_and_deterministic(
    agent_db: Callable[..., AgentDB], tmp_path: Path
) -> None:
    default, work = agent_db(), agent_db("work", journal="delete")
    ids = [default.session(messages=0) for _ in range(5)] + [work.session() for _ in range(5)]
    same_start = [default.session(started_at=START) for _ in range(3)]
    assert len(set(ids + same_start)) == len(ids + same_start)
    again = make_agent_db(tmp_path / "other")
    try:
        assert [again.session(messages=0) for _ in range(5)] == ids[:5]
    finally:
        again.close()
    starts = [r[0] for r in default.conn.execute("SELECT started_at FROM sessions ORDER BY rowid")]
    assert starts[:5] == [START + 60 * n for n in range(5)]


def test_factory_paths_versions_and_journal(
    agent_db: Callable[..., AgentDB], agent_home: Path
) -> None:
    default = agent_db()
    research = agent_db("research", version=11, journal="delete", upgraded=False)
    assert default.path == agent_home / "state.db"
    assert research.path == agent_home / "profiles" / "research" / "state.db"
    assert (research.version, research.journal_mode) == (11, "delete")
    assert research.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    with pytest.raises(ValueError, match="pinned"):
        research.session("cli", pinned=1)
    assert research.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0


def test_factory_message_update_delete_execute(agent_db: Callable[..., AgentDB]) -> None:
    db = agent_db()
    sid = db.session("cli", messages=[("user", "first")], started_at=START + 10_000)
    later = db.message(sid, "assistant", "second")
    last = db.conn.execute("SELECT MAX(timestamp) FROM messages").fetchone()[0]
    assert last > START + 10_000
    db.update(sid, title="Renamed", pinned=1)
    db.execute("UPDATE messages SET content = ? WHERE id = ?", ("second edited", later))
    row = db.conn.execute("SELECT title, pinned, message_count FROM sessions").fetchone()
    assert row == ("Renamed", 1, 2)
    assert fts_hits(db.conn, "edited") == [later]
    with pytest.raises(ValueError, match="no session"):
        db.update("missing", title="x")
    db.delete(sid)
    assert db.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    assert db.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 0
    assert not db.conn.in_transaction


def test_factory_checkpoint_empties_the_wal(agent_db: Callable[..., AgentDB]) -> None:
    db = agent_db()
    db.session(messages=3)
    wal = db.path.with_name("state.db-wal")
    assert wal.stat().st_size > 0
    db.checkpoint("TRUNCATE")
    assert wal.stat().st_size == 0
    db.checkpoint()
    with pytest.raises(ValueError):
        db.checkpoint("NOW")
