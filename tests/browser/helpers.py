"""What the browser tests share: homes with known sessions, and reading the sidebar's DOM."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory import make_agent_db
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from servers import Server, run_server

from webui.agentdb import schema as agentschema

# The browser polls fast in these tests, so a missed change shows up within a second anyway;
# tests that check "at once" start their server with slow polls instead.
FAST_POLL = ("--idle-poll-interval", "0.3", "--stream-poll-interval", "0.3")
SLOW_POLL = ("--idle-poll-interval", "60", "--stream-poll-interval", "30", "--streaming-ttl", "45")


@dataclass(frozen=True)
class Spec:
    """One agent session to write: its id, source, title, start time and message count."""

    id: str
    source: str = "webui"
    title: str | None = None
    started_at: float | None = None
    messages: int = 1
    columns: tuple[tuple[str, object], ...] = ()


def write_sessions(home: Path, specs: Sequence[Spec], profile: str = "default") -> None:
    """Create ``profile``'s ``state.db`` with ``specs``, all in one transaction (fast for 10k)."""
    db = make_agent_db(home, profile)
    base = time.time() - 86_400 * 60
    try:
        with agentschema.write_transaction(db.conn):
            for index, spec in enumerate(specs):
                start = spec.started_at if spec.started_at is not None else base + index
                columns: dict[str, object] = dict(spec.columns)
                if spec.title is not None:
                    columns["title"] = spec.title
                agentschema.insert_session(
                    db.conn, id=spec.id, source=spec.source, started_at=start, **columns
                )
                for number in range(spec.messages):
                    role = "user" if number % 2 == 0 else "assistant"
                    agentschema.insert_message(
                        db.conn,
                        session_id=spec.id,
                        role=role,
                        content=f"{role} message {number} of {spec.id}",
                        timestamp=start + 0.5 * (number + 1),
                    )
    finally:
        db.close()


@contextmanager
def serve(home: Path, *args: str, port: int | None = None) -> Iterator[Server]:
    """A real server on ``home`` with the demo backend and the browser's fast polls."""
    with run_server(home, *FAST_POLL, *args, port=port) as server:
        yield server


def open_sidebar(page: Page, server: Server, *, rows: bool = True) -> None:
    """Load the app and wait for its first list (at least one row unless ``rows`` is False)."""
    page.goto(server.url)
    page.wait_for_function("() => window.__webui && window.__webui.state.loaded")
    if rows:
        page.locator(".session-row").first.wait_for()


def row(page: Page, session_id: str) -> Locator:
    return page.locator(f'.session-row[data-session-id="{session_id}"]')


def shown_items(page: Page) -> list[str]:
    """The list as the DOM holds it, in order: ``# Group`` for headers, session ids for rows."""
    items: list[str] = page.eval_on_selector_all(
        ".list-canvas > .group-header, .list-canvas > .session-row",
        """nodes => nodes.map(n => n.classList.contains('group-header')
            ? '# ' + n.textContent : n.dataset.sessionId)""",
    )
    return items


def shown_ids(page: Page) -> list[str]:
    return [item for item in shown_items(page) if not item.startswith("# ")]


def expect_ids(page: Page, ids: Sequence[str], timeout: float = 5_000) -> None:
    """Wait until the rows in the DOM are exactly ``ids`` (in any order)."""
    wanted = sorted(ids)
    with contextlib.suppress(PlaywrightTimeout):  # the assertion below says what is shown
        page.wait_for_function(
            """wanted => JSON.stringify([...document.querySelectorAll('.session-row')]
                .map(n => n.dataset.sessionId).sort()) === JSON.stringify(wanted)""",
            arg=wanted,
            timeout=timeout,
        )
    assert sorted(shown_ids(page)) == wanted


def shown_titles(page: Page) -> list[str]:
    titles: list[str] = page.locator(".session-row .row-title").all_text_contents()
    return titles


def metrics(page: Page) -> dict[str, int]:
    values: dict[str, int] = page.evaluate("() => ({...window.__webui.metrics})")
    return values


def api_list(server: Server, **params: Any) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/api/sessions", params={"limit": 5000, **params})
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def api_ids(server: Server, **params: Any) -> list[str]:
    return [entry["session_id"] for entry in api_list(server, **params)["sessions"]]


def wait_until(predicate: Any, timeout: float = 10.0, message: str = "condition") -> None:
    """Poll a server-side ``predicate`` (the browser side uses ``expect``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)


def set_visibility(page: Page, hidden: bool) -> None:
    """Emulate the Page Visibility API: the tab goes to the background (or comes back)."""
    page.evaluate(
        """hidden => {
            Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
            Object.defineProperty(document, 'visibilityState',
                {configurable: true, get: () => hidden ? 'hidden' : 'visible'});
            document.dispatchEvent(new Event('visibilitychange'));
        }""",
        hidden,
    )


# Records every session row the page ever paints (ids and titles), from before the app starts.
RECORD_ROWS = """
window.__seen = {ids: new Set(), titles: new Set(), maxRows: 0};
new MutationObserver(() => {
    const rows = document.querySelectorAll('.session-row');
    window.__seen.maxRows = Math.max(window.__seen.maxRows, rows.length);
    for (const node of rows) {
        if (node.dataset.sessionId) window.__seen.ids.add(node.dataset.sessionId);
        const title = node.querySelector('.row-title');
        if (title && title.textContent) window.__seen.titles.add(title.textContent);
    }
}).observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""


def seen(page: Page) -> dict[str, Any]:
    """What ``RECORD_ROWS`` saw so far."""
    data: dict[str, Any] = page.evaluate(
        """() => ({ids: [...window.__seen.ids], titles: [...window.__seen.titles],
                   maxRows: window.__seen.maxRows})"""
    )
    return data
