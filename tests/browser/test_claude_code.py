"""Claude Code sessions in the sidebar: their badge, project and branch, the toggle with its
count, row actions in their own scope, and the chat pane read-only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from claudecode.jsonl import Session, conversation
from playwright.sync_api import Page, Route, expect
from servers import Server

from .helpers import SLOW_POLL, Spec, api_list, expect_ids, open_sidebar, row, serve, write_sessions

pytestmark = pytest.mark.browser

AT_ONCE = 3_000
WEBUI = ["h-0", "h-1"]
PLAIN = "11111111-1111-4111-8111-111111111111"
BRANCHED = "22222222-2222-4222-8222-222222222222"
CLAUDE = [PLAIN, BRANCHED]
READ_ONLY = "Claude Code sessions are read-only here"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("claude")
    home, claude = base / "home", base / "claude"
    write_sessions(home, [Spec(id=sid, title=f"Hermes {sid}", messages=2) for sid in WEBUI])
    write_sessions(home, [Spec(id="w-0", title="Work chat", messages=2)], "work")
    conversation(claude, Session(session_id=PLAIN), turns=2)
    conversation(
        claude,
        Session(session_id=BRANCHED, cwd="/home/ada/code/api", branch="fix/pool", at=1_763_900_000),
        turns=1,
    )
    with serve(home, *SLOW_POLL, "--claude-home", str(claude)) as running:
        yield running


@pytest.fixture(autouse=True)
def claude_code_shown(server: Server) -> None:
    with server.client() as client:
        assert client.patch("/api/settings", json={"show_claude_code": True}).is_success


def test_rows_show_the_badge_project_and_branch(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    expect_ids(page, WEBUI + CLAUDE)
    branched = row(page, BRANCHED)
    expect(branched.locator(".source-badge")).to_have_text("Claude Code")
    expect(branched.locator(".source-badge")).to_have_attribute("data-kind", "claude-code")
    expect(branched.locator(".row-where")).to_have_text("api ⎇ fix/pool")
    expect(row(page, PLAIN).locator(".row-where")).to_have_text("webui ⎇ main")
    # The agent's own rows say nothing of the kind.
    expect(row(page, "h-0").locator(".row-where")).to_have_text("")
    # Each profile's list holds them, and the "All" tab counts them. They are no profile's
    # own sessions (the picker counts those), and in All profiles they are there once.
    expect(page.locator(".source-tab[data-source=all] .tab-count")).to_have_text("4")
    everything = api_list(server, all_profiles="true")["total"]
    assert everything == 5
    expect(page.locator("#profile-select option")).to_have_text(
        ["default · 2", "work · 1", f"All profiles · {everything}"]
    )
    page.select_option("#profile-select", "work")
    expect_ids(page, ["w-0", *CLAUDE])
    page.select_option("#profile-select", "*")
    expect_ids(page, [*WEBUI, "w-0", *CLAUDE])
    expect(page.locator("#profile-select option[value='*']")).to_have_text("All profiles · 5")
    page.select_option("#profile-select", "default")


def test_the_toggle_hides_them_with_its_count(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    expect_ids(page, WEBUI + CLAUDE)
    page.locator("#settings-button").click()
    toggle = page.locator("#settings-popover [data-setting=show_claude_code]")
    expect(toggle).to_be_visible()
    expect(toggle).to_be_checked()
    expect(page.locator("#settings-popover .toggle", has_text="Claude Code")).to_have_text(
        "Claude Code sessions (2)"
    )
    toggle.click()
    expect_ids(page, WEBUI, timeout=AT_ONCE)
    expect(page.locator(".source-tab[data-source=all] .tab-count")).to_have_text("2")
    with server.client() as client:
        assert client.get("/api/settings").json()["show_claude_code"] is False
    assert sorted(e["session_id"] for e in api_list(server)["sessions"]) == WEBUI
    toggle.click()
    expect_ids(page, WEBUI + CLAUDE, timeout=AT_ONCE)


def test_row_actions_address_the_claude_code_scope(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    patches: list[str] = []
    page.on("request", lambda r: patches.append(r.url) if r.method == "PATCH" else None)
    target = row(page, PLAIN)
    target.click(button="right")
    page.locator("#row-menu [data-action=pin]").click()
    expect(target).to_have_class(re.compile(r"\bpinned\b"))
    assert patches and all("profile=claude-code" in url for url in patches), patches
    with server.client() as client:
        served = client.get(f"/api/sessions/{PLAIN}", params={"profile": "claude-code"}).json()
        assert served["pinned"] is True
        assert client.patch(
            f"/api/sessions/{PLAIN}", params={"profile": "claude-code"}, json={"pinned": False}
        ).is_success


def test_the_chat_pane_is_read_only(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    row(page, PLAIN).click()
    expect(page.locator(".chat-title")).to_have_text("question 0 about the cache")
    expect(page.locator(".chat-messages .message")).to_have_count(4)
    expect(page.locator(".chat-messages .message-body").first).to_have_text(
        "question 0 about the cache"
    )
    expect(page.locator("#composer-input")).to_be_disabled()
    expect(page.locator(".send-button")).to_be_disabled()
    expect(page.locator(".composer-hint")).to_have_text(READ_ONLY)
    expect(page.locator(".chat-subtitle .source-badge")).to_have_text("Claude Code")
    # Another chat takes messages again.
    row(page, "h-0").click()
    expect(page.locator("#composer-input")).to_be_enabled()
    expect(page.locator(".composer-hint")).to_have_text(
        "Enter to send · Shift+Enter for a new line"
    )


def test_a_send_the_server_refuses_shows_why(page: Page, server: Server) -> None:
    """A row that does not say it is Claude Code (an older list): the server's 409 says it."""

    def disguise(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for entry in body.get("sessions", []):
            if entry["session_id"] == PLAIN:
                entry["source_kind"] = "cli"
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r"/api/sessions\?"), disguise)
    open_sidebar(page, server)
    row(page, PLAIN).click()
    expect(page.locator(".chat-messages .message")).to_have_count(4)
    composer = page.locator("#composer-input")
    expect(composer).to_be_enabled()
    composer.fill("can you hear me?")
    page.keyboard.press("Enter")
    toast = page.locator(".toast-error")
    expect(toast).to_be_visible()
    with server.client() as client:
        refused = client.post(
            f"/api/sessions/{PLAIN}/messages",
            params={"profile": "claude-code"},
            json={"content": "hello"},
        )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "read_only_source"
    expect(toast).to_contain_text(error["message"])
    # The composer now says why, and keeps the text that was not sent.
    expect(composer).to_be_disabled()
    expect(page.locator(".composer-hint")).to_have_text(error["message"])
    expect(composer).to_have_value("can you hear me?")
    expect(page.locator(".chat-messages .message")).to_have_count(4)
