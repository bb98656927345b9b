"""The list as painted: date groups in order, rows in the server's order, titles as text."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Dialog, Page, expect
from servers import Server

from .helpers import Spec, open_sidebar, row, serve, shown_ids, shown_items, write_sessions

pytestmark = pytest.mark.browser

EVIL = "<img src=x onerror=alert(1)>"
DAY = 86_400.0

# Which group each session belongs to, by the time of its one message (see _specs).
GROUPS = {
    "Pinned": ["pin-yesterday", "pin-old"],
    "Today": ["today-1", "today-2", "today-3"],
    "Yesterday": ["yesterday-1", "yesterday-2"],
    "Previous 7 days": ["week-1", "week-2"],
    "Older": ["older-1", "older-2", "evil"],
}


def _specs() -> list[Spec]:
    """Sessions at known times around local midnight (the browser runs in the same zone).

    "Today" times are fractions of the time since midnight, so they stay today even when the
    test runs a minute after midnight; the others sit mid-day, far from any boundary.
    """
    now = time.time()
    midnight = datetime.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    today = midnight.timestamp()
    since = max(now - today - 1.0, 0.0)

    def days_ago(days: int) -> float:
        return (midnight - datetime.timedelta(days=days)).timestamp() + 12 * 3600

    # One message each, half a second after the start: its time is the row's activity.
    starts = {
        "today-1": today + since * 0.9,
        "today-2": today + since * 0.6,
        "today-3": today + since * 0.3,
        "pin-yesterday": days_ago(1) + 3600,
        "yesterday-1": days_ago(1),
        "yesterday-2": days_ago(1) - 3 * 3600,
        "week-1": days_ago(2),
        "week-2": days_ago(5),
        "pin-old": days_ago(20),
        "older-1": days_ago(30),
        "older-2": days_ago(90),
        "evil": days_ago(400),
    }
    return [
        Spec(id=sid, title=EVIL if sid == "evil" else f"Chat {sid}", started_at=start)
        for sid, start in starts.items()
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("list") / "home"
    write_sessions(home, _specs())
    with serve(home) as running:
        with running.client() as client:
            for sid in GROUPS["Pinned"]:
                response = client.patch(f"/api/sessions/{sid}", json={"pinned": True})
                assert response.status_code == 200, response.text
        yield running


def test_groups_in_order_with_rows_in_server_order(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1280, "height": 1100})  # every item rendered at once
    with server.client() as client:
        api = [r["session_id"] for r in client.get("/api/sessions").json()["sessions"]]
    # The server's order: pinned first, then newest first.
    assert api == [sid for members in GROUPS.values() for sid in members]

    open_sidebar(page, server)
    expected: list[str] = []
    for group, members in GROUPS.items():
        expected.append(f"# {group}")
        expected.extend(sid for sid in api if sid in members)
    expect(page.locator(".session-row")).to_have_count(len(api))
    assert shown_items(page) == expected

    # A row shows its title, source badge, relative time and message count.
    first = row(page, "week-2")
    weekday = next(s for s in _specs() if s.id == "week-2").started_at or 0.0
    expect(first.locator(".row-title")).to_have_text("Chat week-2")
    expect(first.locator(".row-time")).to_have_text(time.strftime("%a", time.localtime(weekday)))
    expect(first.locator(".source-badge")).to_have_attribute("data-kind", "webui")
    expect(first.locator(".row-count")).to_have_text("1 message")
    expect(first.locator(".live-indicator")).to_have_count(0)


def test_search_filters_and_highlights(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    page.locator("#search").fill("WEEK")
    expect(page.locator(".session-row")).to_have_count(2)
    assert shown_ids(page) == ["week-1", "week-2"]
    expect(row(page, "week-1").locator(".row-title mark")).to_have_text("week")
    page.locator("#search").press("Escape")
    expect(page.locator(".session-row")).to_have_count(len(_specs()))


def test_html_in_a_title_is_text(page: Page, server: Server) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_viewport_size({"width": 1280, "height": 1100})
    open_sidebar(page, server)
    evil = row(page, "evil")
    expect(evil.locator(".row-title")).to_have_text(EVIL)
    # Highlighted by a search, then opened in the chat pane: still text everywhere.
    page.locator("#search").fill("onerror")
    expect(page.locator(".session-row")).to_have_count(1)
    expect(evil.locator(".row-title mark")).to_have_text("onerror")
    expect(evil.locator(".row-title")).to_have_text(EVIL)
    evil.click()
    expect(page.locator(".chat-title")).to_have_text(EVIL)
    expect(page.locator(".message-body").first).to_be_visible()
    assert page.locator("img").count() == 0
    assert page.evaluate("() => document.querySelectorAll('[onerror]').length") == 0
    assert dialogs == []


def _focused_id(page: Page) -> str | None:
    focused: str | None = page.evaluate(
        "() => document.activeElement?.closest('.session-row')?.dataset.sessionId ?? null"
    )
    return focused


def test_keyboard_moves_through_rows_and_opens_one(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1280, "height": 1100})
    open_sidebar(page, server)
    order = [sid for members in GROUPS.values() for sid in members]
    expect(page.locator(".session-row")).to_have_count(len(order))

    # Ctrl+K goes to the search box; ArrowDown from there to the first row.
    page.keyboard.press("Control+k")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.press("ArrowDown")
    assert _focused_id(page) == order[0]
    # Arrows skip the group headers; End and Home jump; ArrowUp from the first row leaves it.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert _focused_id(page) == order[2]  # "Pinned" ends after two rows: past "Today"
    page.keyboard.press("End")
    assert _focused_id(page) == order[-1]
    page.keyboard.press("ArrowUp")
    assert _focused_id(page) == order[-2]
    page.keyboard.press("Home")
    assert _focused_id(page) == order[0]

    # Focus is visible: the focused row draws an outline.
    outline = page.evaluate(
        "() => getComputedStyle(document.activeElement.closest('.session-row')).outlineStyle"
    )
    assert outline not in ("", "none")

    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator(".chat-title")).to_have_text(f"Chat {order[1]}")
    expect(row(page, order[1])).to_have_attribute("aria-selected", "true")
