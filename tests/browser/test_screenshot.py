"""The sidebar on a demo home, mid-reply. With WEBUI_SCREENSHOT=1 it writes docs/sidebar.png.

``make screenshot`` runs this with the variable set; without it the page is still rendered and
checked, so the picture's setup cannot rot unnoticed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from webui.demo import build_demo_home

from .helpers import api_ids, open_sidebar, row, serve

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "sidebar.png"
SIZE: ViewportSize = {"width": 1280, "height": 800}


def test_sidebar_screenshot(page: Page, tmp_path: Path) -> None:
    home = tmp_path / "home"
    build_demo_home(home, profiles=3, sessions=400, progress=False)
    page.set_viewport_size(SIZE)
    claude = ("--claude-home", str(home / "claude"))  # the demo's Claude Code folder
    with serve(home, "--demo-tokens-per-second", "6", *claude) as server:
        open_sidebar(page, server)
        expect(page.locator("#profile-select")).to_be_enabled()
        expect(page.locator(".source-tab[data-source=all] .tab-count")).not_to_have_text("")
        rows = page.locator(".session-row")
        expect(rows.first).to_be_in_viewport()
        assert rows.count() >= 10
        expect(page.locator(".group-header").first).to_be_visible()

        # Open a Web UI chat and ask something: the row goes live while the reply streams.
        # Wait for the tab's own list: a row picked before it replaced "All" would be stale.
        page.locator(".source-tab[data-source=webui]").click()
        webui_ids = api_ids(server, sidebar_source="webui")
        first = page.locator(".session-row").first
        expect(first).to_have_attribute("data-session-id", webui_ids[0])
        session_id = webui_ids[1]
        row(page, session_id).click()
        expect(page.locator(".chat-messages .message").first).to_be_visible()
        page.locator("#composer-input").fill("How should I structure the release notes?")
        page.locator(".send-button").click()
        live = page.locator(f'.session-row[data-session-id="{session_id}"] .live-indicator')
        expect(live).to_be_visible()
        page.wait_for_function(
            "() => document.querySelector('.message-assistant.streaming .message-body')"
            "?.textContent.length > 60"
        )
        page.locator(".source-tab[data-source=all]").click()
        expect(page.locator(".source-tab[data-source=all]")).to_have_attribute(
            "aria-selected", "true"
        )
        # Claude Code sessions sit in the same list, with their own badge.
        expect(page.locator('.source-badge[data-kind="claude-code"]').first).to_be_visible()
        page.mouse.move(900, 20)  # no hover highlight in the picture
        if os.environ.get("WEBUI_SCREENSHOT") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            assert SCREENSHOT.stat().st_size > 10_000
