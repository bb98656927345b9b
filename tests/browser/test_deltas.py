"""Deltas: a long random run of the agent's commits, each applied in place by the sidebar, and
after every step the rows on screen are exactly a fresh load's."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factory import AgentDB, agent_db_path, make_agent_db
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from servers import Server

from webui.agentdb.schema import LATEST_VERSION

from .helpers import SLOW_POLL, Spec, api_list, metrics, open_sidebar, serve, write_sessions

pytestmark = pytest.mark.browser

SEED = 1763
STEPS = 40
# A short list (the window holds it all, and grows into its room), and one longer than the
# window (500 rows held of more: each new row pushes the last one out of it).
STARTS = (30, 520)
# Every row of the short list in view at once, so the DOM holds it whole.
VIEWPORT: ViewportSize = {"width": 1280, "height": 2600}
LONG = 500  # a list this long is past the window, and only partly in the DOM

# What a row shows, read the same way from the page's state and from the server's answer.
STATE_ROWS = """() => window.__webui.state.rows.map(r =>
    [r.profile, r.session_id, r.title, r.message_count, Boolean(r.archived)])"""
DOM_ROWS = """() => [...document.querySelectorAll('.session-row')].map(n =>
    [n.dataset.sessionId, n.querySelector('.row-title').textContent,
     n.querySelector('.row-count').textContent])"""


@pytest.fixture(params=STARTS, ids=lambda n: f"{n}-rows")
def start(request: pytest.FixtureRequest) -> int:
    count: int = request.param
    return count


@pytest.fixture
def agent(tmp_path: Path, start: int) -> Iterator[AgentDB]:
    """The agent's database with ``start`` chats, on the factory's clock: every later commit is
    newer than all of them, so new chats and new messages move rows to the top."""
    db = make_agent_db(tmp_path / "home")
    for n in range(start):
        db.session("webui", id=f"s-{n:03d}", title=f"Chat {n}", messages=2)
    yield db
    db.close()


@pytest.fixture
def server(tmp_path: Path, agent: AgentDB) -> Iterator[Server]:
    # Only change events refresh the list: no poll comes by to hide a wrong delta.
    with serve(tmp_path / "home", *SLOW_POLL) as running:
        yield running


def expected_rows(server: Server) -> list[list[Any]]:
    """The first page a fresh load gets, in the shape of STATE_ROWS."""
    data = api_list(server, limit=500)
    return [
        [e["profile"], e["session_id"], e["title"], e["message_count"], bool(e["archived"])]
        for e in data["sessions"]
    ]


def next_frame(page: Page) -> None:
    """Until the virtual list has painted what its last update asked for (one frame)."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))")


def dom_rows(page: Page) -> list[list[str]]:
    rows: list[list[str]] = page.evaluate(DOM_ROWS)
    return rows


def step(agent: AgentDB, rng: random.Random, live: list[str], serial: int) -> str:
    """One external commit, picked at random; returns what it did (for the failure message)."""
    action = rng.choice(
        ["new", "new", "message", "message", "message", "title", "archive", "delete"]
    )
    if action == "new" or not live:
        sid = f"n-{serial:03d}"
        agent.session(
            rng.choice(["webui", "cli", "telegram"]), id=sid, title=f"New {serial}", messages=2
        )
        live.append(sid)
        return f"new {sid}"
    sid = rng.choice(live)
    if action == "message":
        agent.message(sid, rng.choice(["user", "assistant"]), f"more {serial}")
        return f"message {sid}"
    if action == "title":
        agent.update(sid, title=f"Retitled {serial}")
        return f"title {sid}"
    live.remove(sid)
    if action == "archive":
        agent.update(sid, archived=1)
        return f"archive {sid}"
    agent.delete(sid)
    return f"delete {sid}"


def test_random_commits_applied_as_deltas_match_a_fresh_load(
    page: Page, context: BrowserContext, server: Server, agent: AgentDB, start: int
) -> None:
    page.set_viewport_size(VIEWPORT)
    open_sidebar(page, server)
    fresh = context.new_page()
    fresh.set_viewport_size(VIEWPORT)
    rng = random.Random(SEED)
    live = [f"s-{n:03d}" for n in range(start)]
    done: list[str] = []
    for serial in range(STEPS):
        done.append(step(agent, rng, live, serial))
        wanted = expected_rows(server)
        try:
            page.wait_for_function(
                f"wanted => JSON.stringify(({STATE_ROWS})()) === wanted",
                arg=json.dumps(wanted, separators=(",", ":"), ensure_ascii=False),
                timeout=5_000,
            )
        except PlaywrightTimeout as exc:  # say which step went wrong, and how
            raise AssertionError(f"after {done}: {page.evaluate(STATE_ROWS)} != {wanted}") from exc
        # The DOM shows the same rows, in the same order, as a fresh load of the page (once
        # its next frame has painted what the state holds).
        open_sidebar(fresh, server, rows=bool(wanted))
        if start < LONG:  # a short list is in the DOM whole
            expect(fresh.locator(".session-row")).to_have_count(len(wanted))
        loaded = dom_rows(fresh)
        try:
            page.wait_for_function(
                f"want => JSON.stringify(({DOM_ROWS})()) === want",
                arg=json.dumps(loaded, separators=(",", ":"), ensure_ascii=False),
                timeout=5_000,
            )
        except PlaywrightTimeout as exc:
            raise AssertionError(f"after {done}: {dom_rows(page)} != {loaded}") from exc
        if start >= LONG:  # of a long one, only the rows near the viewport
            assert len(loaded) < len(wanted)
    counters = metrics(page)
    assert counters["deltas"] >= STEPS // 2, counters
    assert counters["deltaFallbacks"] == 0, counters


def test_a_delta_keeps_scroll_position_and_focus(page: Page, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_sessions(home, [Spec(id=f"m-{n:03d}", title=f"Chat {n}") for n in range(300)])
    agent = AgentDB(agent_db_path(home), version=LATEST_VERSION, journal_mode="wal", id_salt="k")
    try:
        with serve(home, *SLOW_POLL) as server:
            open_sidebar(page, server)
            page.locator("#session-list").evaluate("node => { node.scrollTop = 4000; }")
            target = page.locator('.session-row[data-session-id="m-200"]')
            target.focus()
            expect(target).to_be_focused()
            next_frame(page)
            top = target.evaluate("node => node.getBoundingClientRect().top")
            before = metrics(page)

            # Two rows go to the top, above the eye: a new chat and one with a new message.
            now = time.time()
            agent.session("webui", id="m-new", title="Arrived while scrolled", started_at=now)
            agent.message("m-250", "user", "one more", timestamp=now + 5)
            page.wait_for_function(
                f"() => window.__webui.metrics.deltas > {before['deltas']}"
                " && window.__webui.state.rows.length === 301"
                " && window.__webui.state.rows[0].session_id === 'm-250'"
            )
            next_frame(page)
            expect(target).to_be_focused()
            assert page.evaluate(
                "() => window.__webui.state.rows.slice(0, 2).map(r => r.session_id)"
            ) == ["m-250", "m-new"]
            # The row under the eye stays where it was: the new rows went in above, unseen.
            after = target.evaluate("node => node.getBoundingClientRect().top")
            assert abs(after - top) < 1, (top, after)
            assert page.locator(".session-row").count() < 60  # still a virtual window
            assert metrics(page)["deltaFallbacks"] == before["deltaFallbacks"]
            # Keyboard moves on from the kept focus, to the neighbour the new list has.
            page.keyboard.press("ArrowDown")
            expect(page.locator('.session-row[data-session-id="m-199"]')).to_be_focused()
    finally:
        agent.close()
