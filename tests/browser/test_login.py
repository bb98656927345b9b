"""A server with a token: the sign-in form, a wrong token refused, the right one lets in."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .helpers import Spec, row, serve, write_sessions

pytestmark = pytest.mark.browser

TOKEN = "browser-test-token-3f9c2a"


def test_token_login(page: Page, tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_sessions(home, [Spec(id=f"t-{n}", title=f"Chat {n}") for n in range(3)])
    with serve(home, "--token", TOKEN) as server:
        with server.client() as client:
            assert client.get("/api/sessions").status_code == 401

        page.goto(server.url)
        login = page.locator("#login")
        expect(login).to_be_visible()
        expect(page.locator("#login-token")).to_be_focused()
        expect(page.locator("#error-banner")).to_be_hidden()  # not an outage: a sign-in
        expect(page.locator(".session-row")).to_have_count(0)

        page.locator("#login-token").fill("not-the-token")
        page.locator("#login button[type=submit]").click()
        error = page.locator(".login-error")
        expect(error).to_be_visible()
        expect(error).to_have_text("That token is not right.")
        expect(login).to_be_visible()

        page.locator("#login-token").fill(TOKEN)
        page.locator("#login-token").press("Enter")
        expect(login).to_be_hidden()
        expect(page.locator(".session-row")).to_have_count(3)
        expect(row(page, "t-0").locator(".row-title")).to_have_text("Chat 0")
        # The cookie keeps the browser signed in across a reload.
        page.reload()
        expect(page.locator(".session-row")).to_have_count(3)
        expect(login).to_be_hidden()
