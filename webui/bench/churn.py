"""Churn: the agent committing once a second while browser tabs poll the list every 2 s.

One case is one window: the external writer (``agentloop``, a process of its own) commits
for ``churn_seconds`` — a message a second on a random session, every tenth commit a title
change or an archive — while ``churn_tabs`` tabs, spread over one or four filter sets
(``FILTER_SETS``), poll ``GET /api/sessions`` every ``churn_interval`` with ``If-None-Match``
(and, in the delta case, ``since``/``have`` from their previous answer). The window runs from
the writer's first commit to one poll interval after its last, so the last commit's work is in
it. Before it, the same tabs poll for ``churn_quiet`` seconds with nothing committed: the
server's idle cost, so a commit's own cost can be told from the steady 304s. Over the window:
the server's CPU (psutil, the process and its children), every poll's latency and answer, the
response bytes as received (the client accepts gzip, br and zstd, as a browser does) and
decoded, and the change of ``/api/health``'s cache counters (and of its ``cache.index``
statistics, where the server has them).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import orjson

from webui.bench.plan import Plan
from webui.bench.results import AGENT_ALONE, ChurnRun, CommitLatency
from webui.bench.servers import Process, async_client
from webui.bench.stats import ms

LIMIT = "500"
# The filter sets of the tabs, distinct views of one profile: a case on n views takes the
# first n (the main cases 4, two tabs each; the view-count variants 1 and 8).
FILTER_SETS: tuple[Mapping[str, str], ...] = (
    {},
    {"show_cron": "1", "show_webhook": "1"},
    {"include_archived": "1"},
    {"sidebar_source": "cli"},
    {"sidebar_source": "webui"},
    {"show_messaging_history": "1"},
    {"exclude_hidden": "0"},
    {"show_cli": "0", "include_archived": "1"},
)
MAIN_VIEWS = 4  # the main cases: 8 tabs on 4 views, for the whole churn window
COUNTERS = ("hits", "misses", "stale_serves", "rebuilds", "not_modified")
READY_TIMEOUT = 300.0  # the first lists of a 50,000-session home in full-rebuild mode
WRITER_SLACK = 120.0


@dataclass
class Window:
    """Whether a poll sent now is counted."""

    open: bool = False


@dataclass
class TabLog:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    wire: int = 0
    body: int = 0
    deltas: int = 0
    empty_deltas: int = 0  # deltas that changed nothing: an unchanged list answered 200
    fulls: int = 0
    versioned: bool = False
    by_cache: dict[str, list[float]] = field(default_factory=dict)  # latencies by X-Cache


@dataclass
class Tab:
    query: Mapping[str, str]
    deltas: bool
    log: TabLog = field(default_factory=TabLog)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    etag: str | None = None
    version: str | None = None
    have: int = 0

    def params(self) -> dict[str, str]:
        params = {**self.query, "limit": LIMIT}
        if self.deltas and self.version is not None:
            params.update(since=self.version, have=str(self.have))
        return params

    def take(self, response: httpx2.Response, took: float, counted: bool) -> None:
        self.etag = response.headers.get("etag", self.etag)
        is_delta = empty = False
        if response.status_code == 200:
            data = orjson.loads(response.content)
            version = data.get("version")
            self.version = None if version is None else str(version)
            is_delta = data.get("delta") is True
            empty = is_delta and not data.get("upserted") and not data.get("removed")
            if not is_delta:
                self.have = len(data.get("sessions", ()))
            elif isinstance(data.get("total"), int):  # the window held after applying it
                self.have = min(data["total"], int(LIMIT))
        if counted:
            log = self.log
            log.latencies.append(took)
            log.by_cache.setdefault(response.headers.get("x-cache", "none"), []).append(took)
            log.statuses[str(response.status_code)] += 1
            log.wire += response.num_bytes_downloaded
            log.body += len(response.content)
            log.versioned = log.versioned or self.version is not None
            if response.status_code == 200:
                log.deltas += is_delta
                log.empty_deltas += empty
                log.fulls += not is_delta
        self.answered.set()


async def poll_loop(
    http: httpx2.AsyncClient, tab: Tab, interval: float, window: Window, stop: asyncio.Event
) -> None:
    """One browser tab: a poll every ``interval`` (random phase), one request in flight; a
    late answer is followed by the next poll at once, with no catch-up burst."""
    await asyncio.sleep(random.uniform(0, interval))
    due = time.perf_counter()
    while not stop.is_set():
        headers = {"If-None-Match": tab.etag} if tab.etag else {}
        counted, sent = window.open, time.perf_counter()
        try:
            response = await http.get("/api/sessions", params=tab.params(), headers=headers)
        except httpx2.HTTPError as exc:
            if counted:
                tab.log.statuses[type(exc).__name__] += 1
        else:
            tab.take(response, time.perf_counter() - sent, counted)
        due = max(due + interval, time.perf_counter())
        await asyncio.sleep(max(0.0, due - time.perf_counter()))


def health_numbers(value: object, prefix: str = "") -> dict[str, float]:
    """The numeric leaves of a JSON object (one level of nesting), by dotted name."""
    found: dict[str, float] = {}
    if not isinstance(value, dict):
        return found
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, bool):
            continue
        if isinstance(item, (int, float)):
            found[name] = float(item)
        elif isinstance(item, dict) and not prefix:
            found.update(health_numbers(item, f"{name}."))
    return found


@dataclass(frozen=True)
class Health:
    cpu: float
    cache: dict[str, int]
    index: dict[str, float] | None


async def health(http: httpx2.AsyncClient, process: Process) -> Health:
    cache = (await http.get("/api/health")).json().get("cache", {})
    index = cache.get("index")
    return Health(
        cpu=process.cpu_seconds(),
        cache={name: int(cache.get(name, 0) or 0) for name in COUNTERS},
        index=health_numbers(index) if isinstance(index, dict) else None,
    )


@dataclass(frozen=True)
class Served:
    """What the server did over a window: CPU seconds, the change of its cache counters and
    of its index statistics, and those statistics at the end (percentiles are not summed)."""

    cpu: float = 0.0
    idle_rate: float | None = None  # CPU seconds per second before the window, no commits
    cache: dict[str, int] = field(default_factory=dict)
    index: dict[str, float] | None = None
    index_now: dict[str, float] | None = None


def served_between(before: Health, after: Health, idle_rate: float | None) -> Served:
    cache = {k: after.cache[k] - before.cache[k] for k in COUNTERS}
    index = None
    if after.index is not None and before.index is not None:
        index = {k: v - before.index.get(k, 0.0) for k, v in after.index.items()}
    return Served(after.cpu - before.cpu, idle_rate, cache, index, after.index)


class Writer:
    """The ``agentloop`` process: started, told to go, waited for, its figures read."""

    def __init__(self, db: Path, out: Path, seconds: float, rate: float, journal: str) -> None:
        self.out = out
        self.command = [
            sys.executable, "-m", "webui.bench.agentloop", "--db", str(db),
            "--seconds", f"{seconds:g}", "--rate", f"{rate:g}", "--out", str(out),
            "--seed", str(random.randrange(1 << 30)), "--journal-mode", journal.lower(),
        ]  # fmt: skip
        self.seconds = seconds
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.out.unlink(missing_ok=True)
        self.proc = await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), READY_TIMEOUT)
        if line.strip() != b"ready":
            await self.proc.wait()
            raise RuntimeError(f"the churn writer did not start (exit {self.proc.returncode})")

    async def run(self) -> dict[str, object]:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(b"go\n")
        await self.proc.stdin.drain()
        code = await asyncio.wait_for(self.proc.wait(), self.seconds + WRITER_SLACK)
        if code != 0:
            raise RuntimeError(f"the churn writer exited {code}")
        figures: dict[str, object] = json.loads(self.out.read_text())
        return figures

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


def commit_latency(figures: Mapping[str, object]) -> CommitLatency:
    raw = figures.get("latencies", [])
    latencies = [float(x) for x in raw] if isinstance(raw, list) else []
    return CommitLatency(
        commits=len(latencies),
        p50_ms=ms(latencies, 0.5),
        p99_ms=ms(latencies, 0.99),
        max_ms=max(latencies) * 1000 if latencies else None,
    )


@dataclass(frozen=True)
class Case:
    size: int
    journal: str  # "WAL" or "DELETE"
    mode: str
    views: int
    deltas: bool = False


def tabs_for(case: Case, plan: Plan) -> list[Tab]:
    sets = FILTER_SETS[: case.views]
    return [Tab(sets[i % len(sets)], case.deltas) for i in range(plan.churn_tabs)]


def _run_of(
    case: Case,
    tabs: list[Tab],
    figures: Mapping[str, object],
    seconds: float,
    served: Served | None = None,
) -> ChurnRun:
    """The case's figures, with what the server did (none: the agent alone)."""
    served = served or Served()
    logs = [t.log for t in tabs]
    latencies = [x for log in logs for x in log.latencies]
    statuses: Counter[str] = Counter()
    for log in logs:
        statuses.update(log.statuses)
    commit = commit_latency(figures)
    by_cache: dict[str, list[float]] = {}
    for log in logs:
        for name, times in log.by_cache.items():
            by_cache.setdefault(name, []).extend(times)
    return ChurnRun(
        size=case.size,
        journal=case.journal,
        mode=case.mode,
        views=case.views if tabs else 0,
        tabs=len(tabs),
        deltas=case.deltas,
        seconds=seconds,
        commits=commit.commits,
        commit=commit,
        cpu_seconds=served.cpu,
        idle_cpu_rate=served.idle_rate,
        polls=len(latencies),
        poll_p50_ms=ms(latencies, 0.5),
        poll_p99_ms=ms(latencies, 0.99),
        not_modified=statuses["304"],
        errors=sum(statuses.values()) - statuses["200"] - statuses["304"],
        wire_bytes=sum(log.wire for log in logs),
        body_bytes=sum(log.body for log in logs),
        delta_answers=sum(log.deltas for log in logs),
        empty_deltas=sum(log.empty_deltas for log in logs),
        full_answers=sum(log.fulls for log in logs),
        versioned=any(log.versioned for log in logs),
        cache=served.cache,
        index=served.index,
        index_now=served.index_now,
        by_cache={
            name: (len(times), ms(times, 0.5), ms(times, 0.99))
            for name, times in sorted(by_cache.items())
        },
    )


async def _serve_case(
    process: Process, db: Path, case: Case, plan: Plan, scratch: Path
) -> ChurnRun:
    tabs, window, stop = tabs_for(case, plan), Window(), asyncio.Event()
    main = case.journal == "WAL" and case.views == MAIN_VIEWS
    seconds = plan.churn_seconds if main else plan.churn_short_seconds
    writer = Writer(db, scratch / "churn-writer.json", seconds, plan.churn_rate, case.journal)
    async with async_client(process.url, connections=len(tabs) + 2, timeout=120.0) as http:
        loops = [
            asyncio.create_task(poll_loop(http, tab, plan.churn_interval, window, stop))
            for tab in tabs
        ]
        try:
            await asyncio.wait_for(
                asyncio.gather(*(t.answered.wait() for t in tabs)), READY_TIMEOUT
            )
            await asyncio.to_thread(process.settle)
            await writer.start()
            quiet = await health(http, process)
            await asyncio.sleep(plan.churn_quiet)
            before = await health(http, process)
            idle_rate = (before.cpu - quiet.cpu) / plan.churn_quiet
            window.open, started = True, time.perf_counter()
            figures = await writer.run()
            await asyncio.sleep(plan.churn_interval)
            after = await health(http, process)
            elapsed = time.perf_counter() - started
        finally:
            window.open = False
            stop.set()
            writer.kill()
            await asyncio.gather(*loops, return_exceptions=True)
    await asyncio.to_thread(process.settle, limit=120.0)
    return _run_of(case, tabs, figures, elapsed, served_between(before, after, idle_rate))


async def _alone(db: Path, case: Case, plan: Plan, scratch: Path) -> ChurnRun:
    writer = Writer(
        db, scratch / "churn-writer.json", plan.churn_short_seconds, plan.churn_rate, case.journal
    )
    try:
        await writer.start()
        started = time.perf_counter()
        figures = await writer.run()
    finally:
        writer.kill()
    return _run_of(case, [], figures, time.perf_counter() - started)


def run_case(process: Process | None, db: Path, case: Case, plan: Plan, scratch: Path) -> ChurnRun:
    """One churn case against ``process`` (or, for AGENT_ALONE, the writer with no server)."""
    if case.mode == AGENT_ALONE or process is None:
        return asyncio.run(_alone(db, case, plan, scratch))
    return asyncio.run(_serve_case(process, db, case, plan, scratch))
