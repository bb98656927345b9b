"""10,000 rows: a virtualized list that fetches further pages as it scrolls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from servers import Server

from .helpers import RECORD_ROWS, Spec, metrics, open_sidebar, row, seen, serve, write_sessions

pytestmark = pytest.mark.browser

COUNT = 10_000
MAX_NODES = 200


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("scroll") / "home"
    # Started a second apart: session 0 is the oldest, so it is the list's last row.
    write_sessions(home, [Spec(id=f"s{n:05d}", title=f"Chat number {n}") for n in range(COUNT)])
    with serve(home) as running:
        yield running


def rows_loaded(page: Page) -> int:
    count: int = page.evaluate("() => window.__webui.state.rows.length")
    return count


def test_ten_thousand_rows_scroll_to_the_end(page: Page, server: Server) -> None:
    page.add_init_script(RECORD_ROWS)
    open_sidebar(page, server)
    expect(page.locator(".source-tab[data-source=all] .tab-count")).to_have_text("10K")
    assert rows_loaded(page) == 500  # the first page only
    first_fetches = metrics(page)["fetches"]

    # Wheel scrolling (as a person does) reaches the end of the first page: the next one loads.
    viewport = page.locator("#session-list")
    viewport.hover()
    for _ in range(12):
        page.mouse.wheel(0, 2500)
    page.wait_for_function("() => window.__webui.state.rows.length >= 1000")
    assert metrics(page)["fetches"] > first_fetches

    # Then to the very end, page by page; the DOM stays small all along.
    last = row(page, "s00000")
    for _ in range(COUNT // 500 + 5):
        loaded = rows_loaded(page)
        viewport.evaluate("el => { el.scrollTop = el.scrollHeight; }")
        if loaded == COUNT:
            break
        page.wait_for_function(f"() => window.__webui.state.rows.length > {loaded}")
        assert page.locator(".session-row").count() < MAX_NODES
    assert rows_loaded(page) == COUNT
    assert page.evaluate("() => window.__webui.state.nextOffset") is None
    expect(last).to_be_in_viewport()
    expect(last.locator(".row-title")).to_have_text("Chat number 0")
    expect(last).to_have_attribute("aria-setsize", str(COUNT))
    expect(last).to_have_attribute("aria-posinset", str(COUNT))

    # Every row came from a fetched page: 20 pages of 500, never one giant request.
    assert metrics(page)["fetches"] >= COUNT // 500
    record = seen(page)
    assert record["maxRows"] < MAX_NODES, record["maxRows"]
    assert len(record["ids"]) > 500  # the nodes were reused for rows far down the list

    # And back to the top: the first rows again, still a small DOM.
    viewport.evaluate("el => { el.scrollTop = 0; }")
    expect(row(page, f"s{COUNT - 1:05d}")).to_be_in_viewport()
    assert page.locator(".session-row").count() < MAX_NODES
