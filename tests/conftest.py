"""Shared fixtures: a data home, the agent-playing database factory, apps and their clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clients import client, make_client
from factory import agent_db, agent_home

__all__ = ["agent_db", "agent_home", "client", "make_client"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive Playwright run last.

    Playwright's sync API marks its event loop as the thread's running loop for as long as
    the driver lives (a session fixture), so any asyncio test after it in the main thread
    would fail with "Cannot run the event loop while another loop is running".
    """
    items.sort(key=lambda item: "playwright" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session", autouse=True)
def session_user_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``HOME`` at an empty folder from the start, for session and module fixtures (apps and
    servers shared by a module's tests) that are set up before any test's own."""
    home = tmp_path_factory.mktemp("user-home-shared")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(home))
        yield home


@pytest.fixture(autouse=True)
def user_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs with ``HOME`` at an empty folder of its own, and so does every server
    and browser it starts (they inherit the environment).

    A catch-all: the defaults ``~/.hermes`` and ``~/.claude`` would otherwise name the
    machine's real folders, and a test that forgets ``claude_home=""`` would read (and show)
    someone's Claude Code transcripts. A folder of its own per test: nothing a test leaves in
    its home reaches another. Chromium is content with it (it keeps its profile elsewhere).
    """
    home = tmp_path_factory.mktemp("user-home")
    monkeypatch.setenv("HOME", str(home))
    return home
