"""Searching message text: "In messages" below the title matches, snippets marked, opening a hit
at its message, keyboard, empty state, and a late answer for an old query never shown."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from factory import make_agent_db
from playwright.sync_api import Error, Page, Route, expect
from servers import Server

from .helpers import SLOW_POLL, open_sidebar, row, serve

pytestmark = pytest.mark.browser

HIT = ".search-hit"
LONG_TARGET = 1_150  # the matched message of the long chat: the third page of the chat pane


def _messages(*texts: str) -> list[tuple[str, str]]:
    roles = ("user", "assistant")
    return [(roles[i % 2], text) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("search") / "home"
    db = make_agent_db(home)
    try:
        db.session(
            "webui",
            id="pool",
            title="Database timeouts",
            messages=_messages(
                "The API keeps timing out under load since the deploy.",
                "It looks like the Postgres connection pool is exhausted: raise max_size.",
            ),
        )
        db.session(
            "cli",
            id="sync",
            title="Weekly sync notes",
            messages=_messages("Agenda: we fixed the postgres pool on Tuesday.", "Noted."),
        )
        db.session(
            "webui",
            id="notes",
            title="Postgres notes",
            messages=_messages("Nothing about databases in here.", "Fine."),
        )
        texts = [f"filler message {n} about nothing much" for n in range(1_200)]
        texts[LONG_TARGET] = "At last: the postgres replica lag was the cause."
        db.session("webui", id="long", title="A long chat", messages=_messages(*texts))
        db.session(
            "webui",
            id="evil",
            title="Markup",
            messages=_messages("postgres logs show <img src=x onerror=alert(1)> there", "ok"),
        )
    finally:
        db.close()
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    with serve(home, *SLOW_POLL) as running:
        yield running


def is_search(url: str) -> bool:
    return urlparse(url).path == "/api/sessions/search"


def search_q(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("q", [None])[0]


def search(page: Page, text: str) -> None:
    page.locator("#search").fill(text)


def message_ids(server: Server, session_id: str) -> list[tuple[int, str]]:
    """Every message of the session (id, content), paging as the chat pane does."""
    found: list[tuple[int, str]] = []
    after = 0
    with server.client() as client:
        while True:
            data = client.get(
                f"/api/sessions/{session_id}/messages", params={"after": after, "limit": 1000}
            ).json()
            found += [(m["id"], m["content"]) for m in data["messages"]]
            if data["next_after"] is None:
                return found
            after = data["next_after"]


def test_titles_then_messages_with_marked_snippets(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    search(page, "postgres")
    # The title match first, as the list has always done it …
    expect(page.locator(".session-row")).to_have_count(1)
    expect(row(page, "notes").locator(".row-title mark")).to_have_text("Postgres")
    # … then the messages that match, each with its chat's title, who said it and a snippet.
    header = page.locator(".search-header")
    expect(header).to_contain_text("In messages")
    hits = page.locator(HIT)
    expect(hits).to_have_count(4)
    ids = hits.evaluate_all("nodes => nodes.map(n => n.dataset.sessionId)")
    assert sorted(ids) == ["evil", "long", "pool", "sync"]
    pool = page.locator(f'{HIT}[data-session-id="pool"]')
    expect(pool.locator(".hit-title")).to_have_text("Database timeouts")
    expect(pool.locator(".hit-role")).to_have_text("Assistant: ")
    expect(pool.locator(".hit-snippet mark")).to_have_text("Postgres")
    expect(pool.locator(".hit-snippet")).to_contain_text("connection pool")
    expect(pool.locator(".hit-time")).not_to_have_text("")
    # Markup in a message is text: the snippet shows it, nothing is parsed.
    evil = page.locator(f'{HIT}[data-session-id="evil"] .hit-snippet')
    expect(evil).to_contain_text("<img src=x onerror=alert(1)>")
    assert page.locator(".list-canvas img").count() == 0
    # Nothing that is only a title match repeats below.
    expect(page.locator(f'{HIT}[data-session-id="notes"]')).to_have_count(0)
    # The search box cleared: the whole list again, no message section.
    page.locator("#search").press("Escape")
    expect(page.locator(".search-header")).to_have_count(0)
    expect(page.locator(".session-row")).to_have_count(5)


def test_opening_a_hit_scrolls_to_its_message_highlighted(page: Page, server: Server) -> None:
    target_id = next(mid for mid, text in message_ids(server, "long") if "replica lag" in text)
    open_sidebar(page, server)
    search(page, "replica")
    long_hit = page.locator(f'{HIT}[data-session-id="long"]')
    expect(long_hit).to_have_attribute("data-message-id", str(target_id))
    long_hit.click()

    expect(page.locator(".chat-title")).to_have_text("A long chat")
    target = page.locator(".message-target")
    expect(target).to_have_attribute("data-message-id", str(target_id))
    expect(target.locator(".message-body mark")).to_have_text("replica")
    expect(target).to_be_in_viewport()
    # The pane loaded the pages up to (and past) the message: the first one and the last.
    expect(page.locator(".chat-messages .message")).to_have_count(1_200)
    expect(page.locator(".chat-messages .message").last).not_to_be_in_viewport()


def test_keyboard_from_the_title_matches_into_the_hits(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    page.keyboard.press("Control+k")
    page.keyboard.type("postgres")
    expect(page.locator(HIT)).to_have_count(4)
    page.keyboard.press("ArrowDown")  # the title match
    focused = "() => document.activeElement?.closest('.session-row, .search-hit')?.dataset"
    assert page.evaluate(f"{focused}.sessionId") == "notes"
    page.keyboard.press("ArrowDown")  # past the "In messages" header, to the first hit
    first = page.locator(HIT).first
    expect(first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.locator(HIT).nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    assert page.evaluate(f"{focused}.sessionId") == "notes"
    page.keyboard.press("End")
    expect(page.locator(HIT).last).to_be_focused()
    session_id = page.locator(HIT).last.get_attribute("data-session-id")
    message_id = page.locator(HIT).last.get_attribute("data-message-id")
    page.keyboard.press("Enter")
    expect(page.locator(".message-target")).to_have_attribute("data-message-id", str(message_id))
    expect(page.locator(".chat-title")).to_have_text(
        page.locator(f'.search-hit[data-session-id="{session_id}"] .hit-title').inner_text()
    )
    expect(page.locator(HIT).last).to_have_class(re.compile(r"\bselected\b"))


def test_no_match_anywhere_says_so(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    search(page, "zebra crossing")
    expect(page.locator(".search-note").last).to_have_text("No messages match")
    expect(page.locator(".search-note").first).to_have_text("No chat titles match “zebra crossing”")
    expect(page.locator(".session-row")).to_have_count(0)
    expect(page.locator(HIT)).to_have_count(0)


def test_a_scan_says_it_is_slow(page: Page, server: Server) -> None:
    """A server without a usable index says "scan": the section says the search is slow."""

    def as_scan(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["index"] = "scan"
        route.fulfill(response=response, body=json.dumps(body))

    page.route(lambda url: is_search(url), as_scan)
    open_sidebar(page, server)
    search(page, "postgres")
    expect(page.locator(HIT)).to_have_count(4)
    expect(page.locator(".search-header .search-index")).to_have_text("(slow search: no index)")


def test_a_late_answer_for_an_old_query_is_dropped(page: Page, server: Server) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        if search_q(route.request.url) == "postgres":
            held.append(route)
        else:
            route.fallback()

    page.route(lambda url: is_search(url), hold)
    page.add_init_script(
        """window.__hits = new Set();
        new MutationObserver(() => {
            for (const n of document.querySelectorAll('.search-hit'))
                window.__hits.add(n.dataset.sessionId);
        }).observe(document, {subtree: true, childList: true, attributes: true});"""
    )
    open_sidebar(page, server)
    with page.expect_request(lambda r: is_search(r.url) and search_q(r.url) == "postgres"):
        search(page, "postgres")
    expect(page.locator(".search-note").last).to_have_text("Searching messages…")
    # The person types on before the answer came: only "deploy" may show.
    search(page, "deploy")
    expect(page.locator(HIT)).to_have_count(1)
    expect(page.locator(HIT)).to_have_attribute("data-session-id", "pool")
    for route in held:
        with contextlib.suppress(Error):  # aborted by the page: nothing to deliver
            route.fulfill(response=route.fetch())
    page.wait_for_timeout(500)
    expect(page.locator(HIT)).to_have_count(1)
    assert page.evaluate("() => [...window.__hits]") == ["pool"]


def test_hits_page_in_as_the_list_scrolls(page: Page, tmp_path: Path) -> None:
    home = tmp_path / "home"
    db = make_agent_db(home)
    try:
        for n in range(45):
            db.session(
                "webui",
                id=f"k-{n:02d}",
                title=f"Chat {n}",
                messages=_messages(f"where did I leave the kettle, number {n}?", "In the kitchen."),
            )
    finally:
        db.close()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if is_search(r.url) else None)
    with serve(home, *SLOW_POLL) as server:
        open_sidebar(page, server)
        search(page, "kettle")
        expect(page.locator(".search-note").first).to_have_text("No chat titles match “kettle”")
        expect(page.locator(HIT).first).to_be_visible()
        page.wait_for_timeout(300)
        assert len(asked) <= 2, asked  # a page ahead at most: the rest waits for the scroll
        # Keyboard all the way down: each page of hits comes as the end of the list comes near.
        page.locator(HIT).first.focus()
        for _ in range(50):
            page.keyboard.press("End")
            if page.locator(f"{HIT}[data-session-id=k-00]").count():
                break
            page.wait_for_timeout(100)
        expect(page.locator(f"{HIT}[data-session-id=k-00]")).to_be_focused()
        total = page.evaluate("() => window.__webui.state.search.hits.length")
        assert total == 45
        assert len(asked) == 3, asked  # 20 + 20 + 5, each page once
        expect(page.locator(".search-note", has_text="Loading more")).to_have_count(0)
