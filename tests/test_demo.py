"""The demo home: every surface and lineage the sidebar must handle, deterministic, fast."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from webui.agentdb import schema as agentschema
from webui.demo import ALL_SOURCES, MESSAGING, DemoSummary, build_demo_home
from webui.demo.planner import pin_count

NOW = 1_763_800_000.0
PROFILES = ("default", "work", "research")
GATEWAY_ID = re.compile(r"\d{8}_\d{6}_[0-9a-f]{8}")
AGENT_ID = re.compile(r"\d{8}_\d{6}_[0-9a-f]{6}")
CRON_ID = re.compile(r"cron_[0-9a-f]{12}_\d{8}_\d{6}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    home = tmp_path_factory.mktemp("demo")
    return build_demo_home(home, profiles=3, sessions=60, seed=7, now=NOW, progress=False)


@pytest.fixture(scope="module")
def dbs(demo: DemoSummary) -> Iterator[dict[str, sqlite3.Connection]]:
    conns = {p.name: sqlite3.connect(f"file:{p.db_path}?mode=ro", uri=True) for p in demo.profiles}
    yield conns
    for conn in conns.values():
        conn.close()


def rows(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


def value(conn: sqlite3.Connection, sql: str) -> Any:
    return conn.execute(sql).fetchone()[0]


def test_profiles_layout_journal_modes_and_upgrade(demo: DemoSummary) -> None:
    home = demo.home
    assert [p.name for p in demo.profiles] == list(PROFILES)
    paths = [
        home / "state.db",
        home / "profiles/work/state.db",
        home / "profiles/research/state.db",
    ]
    assert [p.db_path for p in demo.profiles] == paths
    assert [p.journal_mode for p in demo.profiles] == ["wal", "delete", "wal"]
    assert [p.upgraded for p in demo.profiles] == [False, False, True]
    orders = {}
    for profile in demo.profiles:
        assert profile.sessions == 60
        with sqlite3.connect(profile.db_path) as conn:
            assert value(conn, "PRAGMA journal_mode") == profile.journal_mode
            assert value(conn, "SELECT version FROM schema_version") == 30
            assert value(conn, "SELECT COUNT(*) FROM sessions") == 60
            assert value(conn, "SELECT COUNT(*) FROM messages") == profile.messages
            orders[profile.name] = [r[1] for r in rows(conn, "PRAGMA table_info(sessions)")]
    assert orders["default"] == orders["work"]
    assert sorted(orders["default"]) == sorted(orders["research"])
    assert orders["default"] != orders["research"]
    assert demo.sessions == 180 and demo.messages == sum(p.messages for p in demo.profiles)


def test_every_source_kind_appears(dbs: dict[str, sqlite3.Connection]) -> None:
    seen = {str(r[0]) for conn in dbs.values() for r in rows(conn, "SELECT source FROM sessions")}
    assert seen == set(ALL_SOURCES)
    for conn in dbs.values():
        # Each profile alone already shows the interactive, messaging and automated surfaces.
        sources = {r[0] for r in rows(conn, "SELECT DISTINCT source FROM sessions")}
        assert {"webui", "cli", "tui", "desktop", "acp", "cron", "webhook", "api_server"} <= sources
        assert len(sources & set(MESSAGING)) >= 5


@pytest.mark.parametrize("profile", PROFILES)
def test_compression_chains(dbs: dict[str, sqlite3.Connection], profile: str) -> None:
    links = rows(
        dbs[profile],
        "SELECT p.title, c.title, c.model_config, c.started_at - p.ended_at FROM sessions c "
        "JOIN sessions p ON c.parent_session_id = p.id WHERE p.end_reason = 'compression'",
    )
    assert len(links) >= 2
    for parent_title, child_title, config, gap in links:
        base = re.sub(r" #\d+$", "", str(parent_title))
        assert re.fullmatch(re.escape(base) + r" #[234]", str(child_title))
        assert "_branched_from" not in str(config) and "_delegate_from" not in str(config)
        assert isinstance(gap, float) and gap > 0


@pytest.mark.parametrize("profile", PROFILES)
def test_branches_and_subagents(dbs: dict[str, sqlite3.Connection], profile: str) -> None:
    conn = dbs[profile]
    by_id = {r[0]: r for r in rows(conn, "SELECT id, ended_at, end_reason FROM sessions")}
    configs = rows(
        conn, "SELECT id, parent_session_id, model_config, started_at, source FROM sessions"
    )
    branches = [c for c in configs if "_branched_from" in str(c[2])]
    subagents = [c for c in configs if c[4] == "subagent" or "_delegate_from" in str(c[2])]
    assert branches and subagents
    for _, parent, config, started_at, _ in branches:
        assert json.loads(str(config))["_branched_from"] == parent
        ended_at = by_id[parent][1]
        assert isinstance(ended_at, float) and isinstance(started_at, float)
        assert started_at > ended_at
    for _, parent, config, _, _ in subagents:
        assert json.loads(str(config))["_delegate_from"] == parent and parent in by_id


@pytest.mark.parametrize("profile", PROFILES)
def test_messaging_conversations_have_history(
    dbs: dict[str, sqlite3.Connection], profile: str
) -> None:
    conn = dbs[profile]
    # Keyed by chat: the upgraded profile's oldest rows predate session keys.
    chats = rows(
        conn,
        "SELECT source, chat_id, COUNT(*) FROM sessions WHERE chat_id IS NOT NULL "
        "GROUP BY source, chat_id, thread_id HAVING COUNT(*) >= 2",
    )
    assert len(chats) >= 2
    for source, chat_id, _ in chats:
        history = conn.execute(
            "SELECT end_reason, ended_at, started_at FROM sessions "
            "WHERE source = ? AND chat_id = ? ORDER BY started_at",
            (source, chat_id),
        ).fetchall()
        for (reason, ended_at, _), (_, _, next_start) in itertools.pairwise(history):
            assert reason in ("session_reset", "idle", "daily", "compression")
            assert ended_at < next_start
    if profile != "research":
        keyed = "SELECT COUNT(*) FROM sessions WHERE session_key IS NOT NULL GROUP BY session_key"
        assert max(r[0] for r in rows(conn, keyed)) >= 2


@pytest.mark.parametrize("profile", PROFILES)
def test_cron_runs(dbs: dict[str, sqlite3.Connection], profile: str) -> None:
    runs = rows(dbs[profile], "SELECT id, end_reason, title FROM sessions WHERE source = 'cron'")
    assert len(runs) >= 3
    for session_id, reason, title in runs:
        assert CRON_ID.fullmatch(str(session_id)) and reason == "cron_complete" and title


@pytest.mark.parametrize("profile", PROFILES)
def test_flags_and_empty_sessions(dbs: dict[str, sqlite3.Connection], profile: str) -> None:
    conn = dbs[profile]
    for column in ("archived", "pinned", "hidden"):
        assert value(conn, f"SELECT COUNT(*) FROM sessions WHERE {column} = 1") >= 1
    # A handful of pins, not a pinned group that fills the sidebar.
    assert value(conn, "SELECT COUNT(*) FROM sessions WHERE pinned = 1") == 3
    empty = rows(conn, "SELECT title, input_tokens FROM sessions WHERE message_count = 0")
    assert empty and all(title is None and tokens == 0 for title, tokens in empty)
    assert value(conn, "SELECT COUNT(*) FROM sessions WHERE title IS NULL AND message_count > 0")
    assert value(conn, "SELECT SUM(estimated_cost_usd) FROM sessions") > 0


def test_pins_are_a_handful_growing_gently_with_size() -> None:
    counts = {n: pin_count(n) for n in (0, 60, 99, 100, 1_000, 2_000, 10_000, 1_000_000)}
    assert counts == {0: 3, 60: 3, 99: 3, 100: 4, 1_000: 5, 2_000: 5, 10_000: 6, 1_000_000: 6}


@pytest.mark.parametrize("profile", PROFILES)
def test_counts_times_and_fts_are_consistent(
    dbs: dict[str, sqlite3.Connection], profile: str
) -> None:
    conn = dbs[profile]
    mismatched = (
        "SELECT COUNT(*) FROM sessions s WHERE message_count != "
        "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.active = 1)"
    )
    assert value(conn, mismatched) == 0
    assert value(conn, "SELECT COUNT(*) FROM messages WHERE active = 0") > 0
    out_of_order = (
        "SELECT COUNT(*) FROM messages m JOIN sessions s ON s.id = m.session_id "
        f"WHERE m.timestamp <= s.started_at OR m.timestamp > {NOW}"
    )
    assert value(conn, out_of_order) == 0
    assert value(conn, f"SELECT MIN(started_at) > {NOW - 100 * 86400} FROM sessions") == 1
    indexed = value(conn, "SELECT COUNT(*) FROM messages_fts_docsize")
    assert indexed == value(conn, "SELECT COUNT(*) FROM messages")
    assert value(conn, "SELECT COUNT(*) FROM messages_fts WHERE messages_fts MATCH 'the'")
    assert value(conn, "SELECT MAX(LENGTH(title)) FROM sessions") <= 100


@pytest.mark.parametrize("profile", PROFILES)
def test_ids_follow_the_agent_formats(dbs: dict[str, sqlite3.Connection], profile: str) -> None:
    for session_id, source in rows(dbs[profile], "SELECT id, source FROM sessions"):
        pattern = CRON_ID if source == "cron" else GATEWAY_ID if source in MESSAGING else AGENT_ID
        assert pattern.fullmatch(str(session_id)), (session_id, source)


def test_activity_fills_every_date_group(dbs: dict[str, sqlite3.Connection]) -> None:
    today = datetime.fromtimestamp(NOW).date()
    edges = [
        datetime.combine(today - timedelta(days=d), datetime.min.time()).timestamp()
        for d in (0, 1, 7)
    ]
    groups = {"today": 0, "yesterday": 0, "week": 0, "older": 0}
    activity = (
        "SELECT COALESCE((SELECT MAX(timestamp) FROM messages WHERE session_id = s.id), "
        "s.started_at) FROM sessions s"
    )
    for conn in dbs.values():
        for (moment,) in rows(conn, activity):
            assert isinstance(moment, float)
            name = "today" if moment >= edges[0] else "yesterday" if moment >= edges[1] else None
            groups[name or ("week" if moment >= edges[2] else "older")] += 1
    assert all(groups.values()), groups
    assert groups["older"] > groups["today"]


def test_upgraded_profile_has_pre_upgrade_rows(dbs: dict[str, sqlite3.Connection]) -> None:
    research = dbs["research"]
    assert value(research, "SELECT COUNT(*) FROM sessions WHERE last_activity_at IS NULL") > 0
    assert value(research, "SELECT COUNT(*) FROM sessions WHERE last_activity_at IS NOT NULL") > 0
    assert (
        value(dbs["default"], "SELECT COUNT(*) FROM sessions WHERE last_activity_at IS NULL") == 0
    )


def dump(home: Path) -> list[list[tuple[Any, ...]]]:
    tables = []
    for path in sorted(home.rglob("state.db")):
        with sqlite3.connect(path) as conn:
            for table in ("sessions", "messages", "session_model_usage"):
                tables.append(rows(conn, f"SELECT * FROM {table} ORDER BY rowid"))
    return tables


def test_same_seed_and_now_give_the_same_home(tmp_path: Path) -> None:
    def build(name: str, seed: int) -> list[tuple[int, int]]:
        home = build_demo_home(tmp_path / name, sessions=25, seed=seed, now=NOW, progress=False)
        return [(p.sessions, p.messages) for p in home.profiles]

    assert build("a", 3) == build("b", 3)
    build("c", 4)
    assert dump(tmp_path / "a") == dump(tmp_path / "b")
    assert dump(tmp_path / "a") != dump(tmp_path / "c")


def test_refuses_to_overwrite_a_home(tmp_path: Path) -> None:
    agentschema.create_state_db(tmp_path / "full" / "state.db")
    with pytest.raises(ValueError, match=r"state\.db"):
        build_demo_home(tmp_path / "full", sessions=5, progress=False)
    agentschema.create_state_db(tmp_path / "partial" / "profiles" / "work" / "state.db")
    with pytest.raises(ValueError, match="work"):
        build_demo_home(tmp_path / "partial", sessions=5, progress=False)
    assert not (tmp_path / "partial" / "state.db").exists()


def test_fixed_message_count_more_profiles_and_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = build_demo_home(
        tmp_path, profiles=4, sessions=20, messages_per_session=20, seed=1, now=NOW
    )
    assert [p.name for p in summary.profiles] == ["default", "work", "research", "lab-4"]
    assert (tmp_path / "profiles" / "lab-4" / "state.db").exists()
    with sqlite3.connect(tmp_path / "state.db") as conn:
        average = value(conn, "SELECT AVG(message_count) FROM sessions WHERE message_count > 0")
    assert isinstance(average, float) and 15 <= average <= 24
    assert "80/80" in capsys.readouterr().err


def test_quiet_and_invalid_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = build_demo_home(tmp_path / "quiet", profiles=1, sessions=0, now=NOW, progress=False)
    assert summary.sessions == 0 and capsys.readouterr().err == ""
    with pytest.raises(ValueError):
        build_demo_home(tmp_path / "bad", profiles=0, progress=False)
    with pytest.raises(ValueError):
        build_demo_home(tmp_path / "bad", sessions=-1, progress=False)
    with pytest.raises(ValueError):
        build_demo_home(tmp_path / "bad", messages_per_session=-1, progress=False)
    assert not (tmp_path / "bad").exists()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_the_claude_code_folder_is_realistic_and_deterministic(
    demo: DemoSummary, tmp_path: Path
) -> None:
    from webui.claudecode.source import ClaudeCodeSource
    from webui.demo.claude import write_claude_folder

    assert demo.claude is not None and demo.claude.root == demo.home / "claude"
    projects = demo.home / "claude" / "projects"
    folders = sorted(p.name for p in projects.iterdir())
    assert len(folders) >= 3 and all(name.startswith("-home-demo-") for name in folders)
    assert len(list(projects.glob("*/agent-*.jsonl"))) == demo.claude.subagent_files == 1
    # The same seed and time give the same bytes.
    again = write_claude_folder(tmp_path / "again", seed=7, now=NOW)
    assert _tree(tmp_path / "again") == _tree(demo.home / "claude")
    assert again.sessions == demo.claude.sessions

    source = ClaudeCodeSource(demo.home / "claude", 1 << 24)
    records = source.read_changes().upserted
    assert len(records) == demo.claude.sessions  # the subagent file is no session
    assert source.problems() == []  # a torn last line is not a problem: it is being written
    newest = max(records.values(), key=lambda r: r.last_activity_at or 0)
    assert NOW - (newest.last_activity_at or 0) < 600
    titled = [r for r in records.values() if r.title]
    assert 0 < len(titled) < len(records)
    assert any(r.title == "Session cache design" for r in records.values())
    assert all(r.preview and r.message_count > 0 and r.model and r.cwd for r in records.values())
    assert all(r.input_tokens > 0 and r.output_tokens > 0 for r in records.values())
    assert all(r.last_activity_at and r.last_activity_at <= NOW for r in records.values())
    texts = [
        m.content or ""
        for r in records.values()
        for m in source.messages(r.id, after=0, limit=1000)
    ]
    assert any(t.startswith("⚙ ") for t in texts)
    assert any("<" in t for t in texts) is False  # no command markup reaches the pane
    raw = b"".join(_tree(projects).values())
    for marker in (
        b'"type": "summary"',
        b'"isMeta": true',
        b"<local-command-stdout>",
        b"tool_result",
    ):
        assert marker in raw


def test_a_big_claude_code_tree_for_the_benchmark(tmp_path: Path) -> None:
    from webui.claudecode.source import ClaudeCodeSource
    from webui.demo.claude import write_claude_tree

    summary = write_claude_tree(tmp_path, transcripts=4, bytes_each=50_000, seed=2, now=NOW)
    files = sorted((tmp_path / "projects").glob("*/*.jsonl"))
    assert summary.sessions == len(files) == 4
    assert all(50_000 <= f.stat().st_size < 80_000 for f in files)
    records = ClaudeCodeSource(tmp_path, 1 << 24).read_all()
    assert len(records) == 4 and all(r.message_count > 20 for r in records)
    with pytest.raises(ValueError, match="already exists"):
        write_claude_tree(tmp_path, transcripts=1, bytes_each=10, now=NOW)
