"""Settings toggles and source tabs: each changes the list at once, and the counts follow."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from servers import Server

from .helpers import (
    SLOW_POLL,
    Spec,
    api_list,
    expect_ids,
    open_sidebar,
    serve,
    wait_until,
    write_sessions,
)

pytestmark = pytest.mark.browser

# The browser polls once a minute here: whatever changes within a few seconds is the toggle's
# own doing, not a poll that happened to come by.
AT_ONCE = 3_000

WEBUI = ["wu-0", "wu-1", "wu-2"]
CLI = ["cli-0", "cli-1", "tui-0"]
CRON = ["cron-0", "cron-1"]
WEBHOOK = ["hook-0"]
MESSAGING = ["tg-new", "slack-0"]  # the newest of each conversation
HISTORY = ["tg-old"]  # an older session of the Telegram conversation
ARCHIVED = ["wu-archived"]
DEFAULT_SETTINGS = {
    "show_cli": True,
    "show_cron": False,
    "show_webhook": False,
    "show_messaging_history": False,
}


def _specs() -> list[Spec]:
    def chat(key: str) -> tuple[tuple[str, object], ...]:
        return (("session_key", key), ("chat_id", key))

    sources = {
        **dict.fromkeys(WEBUI + ARCHIVED, "webui"),
        "cli-0": "cli",
        "cli-1": "cli",
        "tui-0": "tui",
        **dict.fromkeys(CRON, "cron"),
        "hook-0": "webhook",
    }
    specs = [Spec(id=sid, source=source, title=f"Chat {sid}") for sid, source in sources.items()]
    specs += [
        Spec(id="tg-old", source="telegram", title="Telegram old", columns=chat("tg:1")),
        Spec(id="tg-new", source="telegram", title="Telegram new", columns=chat("tg:1")),
        Spec(id="slack-0", source="slack", title="Slack", columns=chat("slack:1")),
    ]
    return specs


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("settings") / "home"
    write_sessions(home, _specs())
    with serve(home, *SLOW_POLL) as running:
        with running.client() as client:
            assert client.patch("/api/sessions/wu-archived", json={"archived": True}).is_success
        yield running


@pytest.fixture(autouse=True)
def default_settings(server: Server) -> None:
    with server.client() as client:
        assert client.patch("/api/settings", json=DEFAULT_SETTINGS).is_success


def tab_count(page: Page, source: str) -> str:
    return page.locator(f".source-tab[data-source={source}] .tab-count").inner_text()


def expect_rows(page: Page, ids: list[str]) -> None:
    expect_ids(page, ids, timeout=AT_ONCE)


def expect_tabs(page: Page, all_count: int, webui: int = 3, cli: int = 3) -> None:
    tabs = page.locator(".source-tab .tab-count")
    expect(tabs).to_have_text([str(all_count), str(webui), str(cli)], timeout=AT_ONCE)


def saved_settings(server: Server) -> dict[str, object]:
    with server.client() as client:
        data: dict[str, object] = client.get("/api/settings").json()
        return data


BASE = WEBUI + CLI + MESSAGING


@pytest.mark.parametrize(
    ("setting", "value", "ids"),
    [
        ("show_cli", False, WEBUI + MESSAGING),
        ("show_cron", True, BASE + CRON),
        ("show_webhook", True, BASE + WEBHOOK),
        ("show_messaging_history", True, BASE + HISTORY),
    ],
)
def test_each_setting_toggle_changes_the_list_at_once(
    page: Page, server: Server, setting: str, value: bool, ids: list[str]
) -> None:
    open_sidebar(page, server)
    expect_rows(page, BASE)
    expect_tabs(page, len(BASE))

    page.locator("#settings-button").click()
    toggle = page.locator(f"#settings-popover [data-setting={setting}]")
    expect(toggle).to_be_checked(checked=not value)
    toggle.click()
    expect(toggle).to_be_checked(checked=value)
    expect_rows(page, ids)
    expect_tabs(page, len(ids))
    # The choice is saved on the server, and the server's list agrees with the sidebar.
    # The tab applies it at once; the save to the server is its own request, a moment later.
    wait_until(lambda: saved_settings(server)[setting] is value, timeout=5)
    assert sorted(e["session_id"] for e in api_list(server)["sessions"]) == sorted(ids)

    toggle.click()
    expect_rows(page, BASE)
    expect_tabs(page, len(BASE))
    assert saved_settings(server)[setting] is not value


def test_archived_toggle_shows_archived_chats_with_their_count(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    expect_rows(page, BASE)
    page.locator("#settings-button").click()
    expect(page.locator("#settings-popover .archived-count")).to_have_text(" (1)")
    archived = page.locator("#show-archived")
    expect(archived).not_to_be_checked()
    archived.click()
    expect_rows(page, BASE + ARCHIVED)
    expect(page.locator(".session-row.archived")).to_have_count(1)
    expect(page.locator(".session-row.archived .row-count")).to_contain_text("Archived")
    archived.click()
    expect_rows(page, BASE)


def test_source_tabs_filter_with_counts(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    expect_rows(page, BASE)
    expect_tabs(page, len(BASE))
    counts = api_list(server)["counts"]
    assert (counts["webui"], counts["cli"], counts["messaging"]) == (3, 3, 2)

    page.locator(".source-tab[data-source=webui]").click()
    expect(page.locator(".source-tab[data-source=webui]")).to_have_attribute(
        "aria-selected", "true"
    )
    expect_rows(page, WEBUI)
    page.locator(".source-tab[data-source=cli]").click()
    expect_rows(page, CLI)
    expect_tabs(page, len(BASE))  # the counts do not depend on the tab

    # With CLI sessions hidden from "All", the CLI tab still lists them.
    page.locator("#settings-button").click()
    page.locator("#settings-popover [data-setting=show_cli]").click()
    expect_rows(page, CLI)
    page.keyboard.press("Escape")
    page.locator(".source-tab[data-source=all]").click()
    expect_rows(page, WEBUI + MESSAGING)
    expect_tabs(page, len(WEBUI + MESSAGING))
