"""``GET /api/sessions/search`` through the app: the response shape, rows exactly as the list
has them, every list rule, the runtime overlay, paging and hostile text."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import hypothesis
import orjson
import pytest
from claudecode.jsonl import Session, append, line, project_dir, write
from clients import Client
from factory import AgentDB
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from webui.agentdb.schema import SCHEMA_VERSIONS
from webui.api.context import AppContext

MATCH_FIELDS = {"where", "message_id", "role", "snippet", "ranges", "timestamp"}
TOP_FIELDS = {"results", "total", "offset", "limit", "next_offset", "index", "q", "profile",
              "all_profiles"}  # fmt: skip


def find(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/sessions/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert set(data) == TOP_FIELDS
    for result in data["results"]:
        match = result["match"]
        assert set(match) == MATCH_FIELDS
        for start, end in match["ranges"]:
            assert 0 <= start < end <= len(match["snippet"])
    return data


def ids(client: TestClient, q: str, **params: Any) -> list[str]:
    return [r["session_id"] for r in find(client, q, **params)["results"]]


def listed_rows(client: TestClient, **params: Any) -> dict[str, Any]:
    rows = client.get("/api/sessions", params=params).json()["sessions"]
    return {r["session_id"]: r for r in rows}


def ctx(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.ctx  # type: ignore[attr-defined]
    return context


def test_shape_rows_and_matches(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    titled = db.session("cli", title="Postgres pool tuning", messages=2)
    talked = db.session(
        "cli",
        title="Unrelated",
        messages=[("user", "hi"), ("assistant", "The Postgres connection pool is too small.")],
    )
    db.session("cli", title="Nothing here", messages=2)
    data = find(client, "  postgres   pool ")
    assert data["q"] == "postgres pool" and data["index"] == "fts"
    assert data["total"] == 2 and data["next_offset"] is None and data["profile"] == "default"
    first, second = data["results"]
    assert first["session_id"] == titled and first["match"]["where"] == "title"
    assert first["match"]["snippet"] == "Postgres pool tuning"
    assert first["match"]["ranges"] == [[0, 8], [9, 13]]
    assert first["match"]["message_id"] is None and first["match"]["timestamp"] is None
    assert second["session_id"] == talked and second["match"]["where"] == "message"
    assert second["match"]["role"] == "assistant"
    snippet = second["match"]["snippet"]
    assert [snippet[a:b] for a, b in second["match"]["ranges"]] == ["Postgres", "pool"]
    assert isinstance(second["match"]["message_id"], int)
    assert isinstance(second["match"]["timestamp"], float)
    # A row is exactly the list's row, byte for byte, with the match added.
    rows = listed_rows(client)
    for result in data["results"]:
        row = {k: v for k, v in result.items() if k != "match"}
        assert orjson.dumps(row) == orjson.dumps(rows[row["session_id"]])


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("upgraded", [False, True])
def test_every_schema_version(
    agent_db: Any, make_client: Client, version: int, upgraded: bool
) -> None:
    if upgraded and version == SCHEMA_VERSIONS[0]:
        pytest.skip("v11 is the base layout: nothing to upgrade")
    db: AgentDB = agent_db(version=version, upgraded=upgraded)
    sid = db.session("cli", messages=[("user", "why is the docker compose build slow")])
    client = make_client()
    assert ids(client, "docker compose") == [sid]
    assert find(client, "ompose bui")["index"] == "trigram"


def test_gates_archived_hidden_and_tombstones(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    text = [("user", "the flaky test again")]
    cli = db.session("cli", messages=text)
    cron = db.session("cron", id="cron_0123456789ab_20251122_000000", messages=text)
    hidden = db.session("cli", hidden=1, messages=text)
    archived = db.session("cli", messages=text)
    deleted = db.session("cli", messages=text)
    empty = db.session("cli", title="flaky but empty", messages=0)
    client.patch(f"/api/sessions/{archived}", json={"archived": True})
    assert client.delete(f"/api/sessions/{deleted}").status_code == 200
    assert set(ids(client, "flaky")) == {cli}
    assert set(ids(client, "flaky", show_cron=1)) == {cli, cron}
    assert set(ids(client, "flaky", show_cli=0)) == set()
    assert set(ids(client, "flaky", include_archived=1)) == {cli, archived}
    assert set(ids(client, "flaky", exclude_hidden=0)) == {cli, hidden}
    assert empty not in ids(client, "flaky", include_archived=1, exclude_hidden=0)
    client.post(f"/api/sessions/{deleted}/restore")
    assert set(ids(client, "flaky")) == {cli, deleted}


def test_a_match_in_any_segment_shows_the_chain_row(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    first = db.session(
        "cli", title="Plan", end_reason="compression", messages=[("user", "rate limit design")]
    )
    second = db.session(
        "cli",
        title="Plan #2",
        parent_session_id=first,
        end_reason="compression",
        messages=[("user", "more on tokens")],
    )
    tip = db.session(
        "cli", title="Plan #3", parent_session_id=second, messages=[("user", "rate limit done")]
    )
    data = find(client, "rate limit")
    assert [r["session_id"] for r in data["results"]] == [tip] and data["total"] == 1
    assert ids(client, "tokens") == [tip]


def test_older_messaging_sessions_show_their_conversation(
    agent_db: Any, client: TestClient
) -> None:
    db: AgentDB = agent_db()
    key = "agent:main:telegram:dm:42"
    old = db.session(
        "telegram", session_key=key, end_reason="session_reset", messages=[("user", "sourdough")]
    )
    new = db.session("telegram", session_key=key, messages=[("user", "what about rye")])
    child = db.session(
        "telegram",
        session_key=key,
        model_config='{"_delegate_from": "x"}',
        messages=[("user", "rye starter")],
    )
    assert ids(client, "sourdough") == [new]
    assert set(ids(client, "sourdough", show_messaging_history=1)) == {old}
    assert ids(client, "starter") == []  # a subagent's session is no older conversation
    assert child not in listed_rows(client, show_messaging_history=1)
    client.delete(f"/api/sessions/{old}")
    assert ids(client, "sourdough") == []


def test_all_profiles_and_profile_scope(agent_db: Any, agent_home: Any, client: TestClient) -> None:
    a: AgentDB = agent_db()
    b: AgentDB = agent_db("work", version=14)
    here = a.session("cli", messages=[("user", "memory leak in the worker")])
    there = b.session("cli", messages=[("user", "another memory leak")])
    assert ids(client, "memory leak") == [here]
    assert ids(client, "memory leak", profile="work") == [there]
    data = find(client, "memory leak", all_profiles=1)
    assert {(r["profile"], r["session_id"]) for r in data["results"]} == {
        ("default", here),
        ("work", there),
    }
    assert data["all_profiles"] is True and data["index"] == "fts"


def test_rows_carry_the_runtime_overlay(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    quiet = db.session("cli", messages=[("user", "websocket gateway")])
    live = db.session("webui", messages=[("user", "websocket reconnects")])
    assert ids(client, "websocket")  # the list is built and cached
    ctx(client).registry.start(
        stream_id="s1", profile="default", session_id=live, pending_message="hi", message_count=2
    )
    data = find(client, "websocket")
    rows = {r["session_id"]: r for r in data["results"]}
    assert rows[live]["is_streaming"] is True and rows[live]["active_stream_id"] == "s1"
    assert rows[quiet]["is_streaming"] is False


def test_paging(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    made = {db.session("cli", messages=[("user", f"audit log entry {n}")]) for n in range(7)}
    first = find(client, "audit", limit=3)
    assert first["total"] == 7 and first["next_offset"] == 3 and len(first["results"]) == 3
    seen = [r["session_id"] for r in first["results"]]
    seen += ids(client, "audit", limit=3, offset=3)
    last = find(client, "audit", limit=3, offset=6)
    assert last["next_offset"] is None and len(last["results"]) == 1
    seen += [r["session_id"] for r in last["results"]]
    assert len(seen) == 7 and set(seen) == made
    assert find(client, "audit", offset=50)["results"] == []


def test_the_scan_says_so(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", messages=[("user", "billing cron job")])
    db.execute("DROP TABLE messages_fts")
    db.execute("DROP TABLE messages_fts_trigram")
    data = find(client, "billing")
    assert data["index"] == "scan" and [r["session_id"] for r in data["results"]] == [sid]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "x", "limit": "0"}, "limit"),
        ({"q": "x", "limit": "101"}, "limit"),
        ({"q": "x", "offset": "10001"}, "offset"),
        ({"q": "x", "offset": "-1"}, "offset"),
        ({"q": "x", "show_cron": "maybe"}, "show_cron"),
        ({"q": "x", "profile": "../etc"}, "profile"),
    ],
)
def test_bad_parameters_name_themselves(
    client: TestClient, params: dict[str, str], param: str
) -> None:
    response = client.get("/api/sessions/search", params=params)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_an_unknown_profile_is_404(client: TestClient) -> None:
    response = client.get("/api/sessions/search", params={"q": "x", "profile": "nobody"})
    assert response.status_code == 404


@pytest.fixture
def hostile_client(agent_db: Any, make_client: Client) -> TestClient:
    db: AgentDB = agent_db()
    db.session("cli", title='Quotes " and NEAR(', messages=[("user", 'a "b" * NEAR( - AND')])
    db.session("cli", messages=[("user", "数据库连接池 😀 emoji")])
    return make_client()


@given(q=st.text(min_size=1, max_size=80))
@hypothesis.settings(
    max_examples=120,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],  # read only
)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_hostile_text_never_fails(hostile_client: TestClient, q: str) -> None:
    assert_text_is_searched_or_refused(hostile_client, q)


def assert_text_is_searched_or_refused(client: TestClient, q: str) -> None:
    """Any text is a search (200) or a 400 naming ``q``: never syntax, never a 500."""
    query = urllib.parse.urlencode({"q": q})
    response = client.get(f"/api/sessions/search?{query}")
    assert response.status_code in (200, 400), (q, response.text)
    if response.status_code == 400:
        assert response.json()["error"]["param"] == "q"


def test_ranges_count_characters(hostile_client: TestClient) -> None:
    (result,) = find(hostile_client, "emoji")["results"]
    match = result["match"]
    # 😀 is one character (two UTF-16 units): ranges count code points, Array.from's way.
    assert [match["snippet"][a:b] for a, b in match["ranges"]] == ["emoji"]


def test_the_path_is_never_a_session_id(agent_db: Any, client: TestClient) -> None:
    agent_db().session("cli", id="search", messages=1)
    response = client.delete("/api/sessions/search")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert "search" in listed_rows(client)


def test_the_benchmark_smoke_run(tmp_path: Any) -> None:
    from webui.bench.search import smoke

    result = smoke(tmp_path)
    assert [k.kind for k in result.kinds] == ["word", "phrase", "prefix", "substring"]
    assert all(k.p95_ms > 0 for k in result.kinds)
    assert sum(k.results for k in result.kinds) > 0
    assert "| word (1) | fts |" in result.markdown()


def test_an_empty_row_shows_while_a_stream_is_live_on_it(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    sid = db.session("webui", title="Kickoff plan", messages=0)
    assert ids(client, "kickoff") == []  # zero messages: not in the list
    ctx(client).registry.start(
        stream_id="s2", profile="default", session_id=sid, pending_message="hi", message_count=1
    )
    (result,) = find(client, "kickoff")["results"]
    assert result["session_id"] == sid and result["is_streaming"] is True
    assert result["match"]["where"] == "title"


def test_each_profile_ranks_a_bounded_number_of_hits(agent_db: Any, client: TestClient) -> None:
    from webui.agentdb.search import Bounds
    from webui.sessions.search import SessionSearch

    db: AgentDB = agent_db()
    made = [
        db.session("cli", title=f"t{n}", messages=[("user", "retention job")]) for n in range(6)
    ]
    context = ctx(client)
    context.search = SessionSearch(
        context.lists,
        context.db.read_profile_state,
        home=context.home,
        busy_timeout=5.0,
        bounds=Bounds(max_hits=4),
    )
    data = find(client, "retention")
    assert data["total"] == 4 and data["next_offset"] is None
    assert {r["session_id"] for r in data["results"]} == set(made[2:])  # the newest hits


def test_whitespace_is_collapsed_before_the_length_check(client: TestClient) -> None:
    data = find(client, "  rate" + " " * 250 + "limit  ")
    assert data["q"] == "rate limit" and data["results"] == []


# -- Claude Code sessions: our own index of their transcripts ---------------------------------

CLAUDE = {"profile": "claude-code"}


@pytest.fixture
def claude_root(tmp_path: Any) -> Any:
    return tmp_path / "claude"


@pytest.fixture
def claude_client(make_client: Client, claude_root: Any) -> TestClient:
    """A home of Claude Code transcripts only: ``index`` is the Claude Code index's alone."""
    return make_client(claude_home=str(claude_root))


def claude_session(root: Any, *texts: str) -> tuple[Any, Session]:
    s = Session()
    entries = [s.user(t) if n % 2 == 0 else s.assistant(t) for n, t in enumerate(texts)]
    return write(project_dir(root, s.cwd) / f"{s.session_id}.jsonl", *entries), s


def claude_index(client: TestClient) -> Any:
    messages = ctx(client).search.claude
    assert messages is not None
    return messages.index


def test_a_word_in_a_claude_code_message_is_found_with_its_line(
    claude_client: TestClient, claude_root: Any
) -> None:
    _, s = claude_session(
        claude_root, "hello there", "ok", "the pgbouncer pool keeps timing out", "raise it"
    )
    data = find(claude_client, "pgbouncer")
    assert data["index"] == "fts" and data["total"] == 1
    (result,) = data["results"]
    assert (result["session_id"], result["profile"]) == (s.session_id, "claude-code")
    match = result["match"]
    assert (match["where"], match["message_id"], match["role"]) == ("message", 3, "user")
    assert [match["snippet"][a:b] for a, b in match["ranges"]] == ["pgbouncer"]
    assert isinstance(match["timestamp"], float)
    # The row is the list's own; the id opens the chat pane at that message.
    row = {k: v for k, v in result.items() if k != "match"}
    assert orjson.dumps(row) == orjson.dumps(listed_rows(claude_client)[s.session_id])
    pane = claude_client.get(
        f"/api/sessions/{s.session_id}/messages", params={**CLAUDE, "after": 2, "limit": 1}
    ).json()
    assert pane["messages"][0]["id"] == 3 and "pgbouncer" in pane["messages"][0]["content"]
    assert (claude_root.parent / "home" / "webui" / "claude-search.db").exists()


def test_an_append_is_found_on_the_next_search(claude_client: TestClient, claude_root: Any) -> None:
    path, s = claude_session(claude_root, "first prompt", "first reply")
    assert find(claude_client, "flamegraph")["results"] == []
    index = claude_index(claude_client)
    before = index.counters.as_dict()
    extra = line(s.user("can you read this flamegraph")) + line(s.assistant("sure"))
    append(path, extra)
    (result,) = find(claude_client, "flamegraph")["results"]
    assert result["match"]["message_id"] == 3
    after = index.counters.as_dict()
    assert after["lines_read"] - before["lines_read"] == 2
    assert after["bytes_read"] - before["bytes_read"] == len(extra)
    assert after["files_reset"] == 0


def test_a_truncated_transcript_is_indexed_again(
    claude_client: TestClient, claude_root: Any
) -> None:
    path, s = claude_session(claude_root, "the zookeeper quorum", "lost")
    assert ids(claude_client, "zookeeper") == [s.session_id]
    write(path, s.user("now about etcd"))
    assert ids(claude_client, "zookeeper") == []
    assert ids(claude_client, "etcd") == [s.session_id]
    assert claude_index(claude_client).counters.files_reset == 1


@pytest.mark.parametrize("damage", ["corrupt", "deleted"])
def test_a_corrupt_or_deleted_index_is_rebuilt(
    claude_client: TestClient, claude_root: Any, damage: str
) -> None:
    _, s = claude_session(claude_root, "the prometheus scrape interval")
    assert ids(claude_client, "prometheus") == [s.session_id]
    index = claude_index(claude_client)
    for suffix in ("-wal", "-shm"):
        Path(f"{index.path}{suffix}").unlink(missing_ok=True)
    if damage == "corrupt":
        index.path.write_bytes(b"\x00garbage, not SQLite" * 300)
    else:
        index.path.unlink()
    assert ids(claude_client, "prometheus") == [s.session_id]
    assert index.counters.rebuilds == 2


def test_an_index_behind_answers_from_what_it_holds_and_says_mixed(
    claude_client: TestClient, claude_root: Any
) -> None:
    _, s = claude_session(claude_root, "hello", "hi", "the vault token expired")
    index = claude_index(claude_client)
    index.budget = 0.0  # no time at all: nothing is indexed this time
    data = find(claude_client, "vault")
    assert data["index"] == "mixed" and data["results"] == []
    index.budget = 1.0
    data = find(claude_client, "vault")
    assert data["index"] == "fts" and [r["session_id"] for r in data["results"]] == [s.session_id]


def test_tombstoned_and_gated_claude_code_sessions_are_not_found(
    agent_db: Any, make_client: Client, claude_root: Any
) -> None:
    _, kept = claude_session(claude_root, "the nginx upstream")
    _, deleted = claude_session(claude_root, "another nginx upstream")
    client = make_client(claude_home=str(claude_root))
    assert set(ids(client, "nginx")) == {kept.session_id, deleted.session_id}
    assert client.delete(f"/api/sessions/{deleted.session_id}", params=CLAUDE).status_code == 200
    assert ids(client, "nginx") == [kept.session_id]
    assert ids(client, "nginx", show_claude_code=0) == []
    assert ids(client, "nginx", sidebar_source="webui") == []
    client.patch("/api/settings", json={"show_claude_code": False})
    assert ids(client, "nginx") == []
    assert ids(make_client(claude_home=""), "nginx") == []  # the source off: no index at all


def test_claude_code_and_agent_matches_rank_together(
    agent_db: Any, make_client: Client, claude_root: Any
) -> None:
    db: AgentDB = agent_db()
    agent = db.session("cli", messages=[("user", "the celery beat schedule")])
    _, s = claude_session(claude_root, "why does celery retry forever")
    client = make_client(claude_home=str(claude_root))
    data = find(client, "celery")
    assert {(r["profile"], r["session_id"]) for r in data["results"]} == {
        ("default", agent),
        ("claude-code", s.session_id),
    }
    assert data["index"] == "fts"
    assert ids(client, "celery", all_profiles=1, limit=1) != []


@pytest.fixture
def hostile_claude(agent_db: Any, make_client: Client, claude_root: Any) -> TestClient:
    claude_session(claude_root, 'a "b" * NEAR( - AND', "数据库连接池 😀 emoji", "x_y%z\\")
    return make_client(claude_home=str(claude_root))


@given(q=st.text(min_size=1, max_size=80))
@hypothesis.settings(
    max_examples=80,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],  # read only
)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_hostile_text_never_fails_on_claude_code(hostile_claude: TestClient, q: str) -> None:
    assert_text_is_searched_or_refused(hostile_claude, q)


@pytest.mark.parametrize(
    ("q", "found"),
    [('NEAR(', True), ('"b" *', True), ("连接", True), ("库", True), ("%z", True), ('"', True),
     ("nope*", False)],
)  # fmt: skip
def test_hostile_text_is_text_to_find_in_claude_code(
    hostile_claude: TestClient, q: str, found: bool
) -> None:
    assert bool(find(hostile_claude, q)["results"]) is found
