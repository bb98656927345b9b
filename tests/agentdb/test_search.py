"""Message search through the agent's FTS5 tables: every version and layout, hostile text,
the trigram and scan routes, and never a write."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from factory import AgentDB
from hypothesis import given
from hypothesis import strategies as st

from webui.agentdb import fts_schema
from webui.agentdb import schema as agentschema
from webui.agentdb.fts_layout import probe_fts
from webui.agentdb.fts_terms import parse_terms
from webui.agentdb.search import Bounds, find_messages, like_scan, open_search

LAYOUTS = ("legacy", "external", "none")


def make_db(
    tmp_path: Path,
    *,
    version: int = agentschema.LATEST_VERSION,
    fts: str | None = None,
    trigram: bool = True,
    journal: str = "wal",
    upgraded: bool = False,
) -> AgentDB:
    path = tmp_path / f"v{version}-{fts}-{trigram}-{journal}-{upgraded}" / "state.db"
    agentschema.create_state_db(
        path, version=version, journal_mode=journal, upgraded=upgraded, fts=fts, trigram=trigram
    )
    return AgentDB(path, version=version, journal_mode=journal, id_salt=str(path))


def fill(db: AgentDB) -> dict[str, str]:
    ids = {
        "pool": db.session(
            "cli",
            messages=[
                ("user", "The Postgres connection pool runs dry under load."),
                ("assistant", "Raise the pool size and close idle connections."),
            ],
        ),
        "flaky": db.session("cli", messages=[("user", "Why is the login test flaky on CI?")]),
        "cjk": db.session("telegram", messages=[("user", "数据库连接池满了怎么办")]),
        "tool": db.session(
            "cli", messages=[("user", "run it"), ("tool", "zebrafish output from the tool")]
        ),
    }
    return ids


def search(db: AgentDB, q: str, **bounds: float) -> tuple[set[str], str]:
    found = find_messages(db.path, parse_terms(q), busy_timeout=5.0, bounds=Bounds(**bounds))  # type: ignore[arg-type]
    return {h.session_id for h in found.hits}, found.index


@pytest.mark.parametrize("upgraded", [False, True])
@pytest.mark.parametrize("version", agentschema.SCHEMA_VERSIONS)
def test_every_version_in_the_layout_the_agent_leaves(
    tmp_path: Path, version: int, upgraded: bool
) -> None:
    if upgraded and version == agentschema.SCHEMA_VERSIONS[0]:
        pytest.skip("v11 is the base layout: nothing to upgrade")
    db = make_db(tmp_path, version=version, upgraded=upgraded)
    ids = fill(db)
    layout = fts_schema.default_fts_layout(version, upgraded=upgraded)
    sql = db.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'messages_fts'").fetchone()
    assert ("content=" in sql[0]) == (layout == "external")
    assert probe_fts(db.conn).layout == layout
    assert search(db, "postgres pool") == ({ids["pool"]}, "fts")
    assert search(db, "onnection poo") == ({ids["pool"]}, "trigram")
    assert search(db, "连接池") == ({ids["cjk"]}, "trigram")
    assert search(db, "zebrafish") == (set(), "trigram")  # tool output is not searched


@pytest.mark.parametrize("trigram", [True, False])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("version", agentschema.SCHEMA_VERSIONS)
def test_both_layouts_with_and_without_trigram_and_without_fts(
    tmp_path: Path, version: int, layout: str, trigram: bool
) -> None:
    db = make_db(tmp_path, version=version, fts=layout, trigram=trigram)
    ids = fill(db)
    tables = probe_fts(db.conn)
    assert tables.layout == layout
    assert (tables.words is not None) == (layout != "none")
    assert (tables.trigram is not None) == (layout != "none" and trigram)
    words = "fts" if layout != "none" else "scan"
    substrings = "trigram" if tables.trigram else "scan"
    assert search(db, "flaky") == ({ids["flaky"]}, words)
    assert search(db, "FLAKY login") == ({ids["flaky"]}, words)
    assert search(db, "Postgr*") == ({ids["pool"]}, words)
    assert search(db, '"pool size"') == ({ids["pool"]}, words)
    assert search(db, '"size pool"')[0] == set()
    assert search(db, "ostgre") == ({ids["pool"]}, substrings)
    assert search(db, "数据库") == ({ids["cjk"]}, substrings)
    assert search(db, "池") == ({ids["cjk"]}, "scan")  # one character: no trigram can hold it


def test_the_index_follows_growing_replies_and_deletes(tmp_path: Path) -> None:
    for layout in ("legacy", "external"):
        db = make_db(tmp_path / layout, fts=layout)
        sid = db.session("webui", messages=[("user", "hello")])
        mid = db.message(sid, "assistant", "partial")
        db.execute("UPDATE messages SET content = ? WHERE id = ?", ("partial reply grows", mid))
        assert search(db, "grows") == ({sid}, "fts")
        db.delete(sid)
        assert search(db, "grows") == (set(), "trigram")


def test_hits_name_the_best_message_and_read_back_its_text(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    sid = db.session(
        "cli",
        messages=[("user", "pool"), ("assistant", "pool pool pool connection pool"), ("user", "x")],
    )
    found = find_messages(db.path, parse_terms("pool"), busy_timeout=5.0)
    (hit,) = found.hits
    assert hit.session_id == sid and hit.role == "assistant" and hit.score < 0
    assert isinstance(hit.timestamp, float)
    with open_search(db.path, 5.0) as read:
        assert read is not None
        assert read.contents([hit.message_id], chars=10) == {hit.message_id: "pool pool "}


def corrupt_index(db: AgentDB) -> None:
    db.execute("DELETE FROM messages_fts_data WHERE id > 10")


def test_a_corrupt_or_stale_index_falls_back_to_a_scan(tmp_path: Path) -> None:
    db = make_db(tmp_path, fts="legacy", trigram=False)
    ids = fill(db)
    corrupt_index(db)
    assert search(db, "flaky") == ({ids["flaky"]}, "scan")
    stale = make_db(tmp_path / "stale")
    ids = fill(stale)
    stale.execute("INSERT INTO state_meta (key, value) VALUES ('fts_stale', '1')")
    assert search(stale, "flaky") == ({ids["flaky"]}, "scan")


def test_a_pending_rebuild_scans_the_ids_the_index_lacks(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    ids = fill(db)
    # As the agent leaves it mid-backfill: rows up to 2 indexed, 3..high not yet.
    db.execute("DELETE FROM messages_fts")  # external content: drops the index rows
    db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    top = db.conn.execute("SELECT MAX(id) FROM messages").fetchone()[0]
    db.execute(
        "INSERT INTO state_meta (key, value) VALUES ('fts_rebuild_high_water', ?), "
        "('fts_rebuild_progress', '0')",
        (str(top),),
    )
    assert search(db, "flaky") == ({ids["flaky"]}, "mixed")


def test_scans_are_bounded_by_rows(tmp_path: Path) -> None:
    db = make_db(tmp_path, fts="none")
    old = db.session("cli", messages=[("user", "needle in the old session")])
    new = db.session("cli", messages=[("user", "hay"), ("user", "needle again")])
    found = find_messages(
        db.path, parse_terms("needle"), busy_timeout=5.0, bounds=Bounds(scan_rows=2)
    )
    assert {h.session_id for h in found.hits} == {new} and not found.complete
    assert {r[0] for r in like_scan(db.path, parse_terms("needle"), busy_timeout=5.0)} == {old, new}


def test_conversation_members_group_as_the_list_does(tmp_path: Path) -> None:
    db = make_db(tmp_path)
    a = db.session("telegram", session_key="agent:main:telegram:dm:1", messages=1)
    b = db.session("telegram", session_key="agent:main:telegram:dm:1", messages=1)
    c = db.session("slack", chat_id="C1", thread_id="t", messages=1)
    d = db.session("slack", chat_id="C1", thread_id="t", messages=1)
    lone = db.session("cli", messages=1)
    db.session("slack", chat_id="C1", thread_id="other", messages=1)
    with open_search(db.path, 5.0) as read:
        assert read is not None
        facts = read.facts([a, c, lone])
        members = read.members([("key", "agent:main:telegram:dm:1"), ("chat", "slack", "C1", "t")])
    assert facts[a].conversation == ("key", "agent:main:telegram:dm:1")
    assert facts[c].conversation == ("chat", "slack", "C1", "t") and lone not in facts
    assert sorted(members[("key", "agent:main:telegram:dm:1")]) == sorted([a, b])
    assert sorted(members[("chat", "slack", "C1", "t")]) == sorted([c, d])


def test_missing_and_empty_databases_find_nothing(tmp_path: Path) -> None:
    assert find_messages(tmp_path / "nope.db", parse_terms("x"), busy_timeout=1.0).hits == ()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert find_messages(empty, parse_terms("x"), busy_timeout=1.0).hits == ()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def hostile_dbs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AgentDB]]:
    root = tmp_path_factory.mktemp("hostile")
    dbs = [
        make_db(root / layout, fts=layout, journal="delete")
        for layout in ("legacy", "external", "none")
    ]
    for db in dbs:
        fill(db)
        db.session(
            "cli", messages=[("user", 'quotes " and * and NEAR( a, b ) - AND OR NOT ^ "and')]
        )
    yield dbs
    for db in dbs:
        db.close()


@given(q=st.text(min_size=1, max_size=60))
@hypothesis.settings(max_examples=150, deadline=None, database=None, derandomize=True)
def test_hostile_text_is_only_ever_text(hostile_dbs: list[AgentDB], q: str) -> None:
    for db in hostile_dbs:
        before = digest(db.path)
        found = find_messages(db.path, parse_terms(q), busy_timeout=5.0)
        assert found.index in ("fts", "trigram", "scan", "mixed")
        assert digest(db.path) == before  # read-only, whatever the text


@pytest.mark.parametrize("q", ['"', "*", "NEAR(", "-", "AND", '"and', "NOT ^", "^", "( a,"])
def test_fts_syntax_characters_are_searched_for(hostile_dbs: list[AgentDB], q: str) -> None:
    for db in hostile_dbs:
        found = find_messages(db.path, parse_terms(q), busy_timeout=5.0)
        assert found.hits, (q, db.path)
