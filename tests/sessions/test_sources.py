"""Other session sources in the lists: Claude Code transcripts beside the agent's databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from claudecode.jsonl import Session, append, conversation
from clients import Client
from factory import AgentDB
from starlette.testclient import TestClient


@pytest.fixture
def claude_root(tmp_path: Path) -> Path:
    root = tmp_path / "claude"
    (root / "projects").mkdir(parents=True)
    return root


def _list(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _ids(body: dict[str, Any]) -> list[str]:
    return [r["session_id"] for r in body["sessions"]]


def test_transcripts_are_listed_in_every_profile_and_once_in_all(
    make_client: Client, agent_db: Any, claude_root: Path
) -> None:
    default: AgentDB = agent_db()
    work: AgentDB = agent_db("work")
    default.session("cli", messages=2)
    work.session("cli", messages=2)
    session = Session(session_id="00000000-0000-4000-8000-000000000001")
    conversation(claude_root, session, turns=2)
    client = make_client(claude_home=str(claude_root))
    for profile in ("default", "work"):
        body = _list(client, profile=profile)
        assert session.session_id in _ids(body)
        row = next(r for r in body["sessions"] if r["session_id"] == session.session_id)
        assert row["profile"] == "claude-code" and row["source_kind"] == "claude-code"
        assert row["project"] == "webui" and row["git_branch"] == "main"
        assert body["counts"]["claude-code"] == 1
        # The picker's hint counts the other profile's own rows, not the shared ones.
        assert body["counts"]["other_profiles"] == 1
    everything = _list(client, all_profiles=1)
    assert _ids(everything).count(session.session_id) == 1 and everything["total"] == 3
    assert session.session_id not in _ids(_list(client, show_claude_code=0))
    assert session.session_id not in _ids(_list(client, sidebar_source="cli"))


def test_an_append_shows_on_the_next_poll_and_costs_one_session(
    make_client: Client, agent_db: Any, claude_root: Path
) -> None:
    agent_db().session("cli", messages=2)
    session = Session(session_id="00000000-0000-4000-8000-000000000002")
    path = conversation(claude_root, session, turns=1)
    client = make_client(claude_home=str(claude_root))
    first = _list(client)
    row = next(r for r in first["sessions"] if r["session_id"] == session.session_id)
    assert row["message_count"] == 2
    append(path, session.user("one more question"), session.assistant("one more answer"))
    second = client.get("/api/sessions")
    assert second.headers["x-cache"] == "miss"
    row = next(r for r in second.json()["sessions"] if r["session_id"] == session.session_id)
    assert row["message_count"] == 4
    stats = client.app.state.ctx.lists.index_stats()  # type: ignore[attr-defined]
    assert stats["full_reloads"] == 2  # the profile and the folder, once each, at the start


def test_renames_and_deletes_of_transcript_rows_are_web_ui_overrides(
    make_client: Client, agent_db: Any, claude_root: Path
) -> None:
    agent_db().session("cli", messages=2)
    session = Session(session_id="00000000-0000-4000-8000-000000000003")
    path = conversation(claude_root, session, turns=1)
    before = path.read_bytes()
    client = make_client(claude_home=str(claude_root))
    sid = session.session_id
    renamed = client.patch(f"/api/sessions/{sid}?profile=claude-code", json={"title": "Mine"})
    assert renamed.status_code == 200, renamed.text
    row = next(r for r in _list(client)["sessions"] if r["session_id"] == sid)
    assert row["title"] == "Mine"
    assert client.delete(f"/api/sessions/{sid}?profile=claude-code").status_code in (200, 204)
    assert sid not in _ids(_list(client))
    assert path.read_bytes() == before  # the transcript is never written


def test_the_full_build_gives_the_same_lists(
    make_client: Client, agent_db: Any, claude_root: Path
) -> None:
    db: AgentDB = agent_db()
    for _ in range(5):
        db.session("cli", messages=2)
    for n in range(3):
        conversation(claude_root, Session(session_id=f"00000000-0000-4000-8000-00000000001{n}"))
    incremental = make_client(claude_home=str(claude_root))
    full = make_client(claude_home=str(claude_root), incremental_index=False)
    for params in ({}, {"all_profiles": 1}, {"show_claude_code": 0}):
        a, b = _list(incremental, **params), _list(full, **params)
        for body in (a, b):
            body.pop("server_time")
            body.pop("version")
        assert a == b
