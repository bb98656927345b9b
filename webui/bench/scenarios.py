"""Per size: throughput of webui (1 and 2 workers), the ceiling and the naive design; rebuilds.

All figures of one size come from servers on the same copy of the same home. The two
reference apps run beside webui for the whole size, and the throughput targets are measured
in interleaved rounds (``rounds``), so each ratio compares like with like.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx2

from webui.bench.agent import ExternalWriter
from webui.bench.load import LoadSpec, generate_load
from webui.bench.plan import Plan
from webui.bench.results import (
    CEILING,
    HIT,
    NAIVE,
    REVALIDATE,
    STREAMING,
    WEBUI,
    WEBUI_2W,
    Cold,
    SizeResult,
)
from webui.bench.rounds import LIST, Samples, Target, cache_counters, combined, run_rounds
from webui.bench.servers import Process, client, reference_server, webui_server
from webui.bench.stats import ms

SLOW_TOKENS_PER_SECOND = 2.0  # a demo reply of 60+ tokens then lasts 30 s or more
LIVE_WAIT = 10.0


@dataclass(frozen=True)
class Page:
    body: bytes
    etag: str
    total: int
    first_id: str


def fetch_page(http: httpx2.Client) -> Page:
    return page_of(http.get(LIST))


def page_of(response: httpx2.Response) -> Page:
    response.raise_for_status()
    data = response.json()
    first = str(data["sessions"][0]["session_id"]) if data["sessions"] else ""
    return Page(response.content, response.headers["etag"], int(data["total"]), first)


def _server_timing(header: str | None) -> float | None:
    if not header or "dur=" not in header:
        return None
    return float(header.split("dur=", 1)[1].split(",", 1)[0]) / 1000


def measure_cold(http: httpx2.Client, home: Path, plan: Plan, target: str) -> Cold:
    """An external commit before every request, so every request waits for a rebuild."""
    client_times: list[float] = []
    build_times: list[float] = []
    not_rebuilt = 0
    started = time.perf_counter()
    with ExternalWriter(home / "state.db") as writer:
        for _ in range(plan.cold_requests):
            if time.perf_counter() - started > plan.cold_seconds and client_times:
                break
            writer.retitle(target)
            sent = time.perf_counter()
            response = http.get(LIST)
            client_times.append(time.perf_counter() - sent)
            response.raise_for_status()
            build = _server_timing(response.headers.get("server-timing"))
            if build is not None:
                build_times.append(build)
            if response.headers.get("x-cache") != "miss":
                not_rebuilt += 1
    seconds = time.perf_counter() - started
    health = http.get("/api/health").json()["cache"]["rebuild_time"]
    return Cold(
        requests=len(client_times),
        seconds=seconds,
        client_p50_ms=ms(client_times, 0.5),
        client_p99_ms=ms(client_times, 0.99),
        build_p50_ms=ms(build_times, 0.5),
        build_p99_ms=ms(build_times, 0.99),
        health=dict(health),
        not_rebuilt=not_rebuilt,
    )


def _streaming(http: httpx2.Client, session_id: str) -> bool:
    rows = http.get(LIST).json()["sessions"]
    return any(r["session_id"] == session_id and r["is_streaming"] for r in rows)


def start_turn(http: httpx2.Client, process: Process, content: str) -> tuple[str, str]:
    """A new web UI chat and its first turn: (session id, stream id)."""
    title = f"bench {secrets.token_hex(4)}"
    created = http.post("/api/sessions", json={"title": title}, headers=process.origin)
    created.raise_for_status()
    session_id = str(created.json()["session_id"])
    turn = http.post(
        f"/api/sessions/{session_id}/messages", json={"content": content}, headers=process.origin
    )
    turn.raise_for_status()
    return session_id, str(turn.json()["stream_id"])


def streaming_hits(
    http: httpx2.Client, process: Process, plan: Plan, scratch: Path, samples: Samples
) -> bool:
    """200 hits while one slow demo turn streams; whether it was live before and after."""
    session_id, stream_id = start_turn(http, process, "Benchmark the overlay, slowly please.")
    deadline = time.monotonic() + LIVE_WAIT
    live = _streaming(http, session_id)
    while not live and time.monotonic() < deadline:
        time.sleep(0.05)
        live = _streaming(http, session_id)
    run_rounds([Target(WEBUI, STREAMING, process, health=http)], plan, scratch, samples)
    live = live and _streaming(http, session_id)
    http.post(f"/api/streams/{stream_id}/cancel", headers=process.origin)
    return live


def _references(
    stack: ExitStack, page: Page, home: Path, scratch: Path, size: int
) -> tuple[Process, Process]:
    body = scratch / f"page-{size}.json"
    body.write_bytes(page.body)
    logs, db = scratch / "logs", home / "state.db"
    return (
        stack.enter_context(reference_server("ceiling", logs, body=body, etag=page.etag, db=db)),
        stack.enter_context(reference_server("naive", logs, body=body, etag=page.etag, db=db)),
    )


def one_worker(
    result: SizeResult, home: Path, plan: Plan, scratch: Path, stack: ExitStack, samples: Samples
) -> Process:
    """Cold rebuilds first (the health percentiles then are theirs), then the interleaved rounds."""
    with (
        webui_server(home, scratch / "logs", tokens_per_second=SLOW_TOKENS_PER_SECOND) as webui,
        client(webui.url, timeout=120) as http,
    ):
        page = fetch_page(http)
        result.rows, result.page_bytes = page.total, len(page.body)
        ceiling, naive = _references(stack, page, home, scratch, result.size)
        result.cold = measure_cold(http, home, plan, page.first_id)

        def latest() -> str:
            return fetch_page(http).etag

        targets = [
            Target(WEBUI, REVALIDATE, webui, etag=latest, health=http),
            Target(CEILING, REVALIDATE, ceiling, etag=lambda: page.etag),
            Target(WEBUI, HIT, webui, health=http),
            Target(CEILING, HIT, ceiling),
            Target(NAIVE, HIT, naive),
        ]
        run_rounds(targets, plan, scratch, samples)
        result.refresh_seconds = refresh_under_load(http, webui, plan, scratch, home, page.first_id)
        result.refresh_window = plan.refresh_seconds
        result.stream_live = streaming_hits(http, webui, plan, scratch, samples)
    return ceiling


def refresh_under_load(
    http: httpx2.Client, webui: Process, plan: Plan, scratch: Path, home: Path, session_id: str
) -> float | None:
    """How long a rebuild after a commit takes while the server answers hits on every
    connection; None when it did not finish in the window."""
    rebuilds = cache_counters(http)["rebuilds"]
    spec = LoadSpec(webui.url + LIST, plan.refresh_seconds + 1, plan.connections)
    load = threading.Thread(
        target=generate_load, args=(spec,), kwargs={"use_wrk": plan.use_wrk, "scratch": scratch}
    )
    load.start()
    time.sleep(min(1.0, plan.refresh_seconds / 4))  # the load is on
    with ExternalWriter(home / "state.db") as writer:
        writer.retitle(session_id)
    started = time.perf_counter()
    took: float | None = None
    try:
        while took is None and time.perf_counter() - started < plan.refresh_seconds:
            time.sleep(0.01)
            if cache_counters(http)["rebuilds"] > rebuilds:
                took = time.perf_counter() - started
    finally:
        load.join()
    return took


def _warm_workers(process: Process) -> list[str]:
    """A list from every worker (a fresh connection each time); the tags seen, in order."""
    tags = []
    for _ in range(8):
        with client(process.url, timeout=120) as http:
            tags.append(fetch_page(http).etag)
    return tags


def two_workers(
    result: SizeResult, home: Path, plan: Plan, scratch: Path, ceiling: Process, samples: Samples
) -> None:
    with webui_server(home, scratch / "logs", workers=2) as webui:
        tags = _warm_workers(webui)
        result.worker_tags = len(set(tags))
        ceiling_tag = current_etag(ceiling)
        targets = [
            Target(WEBUI_2W, REVALIDATE, webui, etag=lambda: tags[-1]),
            Target(CEILING, REVALIDATE, ceiling, etag=lambda: ceiling_tag),
            Target(WEBUI_2W, HIT, webui),
            Target(CEILING, HIT, ceiling),
        ]
        run_rounds(targets, plan, scratch, samples)


def current_etag(process: Process) -> str:
    with client(process.url) as http:
        return str(http.get(LIST).headers["etag"])


def settled_page(http: httpx2.Client, *, attempts: int = 100) -> Page:
    """The list once it is a cache hit with the same ETag twice in a row (at most ~10 s)."""
    page = fetch_page(http)
    for _ in range(attempts):
        time.sleep(0.1)
        response = http.get(LIST)
        again = page_of(response)
        if response.headers.get("x-cache") == "hit" and again.etag == page.etag:
            return again
        page = again
    return page


def etag_survives_unchanged_rebuild(
    http: httpx2.Client, home: Path, *, wait: float = 30.0
) -> bool | None:
    """Does the list keep its ETag across a rebuild caused by a commit that changes nothing
    the list shows (a no-op update)? Measured from a settled list: right after a stream
    ends, the held list stands in (with the ended stream laid over it) until its rebuild,
    and that page rightly differs from the rebuilt one. Judged once the rebuild has run;
    None when no rebuild followed the commit within ``wait`` seconds (nothing to judge)."""
    first = settled_page(http)
    rebuilds = cache_counters(http)["rebuilds"]
    with ExternalWriter(home / "state.db") as writer:
        writer.touch(first.first_id)
    again = fetch_page(http)  # a changed stamp: this request waits for the rebuild
    deadline = time.monotonic() + wait
    while cache_counters(http)["rebuilds"] <= rebuilds:
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)
        again = fetch_page(http)
    return again.etag == first.etag


def measure_size(
    size: int, home: Path, plan: Plan, scratch: Path, step: Callable[[str], None]
) -> SizeResult:
    result = SizeResult(size=size, rows=0, page_bytes=0)
    samples = Samples()
    with ExitStack() as references:
        step(f"{size} sessions: webui 1 worker, ceiling, naive")
        ceiling = one_worker(result, home, plan, scratch, references, samples)
        step(f"{size} sessions: webui 2 workers, ceiling")
        two_workers(result, home, plan, scratch, ceiling, samples)
    result.runs = combined(samples)
    return result
