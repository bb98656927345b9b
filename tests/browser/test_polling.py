"""Polling: a 304 repaints nothing; a hidden tab does not poll, and catches up when shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factory import AgentDB, agent_db_path
from playwright.sync_api import Page, expect
from servers import Server

from webui.agentdb.schema import LATEST_VERSION

from .helpers import Spec, metrics, open_sidebar, row, serve, set_visibility, write_sessions

pytestmark = pytest.mark.browser


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    write_sessions(home, [Spec(id=f"p-{n}", title=f"Chat {n}") for n in range(6)])
    return home


@pytest.fixture
def server(home: Path) -> Iterator[Server]:
    with serve(home) as running:  # the browser polls every 0.3 s
        yield running


@pytest.fixture
def agent(home: Path) -> Iterator[AgentDB]:
    db = AgentDB(agent_db_path(home), version=LATEST_VERSION, journal_mode="wal", id_salt="x")
    yield db
    db.close()


def wait_for_metric(page: Page, name: str, at_least: int, timeout: float = 15_000) -> None:
    page.wait_for_function(f"() => window.__webui.metrics.{name} >= {at_least}", timeout=timeout)


def test_unchanged_polls_are_304s_that_repaint_nothing(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    # The server's poll interval (0.3 s) is in use from the first poll, not the default 5 s.
    wait_for_metric(page, "notModified", 1, timeout=2_500)
    before = metrics(page)
    wait_for_metric(page, "notModified", before["notModified"] + 4)
    after = metrics(page)
    assert after["fetches"] >= before["fetches"] + 4
    assert after["renders"] == before["renders"], (before, after)


def test_hidden_tab_does_not_poll_and_catches_up_when_shown(
    page: Page, server: Server, agent: AgentDB
) -> None:
    open_sidebar(page, server)
    wait_for_metric(page, "notModified", 1)
    set_visibility(page, hidden=True)
    page.wait_for_timeout(500)  # a poll already in flight may still land
    hidden = metrics(page)

    # The agent starts a chat while the tab is hidden: a change event comes, and is ignored.
    agent.session("webui", id="p-new", title="Started while hidden", messages=2)
    page.wait_for_timeout(2_000)  # some six poll intervals
    assert metrics(page) == hidden
    expect(row(page, "p-new")).to_have_count(0)

    # Visible again: one refresh at once, the new chat shows, and polling resumes.
    set_visibility(page, hidden=False)
    expect(row(page, "p-new")).to_be_visible(timeout=1_500)
    assert metrics(page)["fetches"] > hidden["fetches"]
    wait_for_metric(page, "notModified", hidden["notModified"] + 2)


def test_a_change_is_painted_without_a_reload(page: Page, server: Server, agent: AgentDB) -> None:
    open_sidebar(page, server)
    renders = metrics(page)["renders"]
    agent.update("p-5", title="Renamed by the agent")
    expect(row(page, "p-5").locator(".row-title")).to_have_text("Renamed by the agent")
    assert metrics(page)["renders"] > renders
