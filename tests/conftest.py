"""Shared fixtures: a data home, the agent-playing database factory, apps and their clients."""

from __future__ import annotations

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
