"""A chat turn from the browser: the reply streams in, the row shows it live, Stop stops it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from servers import Server

from webui.live.backends import demo_reply

from .helpers import SLOW_POLL, Spec, open_sidebar, row, serve, wait_until, write_sessions

pytestmark = pytest.mark.browser

ASSISTANT = ".message-assistant"
LIVE = ".streaming .live-indicator"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("live") / "home"
    specs = [Spec(id=f"chat-{n}", title=f"Chat {n}", messages=2) for n in range(4)]
    write_sessions(home, specs)
    return home


def server_row(server: Server, session_id: str) -> dict[str, object]:
    with server.client() as client:
        data: dict[str, object] = client.get(f"/api/sessions/{session_id}").json()
        return data


def send(page: Page, session_id: str, text: str) -> None:
    row(page, session_id).click()
    expect(page.locator(".chat-title")).to_have_text(f"Chat {session_id[-1]}")
    expect(page.locator(".chat-messages .message")).to_have_count(2)
    page.locator("#composer-input").fill(text)
    page.locator(".send-button").click()
    expect(page.locator(".message-user").last).to_have_text(f"You{text}")


def body_length(page: Page) -> int:
    length: int = page.locator(f"{ASSISTANT}.streaming .message-body").evaluate(
        "node => node.textContent.length"
    )
    return length


def test_a_demo_turn_streams_and_the_row_goes_live(page: Page, home: Path) -> None:
    reply = "".join(demo_reply("hello there", 0))
    with serve(home, "--demo-tokens-per-second", "20") as server:  # some 4 s
        open_sidebar(page, server)
        expect(page.locator(LIVE)).to_have_count(0)
        send(page, "chat-1", "hello there")

        # The row shows the live indicator while the reply streams, token by token.
        expect(row(page, "chat-1").locator(".live-indicator")).to_be_visible()
        expect(row(page, "chat-1").locator(".row-time")).to_have_text("now")
        expect(page.locator(".stop-button")).to_be_visible()
        expect(page.locator(".send-button")).to_be_hidden()
        page.wait_for_function(
            "() => document.querySelector('.message-assistant.streaming .message-body')"
            "?.textContent.length > 0"
        )
        first = body_length(page)
        page.wait_for_function(
            f"() => document.querySelector('.message-assistant.streaming .message-body')"
            f"?.textContent.length > {first}"
        )
        assert first < len(reply)
        assert server_row(server, "chat-1")["is_streaming"] is True

        # The turn ends: the indicator goes, the whole reply stays, the server agrees.
        expect(page.locator(LIVE)).to_have_count(0, timeout=15_000)
        expect(page.locator(f"{ASSISTANT}.streaming")).to_have_count(0)
        expect(page.locator(".message-body").last).to_have_text(reply.strip())
        expect(page.locator(".send-button")).to_be_visible()
        expect(page.locator(".stop-button")).to_be_hidden()
        expect(row(page, "chat-1").locator(".row-count")).to_have_text("4 messages")
        wait_until(lambda: server_row(server, "chat-1")["is_streaming"] is False)
        assert server_row(server, "chat-1")["message_count"] == 4


def test_stop_ends_the_turn(page: Page, home: Path) -> None:
    reply = "".join(demo_reply("a long question", 0))
    with serve(home, "--demo-tokens-per-second", "4") as server:  # 20 s if nobody stops it
        open_sidebar(page, server)
        send(page, "chat-2", "a long question")
        expect(row(page, "chat-2").locator(".live-indicator")).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('.message-assistant.streaming .message-body')"
            "?.textContent.length > 0"
        )
        page.locator(".stop-button").click()

        expect(page.locator(f"{ASSISTANT}.streaming")).to_have_count(0, timeout=5_000)
        expect(page.locator(LIVE)).to_have_count(0, timeout=5_000)
        expect(page.locator(".send-button")).to_be_visible()
        wait_until(lambda: server_row(server, "chat-2")["is_streaming"] is False, timeout=5)
        # What was written stays: a partial reply, far from the whole one.
        partial = page.locator(".message-body").last.inner_text()
        assert 0 < len(partial) < len(reply) // 2, partial
        # The composer works again: another message can go out.
        page.locator("#composer-input").fill("again")
        expect(page.locator(".send-button")).to_be_enabled()


@pytest.mark.xfail(
    reason="known open bug: about one run in three the new chat's row stays out of the list "
    "while its first reply streams (the server lists it in-process every time; the sidebar's "
    "refresh after the stream starts is where to look)",
    strict=False,
)
def test_a_new_chat_shows_in_the_list_while_its_first_reply_streams(page: Page, home: Path) -> None:
    """Only the change events refresh here: the stream's start brings the row in at once, even
    when the first answer after it is the server's held list (stale, rebuilt behind it)."""
    with serve(home, *SLOW_POLL, "--demo-tokens-per-second", "5") as server:
        open_sidebar(page, server)
        rows = page.locator(".session-row")
        before = rows.count()
        page.locator("#new-chat").click()
        page.locator("#composer-input").fill("hello from a new chat")
        page.keyboard.press("Enter")
        expect(rows).to_have_count(before + 1, timeout=3_000)
        expect(page.locator(".session-row.selected .live-indicator")).to_be_visible()
        expect(page.locator("#profile-select option[value=default]")).to_have_text(
            f"default · {before + 1}"
        )
        page.locator(".stop-button").click()
