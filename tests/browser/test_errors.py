"""The server goes away: a clear error banner; it comes back: Retry brings the list back."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from factory import AgentDB, agent_db_path
from playwright.sync_api import Page, expect
from servers import free_port

from webui.agentdb.schema import LATEST_VERSION

from .helpers import Spec, open_sidebar, row, serve, write_sessions

pytestmark = pytest.mark.browser


def test_error_banner_and_retry(page: Page, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_sessions(home, [Spec(id=f"e-{n}", title=f"Chat {n}") for n in range(5)])
    port = free_port()
    banner = page.locator("#error-banner")
    with serve(home, port=port) as server:
        open_sidebar(page, server)
        expect(banner).to_be_hidden()
        server.stop()
        # Only the list's own requests may bring it back here: no change-event reconnect.
        page.route("**/api/sessions/events", lambda route: route.abort())

        # The next poll fails: the banner says so, and counts down to the automatic retry.
        expect(banner).to_be_visible(timeout=5_000)
        expect(banner.locator(".error-banner-text")).to_have_text("Can't reach the server.")
        expect(banner.locator(".retry-button")).to_be_visible()
        # The rows stay on screen meanwhile: the last list known.
        expect(row(page, "e-0")).to_be_visible()
        # Wait for the back-off to reach 8 s, so that the automatic retry is seconds away.
        expect(banner.locator(".error-banner-detail")).to_have_text(
            re.compile(r"Retrying in ([6-9]|\d\d) s"), timeout=20_000
        )

    # While it was down the agent went on: the list that comes back has the new chat.
    agent = AgentDB(agent_db_path(home), version=LATEST_VERSION, journal_mode="wal", id_salt="e")
    agent.session("webui", id="e-new", title="Written during the outage", messages=2)
    agent.close()

    with serve(home, port=port):
        detail = banner.locator(".error-banner-detail").inner_text()
        seconds = int(re.findall(r"\d+", detail)[0])
        assert seconds >= 3, detail
        clicked = time.monotonic()
        banner.locator(".retry-button").click()
        expect(banner).to_be_hidden(timeout=(seconds - 1.5) * 1000)
        assert time.monotonic() - clicked < seconds - 1  # Retry did it, not the timer
        expect(row(page, "e-new")).to_be_visible()
        expect(page.locator(".session-row")).to_have_count(6)
