"""The home layout: profile names, the reserved name of the Claude Code source, paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from claudecode.jsonl import Session, conversation
from clients import Client
from factory import AgentDB

from webui.agentdb.home import (
    RESERVED_NAMES,
    check_profile_name,
    is_profile_folder,
    list_profiles,
    profile_dir,
    require_profile,
    state_db_path,
)
from webui.claudecode.source import PROFILE as CLAUDE_PROFILE
from webui.errors import ApiError


def test_the_reserved_name_is_the_claude_code_sources() -> None:
    # agentdb may not import claudecode: the two spellings are held equal here.
    assert CLAUDE_PROFILE in RESERVED_NAMES


def test_list_profiles_is_default_then_profile_folders_sorted(tmp_path: Path) -> None:
    assert list_profiles(tmp_path / "missing") == ["default"]
    for name in ("work", "a_b-9", "claude-code", "default", "Bad.Name"):
        (tmp_path / "profiles" / name).mkdir(parents=True)
    (tmp_path / "profiles" / "file").write_text("not a folder")
    # profiles/default is not the default profile, and claude-code names the other source.
    assert list_profiles(tmp_path) == ["default", "a_b-9", "work"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("work", True), ("default", False), ("claude-code", False), ("Bad.Name", False)],
)
def test_is_profile_folder(name: str, expected: bool) -> None:
    assert is_profile_folder(name) is expected


def test_the_reserved_name_is_well_formed_but_no_profile(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "claude-code").mkdir(parents=True)
    assert check_profile_name("claude-code") == "claude-code"  # the syntax is fine: not a 400
    with pytest.raises(ApiError) as raised:
        require_profile(tmp_path, "claude-code", "default_profile")
    assert (raised.value.status, raised.value.code, raised.value.param) == (
        404,
        "unknown_profile",
        "default_profile",
    )
    assert "another session source" in raised.value.message
    # Nothing may resolve the shadowed folder, whichever route forgot to ask.
    for resolve in (profile_dir, state_db_path):
        with pytest.raises(ApiError) as raised:
            resolve(tmp_path, "claude-code")
        assert raised.value.status == 404


@pytest.mark.parametrize("name", ["", "Work", "../x", "a/b", "-x", "a" * 65])
def test_malformed_names_are_a_400_before_any_folder_is_looked_at(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(ApiError) as raised:
        require_profile(tmp_path, name)
    assert (raised.value.status, raised.value.code) == (400, "invalid_parameter")


def test_existing_profiles_resolve_inside_the_home(tmp_path: Path) -> None:
    (tmp_path / "profiles" / "work").mkdir(parents=True)
    assert require_profile(tmp_path, "default") == "default"
    assert require_profile(tmp_path, "work") == "work"
    assert state_db_path(tmp_path, "default") == tmp_path / "state.db"
    assert state_db_path(tmp_path, "work") == tmp_path / "profiles" / "work" / "state.db"
    with pytest.raises(ApiError) as raised:
        require_profile(tmp_path, "gone")
    assert (raised.value.status, raised.value.code) == (404, "unknown_profile")


def test_a_profiles_claude_code_folder_is_shadowed_in_the_api(
    make_client: Client, agent_db: Callable[..., AgentDB], tmp_path: Path
) -> None:
    """A real ``profiles/claude-code/state.db`` is never listed, switched to or read; the
    session routes' ``profile=claude-code`` still names the Claude Code source."""
    agent_db().session("cli", title="Default's", messages=1)
    shadowed = agent_db("claude-code").session("cli", title="Shadowed", messages=1)
    s = Session()
    conversation(tmp_path / "claude", s, turns=1)
    api = make_client(claude_home=str(tmp_path / "claude"))

    profiles = api.get("/api/profiles").json()["profiles"]
    assert [p["name"] for p in profiles] == ["default"]
    for response in (
        api.get("/api/sessions", params={"profile": "claude-code"}),
        api.post("/api/profile/switch", json={"profile": "claude-code"}),
        api.patch("/api/settings", json={"default_profile": "claude-code"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "unknown_profile"
    everything = api.get("/api/sessions", params={"all_profiles": "1"}).json()["sessions"]
    assert shadowed not in {row["session_id"] for row in everything}
    assert "Shadowed" not in {row["title"] for row in everything}

    row = api.get(f"/api/sessions/{s.session_id}", params={"profile": "claude-code"})
    assert row.status_code == 200 and row.json()["source_kind"] == "claude-code"
    missing = api.get(f"/api/sessions/{shadowed}", params={"profile": "claude-code"})
    assert missing.status_code == 404
