"""The row menu: rename (inline), pin, archive, delete and undo; at once, and the server agrees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from servers import Server

from .helpers import (
    SLOW_POLL,
    Spec,
    api_list,
    open_sidebar,
    row,
    serve,
    shown_items,
    wait_until,
    write_sessions,
)

pytestmark = pytest.mark.browser

AT_ONCE = 2_000  # the browser polls once a minute here: a change this fast is the action's
IDS = ["m-rename", "m-pin", "m-archive", "m-delete", "m-other-1", "m-other-2"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("menu") / "home"
    write_sessions(home, [Spec(id=sid, title=f"Chat {sid}") for sid in IDS])
    with serve(home, *SLOW_POLL) as running:
        yield running


def server_row(server: Server, session_id: str, **params: Any) -> dict[str, Any] | None:
    """The session's row in the server's list (None when the list leaves it out)."""
    rows = api_list(server, include_archived=True, **params)["sessions"]
    return next((r for r in rows if r["session_id"] == session_id), None)


def menu(page: Page, target: Locator, action: str) -> None:
    """Open the row's menu with the ⋯ button and pick ``action``."""
    target.hover()
    target.locator(".row-menu-button").click()
    expect(page.locator("#row-menu [role=menuitem]").first).to_be_focused()
    page.locator(f"#row-menu [data-action={action}]").click()
    expect(page.locator("#row-menu")).to_be_hidden()


def test_rename_inline(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    target = row(page, "m-rename")
    # Escape leaves the title as it was.
    menu(page, target, "rename")
    field = target.locator(".rename-input")
    expect(field).to_be_focused()
    expect(field).to_have_value("Chat m-rename")
    field.fill("Not this")
    field.press("Escape")
    expect(field).to_have_count(0)
    expect(target.locator(".row-title")).to_have_text("Chat m-rename")

    menu(page, target, "rename")
    field.fill("  Quarterly   plan ")
    field.press("Enter")
    expect(field).to_have_count(0)
    expect(target.locator(".row-title")).to_have_text("Quarterly plan", timeout=AT_ONCE)
    wait_until(
        lambda: (server_row(server, "m-rename") or {}).get("title") == "Quarterly plan",
        message="the server to have the new title",
    )
    # It stays after the server's answer and a reload.
    page.reload()
    expect(row(page, "m-rename").locator(".row-title")).to_have_text("Quarterly plan")


def test_pin_and_unpin(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    target = row(page, "m-pin")
    menu(page, target, "pin")
    expect(target).to_have_class(re.compile(r"\bpinned\b"), timeout=AT_ONCE)
    assert shown_items(page)[:2] == ["# Pinned", "m-pin"]
    wait_until(lambda: (server_row(server, "m-pin") or {}).get("pinned") is True, message="pin")
    assert api_list(server)["sessions"][0]["session_id"] == "m-pin"

    menu(page, target, "pin")  # now "Unpin"
    expect(target).not_to_have_class("pinned", timeout=AT_ONCE)
    expect(page.locator(".group-header", has_text="Pinned")).to_have_count(0)
    wait_until(lambda: (server_row(server, "m-pin") or {}).get("pinned") is False, message="unpin")


def test_archive_and_undo(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    target = row(page, "m-archive")
    menu(page, target, "archive")
    expect(target).to_have_count(0, timeout=AT_ONCE)
    toast = page.locator(".toast", has_text="Chat archived")
    expect(toast).to_be_visible()
    wait_until(
        lambda: (server_row(server, "m-archive") or {}).get("archived") is True, message="archive"
    )
    assert "m-archive" not in [r["session_id"] for r in api_list(server)["sessions"]]

    toast.locator(".toast-action").click()
    expect(row(page, "m-archive")).to_be_visible(timeout=AT_ONCE)
    wait_until(
        lambda: (server_row(server, "m-archive") or {}).get("archived") is False,
        message="unarchive",
    )


def test_delete_and_restore(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    before = [item for item in shown_items(page) if not item.startswith("# ")]
    target = row(page, "m-delete")
    menu(page, target, "delete")
    expect(target).to_have_count(0, timeout=AT_ONCE)
    wait_until(lambda: server_row(server, "m-delete") is None, message="the tombstone")
    with server.client() as client:
        assert client.get("/api/sessions/m-delete").status_code == 404

    page.locator(".toast", has_text="Chat deleted").locator(".toast-action").click()
    expect(row(page, "m-delete")).to_be_visible(timeout=AT_ONCE)
    wait_until(lambda: server_row(server, "m-delete") is not None, message="the restore")
    # Back in its old place, and the server lists it there too.
    expect(page.locator(".session-row")).to_have_count(len(before))
    assert [item for item in shown_items(page) if not item.startswith("# ")] == before
