"""The session routes with profile=claude-code: rows, messages and overrides, never a write."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from clients import Client
from starlette.testclient import TestClient

from claudecode.jsonl import Session, append, conversation, summary

CLAUDE = {"profile": "claude-code"}


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def claude(tmp_path: Path) -> tuple[Path, Session]:
    root = tmp_path / "claude"
    s = Session(cwd="/home/ada/code/webui", branch="feature/cache")
    path = conversation(root, s, turns=2)
    append(path, summary("Designing the cache", s.parent or ""))
    return root, s


@pytest.fixture
def api(make_client: Client, claude: tuple[Path, Session]) -> TestClient:
    return make_client(claude_home=str(claude[0]))


def test_a_claude_code_row_is_the_list_row_plus_project_and_branch(
    api: TestClient, claude: tuple[Path, Session]
) -> None:
    _, s = claude
    response = api.get(f"/api/sessions/{s.session_id}", params=CLAUDE)
    assert response.status_code == 200
    row = response.json()
    assert row["session_id"] == s.session_id and row["profile"] == "claude-code"
    assert (row["source"], row["source_kind"], row["source_label"]) == (
        "claude-code",
        "claude-code",
        "Claude Code",
    )
    assert row["title"] == "Designing the cache"
    assert (row["project"], row["git_branch"]) == ("webui", "feature/cache")
    assert row["message_count"] == 4 and row["model"] == "claude-sonnet-4-5-20250929"
    assert row["is_streaming"] is False


def test_messages_are_read_from_the_transcript(
    api: TestClient, claude: tuple[Path, Session]
) -> None:
    _, s = claude
    body = api.get(f"/api/sessions/{s.session_id}/messages", params={**CLAUDE, "limit": 3}).json()
    assert [(m["id"], m["role"]) for m in body["messages"]] == [
        (1, "user"),
        (2, "assistant"),
        (3, "user"),
    ]
    assert body["next_after"] == 3
    rest = api.get(f"/api/sessions/{s.session_id}/messages", params={**CLAUDE, "after": 3}).json()
    assert [m["content"] for m in rest["messages"]] == ["answer 1"] and rest["next_after"] is None


def test_overrides_and_tombstones_live_in_webui_db_and_the_transcripts_stay_as_they_were(
    api: TestClient, claude: tuple[Path, Session]
) -> None:
    root, s = claude
    before = tree_digest(root)
    url = f"/api/sessions/{s.session_id}"
    renamed = api.patch(url, params=CLAUDE, json={"title": "My cache", "pinned": True})
    assert renamed.status_code == 200
    assert (renamed.json()["title"], renamed.json()["pinned"]) == ("My cache", True)
    assert api.get(url, params=CLAUDE).json()["title"] == "My cache"
    assert api.delete(url, params=CLAUDE).json() == {
        "deleted": True,
        "session_id": s.session_id,
        "profile": "claude-code",
    }
    assert api.get(url, params=CLAUDE).status_code == 404
    assert api.get(f"{url}/messages", params=CLAUDE).status_code == 404
    restored = api.post(f"{url}/restore", params=CLAUDE)
    assert restored.status_code == 200 and restored.json()["title"] == "My cache"
    assert tree_digest(root) == before


def test_sending_a_message_is_refused_as_read_only(
    api: TestClient, claude: tuple[Path, Session]
) -> None:
    _, s = claude
    response = api.post(
        f"/api/sessions/{s.session_id}/messages", params=CLAUDE, json={"content": "hello"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "read_only_source",
            "message": "Claude Code sessions are read-only here",
            "param": "session_id",
        }
    }


def test_unknown_sessions_and_an_off_source_are_404(
    api: TestClient, make_client: Client, claude: tuple[Path, Session]
) -> None:
    _, s = claude
    assert api.get("/api/sessions/nope", params=CLAUDE).json()["error"]["code"] == (
        "unknown_session"
    )
    off = make_client()  # claude_home "" (the test clients' default): the source is off
    error = off.get(f"/api/sessions/{s.session_id}", params=CLAUDE).json()["error"]
    assert (error["code"], error["param"]) == ("source_off", "profile")
    # The name is reserved on the session routes only; elsewhere it is an unknown profile.
    assert off.get("/api/sessions", params=CLAUDE).status_code == 404


def test_corrupt_lines_show_in_health_never_as_errors(
    make_client: Client, claude: tuple[Path, Session]
) -> None:
    root, s = claude
    append(root / "projects" / "-home-ada-code-webui" / f"{s.session_id}.jsonl", b"{torn\n")
    api = make_client(claude_home=str(root))
    assert api.get(f"/api/sessions/{s.session_id}", params=CLAUDE).status_code == 200
    health = api.get("/api/health").json()
    assert health["status"] == "degraded"
    assert any("1 corrupt line(s) skipped" in w for w in health["warnings"])
    assert health["claude_code"]["full_parses"] == 1


def test_the_show_claude_code_setting(api: TestClient) -> None:
    assert api.get("/api/settings").json()["show_claude_code"] is True
    changed = api.patch("/api/settings", json={"show_claude_code": False})
    assert changed.status_code == 200 and changed.json()["show_claude_code"] is False
    assert api.patch("/api/settings", json={"show_claude_code": "no"}).status_code == 400
