"""The reader on real SQLite files: every schema version, both journal modes, the list rules."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from factory import AgentDB

from webui.agentdb.reader import SourceUnavailable, read_messages, read_session, read_sessions
from webui.agentdb.schema import SCHEMA_VERSIONS
from webui.sessions.built import build_list
from webui.sessions.query import ListFlags, ListKey

VERSIONS_AND_MODES = [(v, j) for v in SCHEMA_VERSIONS for j in ("wal", "delete")]


def listed(home: Path, flags: ListFlags | None = None) -> list[str]:
    built = build_list(
        ListKey(("default",), False, flags or ListFlags()),
        home=home,
        busy_timeout=5.0,
        profile_state=lambda profile: ({}, frozenset()),
        wall_time=0.0,
    )
    return [row["session_id"] for row in built.rows]


@pytest.mark.parametrize(("version", "journal"), VERSIONS_AND_MODES)
def test_lineage_rules_on_every_version(
    agent_db: Any, agent_home: Path, version: int, journal: str
) -> None:
    db: AgentDB = agent_db(version=version, journal=journal)
    root = db.session("cli", title="Plan", end_reason="compression", messages=4)
    tail = db.session("cli", title="Plan #2", parent_session_id=root, messages=2)
    branch = db.session(
        "cli", parent_session_id=tail, model_config='{"_branched_from": "x"}', messages=1
    )
    db.session("subagent", parent_session_id=tail, messages=3)
    db.session("cli", model_config='{"_delegate_from": "x"}', messages=3)
    db.session("kanban", messages=2)
    rows = listed(agent_home)
    assert set(rows) == {tail, branch}
    record = read_session(agent_db_path(agent_home), tail, 1.0)
    assert record is not None and record.parent_session_id == root


@pytest.mark.parametrize(("version", "journal"), VERSIONS_AND_MODES)
def test_messaging_conversations_on_every_version(
    agent_db: Any, agent_home: Path, version: int, journal: str
) -> None:
    db: AgentDB = agent_db(version=version, journal=journal)
    # v22 added session_key/chat_id; before it, every gateway session stands alone.
    keyed: dict[str, Any] = {"session_key": "telegram:42"} if version >= 22 else {}
    old = db.session("telegram", messages=2, end_reason="session_reset", **keyed)
    new = db.session("telegram", messages=2, **keyed)
    rows = listed(agent_home)
    assert rows == ([new] if version >= 22 else [new, old])
    assert set(listed(agent_home, ListFlags(show_messaging_history=True))) == {old, new}


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_agent_flags_where_the_version_has_them(
    agent_db: Any, agent_home: Path, version: int
) -> None:
    db: AgentDB = agent_db(version=version)
    plain = db.session("cli", messages=1)
    extra: dict[str, dict[str, Any]] = {
        "archived": {"archived": 1} if version >= 14 else {},
        "pinned": {"pinned": 1} if version >= 30 else {},
        "hidden": {"hidden": 1} if version >= 30 else {},
    }
    archived = db.session("cli", messages=1, **extra["archived"])
    pinned = db.session("cli", messages=1, **extra["pinned"])
    hidden = db.session("cli", messages=1, **extra["hidden"])
    rows = listed(agent_home)
    assert (archived in rows) is (version < 14)
    assert (hidden in rows) is (version < 30)
    # Pinned rows lead where the agent can pin; before v30 the newest row leads.
    assert rows[0] == (pinned if version >= 30 else hidden)
    assert plain in rows


def test_missing_empty_and_foreign_files(agent_home: Path) -> None:
    path = agent_home / "state.db"
    assert read_sessions(path, 1.0) == []
    path.write_bytes(b"")
    assert read_sessions(path, 1.0) == []
    sqlite3.connect(path).execute("CREATE TABLE unrelated (x)").connection.commit()
    assert read_sessions(path, 1.0) == []
    path.unlink()
    path.mkdir()
    with pytest.raises(SourceUnavailable):
        read_sessions(path, 1.0)


def test_corrupt_file_is_a_named_outcome(agent_home: Path) -> None:
    path = agent_home / "state.db"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    with pytest.raises(SourceUnavailable) as info:
        read_sessions(path, 1.0)
    assert info.value.reason in {"corrupt", "unreadable"}


def test_locked_database_is_a_named_outcome(agent_db: Any, agent_home: Path) -> None:
    db: AgentDB = agent_db(journal="delete")
    db.session("cli", messages=1)
    db.conn.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(SourceUnavailable) as info:
            read_sessions(db.path, 0.1)
        assert info.value.reason == "locked"
    finally:
        db.conn.execute("ROLLBACK")


def test_messages_are_paged_by_id(agent_db: Any) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", messages=[("user", "a"), ("assistant", "b"), ("user", "c")])
    first = read_messages(db.path, sid, after=0, limit=2, busy_timeout=1.0)
    assert [m.content for m in first] == ["a", "b"]
    rest = read_messages(db.path, sid, after=first[-1].id, limit=2, busy_timeout=1.0)
    assert [m.content for m in rest] == ["c"]


def test_reads_use_one_snapshot_and_open_read_only(agent_db: Any) -> None:
    db: AgentDB = agent_db()
    db.session("cli", messages=1)
    # A read-only connection cannot write: prove the reader's URI really is mode=ro.
    from webui.agentdb.reader import read_connection

    with read_connection(db.path, 1.0) as conn:
        assert conn is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("CREATE TABLE sneaky (x)")


def agent_db_path(home: Path) -> Path:
    return home / "state.db"
