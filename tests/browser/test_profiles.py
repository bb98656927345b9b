"""Profiles: the picker with counts, and never a row of another profile on screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from factory import AgentDB, agent_db_path
from playwright.sync_api import Error, Page, Route, expect
from servers import Server

from webui.agentdb.schema import LATEST_VERSION

from .helpers import (
    RECORD_ROWS,
    SLOW_POLL,
    Spec,
    api_ids,
    metrics,
    open_sidebar,
    row,
    seen,
    serve,
    shown_ids,
    write_sessions,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("profiles") / "home"
    write_sessions(home, [Spec(id=f"d-{n}", title=f"Default chat {n}") for n in range(8)])
    write_sessions(home, [Spec(id=f"w-{n}", title=f"Work chat {n}") for n in range(5)], "work")
    return home


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    with serve(home) as running:
        yield running


def is_list_request(url: str) -> bool:
    return urlparse(url).path == "/api/sessions"


def list_profile(url: str) -> str | None:
    return parse_qs(urlparse(url).query).get("profile", [None])[0]


def release(held: list[Route]) -> int:
    """Let held requests through to the server now; returns how many the page still wanted."""
    answered = 0
    for route in held:
        try:
            route.fulfill(response=route.fetch())
            answered += 1
        except Error:
            pass  # the page gave up on it (aborted): nothing to deliver
    held.clear()
    return answered


def assert_only_work_rows(page: Page) -> None:
    ids = shown_ids(page)
    assert ids and all(sid.startswith("w-") for sid in ids), ids
    record = seen(page)
    assert not [sid for sid in record["ids"] if not sid.startswith("w-")], record["ids"]
    assert not [t for t in record["titles"] if t.startswith("Default")], record["titles"]


def test_picker_shows_each_profile_with_its_count(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    with server.client() as client:
        profiles = client.get("/api/profiles").json()["profiles"]
    counts = {p["name"]: p["session_count"] for p in profiles}
    assert counts["work"] == 5
    labels = [f"{name} · {count}" for name, count in counts.items()]
    labels.append(f"All profiles · {sum(counts.values())}")
    expect(page.locator("#profile-select option")).to_have_text(labels)
    expect(page.locator("#profile-select")).to_have_value("default")


def test_late_answer_for_the_old_profile_never_shows(
    page: Page, server: Server, home: Path
) -> None:
    page.add_init_script(RECORD_ROWS)
    open_sidebar(page, server)
    expect(row(page, "d-0")).to_be_visible()

    # Hold back the next answers for "default" (a slow server), then switch to "work".
    held: list[Route] = []

    def hold(route: Route) -> None:
        if list_profile(route.request.url) == "work":
            route.continue_()
        else:
            held.append(route)

    page.route(is_list_request, hold)
    with page.expect_request(lambda r: is_list_request(r.url) and list_profile(r.url) == "default"):
        pass  # the next poll for "default" is now in flight, and held
    # Meanwhile "default" changed: the held answer, once released, is a full new list.
    add_default_session(home)

    page.select_option("#profile-select", "work")
    expect(row(page, "w-0")).to_be_visible()
    expect(page.locator(".session-row")).to_have_count(5)
    page.evaluate("() => { window.__seen.ids.clear(); window.__seen.titles.clear(); }")

    release(held)
    # Several more polls (each revalidating "work") go by: still only work rows.
    fetches = metrics(page)["fetches"]
    page.wait_for_function(f"() => window.__webui.metrics.fetches >= {fetches + 3}")
    release(held)
    assert_only_work_rows(page)
    assert "d-new" not in seen(page)["ids"]
    expect(page.locator("#profile-select")).to_have_value("work")


def test_first_answer_dropped_when_switched_before_it_came(page: Page, server: Server) -> None:
    """The very first list request (profile chosen by the server) is still out: switch."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        if list_profile(route.request.url) == "work":
            route.continue_()
        else:
            held.append(route)

    page.add_init_script(RECORD_ROWS)
    page.route(is_list_request, hold)
    page.goto(server.url)
    expect(page.locator("#profile-select option[value=work]")).to_be_attached()
    assert held, "the first list request should be held"
    page.select_option("#profile-select", "work")
    expect(page.locator(".session-row")).to_have_count(5)
    release(held)
    fetches = metrics(page)["fetches"]
    page.wait_for_function(f"() => window.__webui.metrics.fetches >= {fetches + 3}")
    assert_only_work_rows(page)

    # The choice is remembered (a cookie): a reload shows "work" right away.
    page.unroute(is_list_request)
    page.reload()
    expect(page.locator(".session-row")).to_have_count(5)
    expect(page.locator("#profile-select")).to_have_value("work")
    assert all(sid.startswith("w-") for sid in shown_ids(page))


def add_default_session(home: Path) -> None:
    """The agent starts one more chat in "default" (its database exists already)."""
    agent = AgentDB(agent_db_path(home), version=LATEST_VERSION, journal_mode="wal", id_salt="d")
    try:
        agent.session("webui", id="d-new", title="Default chat new", messages=2)
    finally:
        agent.close()


def test_all_profiles_lists_every_profile_with_its_name(page: Page, server: Server) -> None:
    open_sidebar(page, server)
    everything = api_ids(server, all_profiles="true")
    assert {sid[0] for sid in everything} == {"d", "w"}

    page.select_option("#profile-select", "*")
    expect(page.locator(".session-row")).to_have_count(len(everything))
    assert sorted(shown_ids(page)) == sorted(everything)
    # Each row says which profile it belongs to.
    expect(row(page, "w-0").locator(".row-count")).to_contain_text("work")
    expect(row(page, "d-0").locator(".row-count")).to_contain_text("default")

    # The view is remembered by this browser: a reload lists every profile again.
    page.reload()
    expect(page.locator("#profile-select")).to_have_value("*")
    expect(page.locator(".session-row")).to_have_count(len(everything))

    page.select_option("#profile-select", "default")
    expect(page.locator(".session-row")).to_have_count(len(api_ids(server, profile="default")))
    assert all(sid.startswith("d-") for sid in shown_ids(page))


def test_picker_count_follows_a_session_that_appears_live(page: Page, tmp_path: Path) -> None:
    """A commit by the agent makes the list 8 rows: the tab and the picker say 8 at once too."""
    home = tmp_path / "home"
    write_sessions(home, [Spec(id=f"c-{n}", title=f"Chat {n}") for n in range(7)])
    write_sessions(home, [Spec(id="o-0", title="Other chat")], "other")
    with serve(home, *SLOW_POLL) as server:  # only the change event refreshes the list
        open_sidebar(page, server)
        option = page.locator("#profile-select option[value=default]")
        expect(option).to_have_text("default · 7")
        all_tab = page.locator(".source-tab[data-source=all] .tab-count")
        expect(all_tab).to_have_text("7")
        # The picker's counts were just refreshed: the next refresh of them is seconds away.
        with page.expect_request(lambda r: urlparse(r.url).path == "/api/profiles"):
            pass

        agent = AgentDB(
            agent_db_path(home), version=LATEST_VERSION, journal_mode="wal", id_salt="c"
        )
        try:
            agent.session("webui", id="c-new", title="Appeared live", messages=2)
        finally:
            agent.close()

        expect(row(page, "c-new")).to_be_visible()
        expect(all_tab).to_have_text("8")
        expect(option).to_have_text("default · 8", timeout=1_000)
        expect(page.locator("#profile-select option[value='*']")).to_have_text(
            "All profiles · 9", timeout=1_000
        )
        # Another profile's count follows on the picker's own refresh.
        agent = AgentDB(
            agent_db_path(home, "other"), version=LATEST_VERSION, journal_mode="wal", id_salt="o"
        )
        try:
            agent.session("webui", id="o-new", title="Other, live", messages=2)
        finally:
            agent.close()
        expect(page.locator("#profile-select option[value=other]")).to_have_text(
            "other · 2", timeout=8_000
        )
        expect(page.locator("#profile-select option[value='*']")).to_have_text("All profiles · 10")
