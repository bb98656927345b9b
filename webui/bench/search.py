"""Search latency: ``GET /api/sessions/search`` against a plain ``LIKE`` scan, in one run.

A demo home of the realistic shape (about 12 messages a session: 50,000 sessions are about
600,000 messages) is built once into the work folder. The app answers a fixed query set —
single words, phrases, prefixes and substrings (the trigram index) — through its endpoint
in-process, ``rounds`` times each after one warm-up (the list is built and cached by then, as
it is for a sidebar that is open); the same queries then run as one unbounded ``LIKE`` scan
over the messages, the design without an index. Figures are p50 and p95 per query kind.

Beside it, polls of ``/api/sessions`` (revalidations) by four in-process pollers are timed
without, then with, searches running beside them (10 a second): the search runs in worker
threads, and what it costs the polls is its share of the GIL and of the event loop.

Entry points: ``run(work, sessions)`` for the bench runner (returns a ``SearchBench``, with
``markdown()`` for the report and ``targets()`` judged), ``smoke(tmp)`` for a quick test, and
``python -m webui.bench.search --work DIR --sessions N`` on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import shutil
import sqlite3
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import httpx2
from starlette.testclient import TestClient

from webui.agentdb.fts_terms import parse_terms
from webui.agentdb.search import like_scan
from webui.api.app import create_app
from webui.bench.stats import ms
from webui.config import Settings
from webui.demo import build_demo_home

READY = ".search-bench-ready"
SERVER_SWITCH_INTERVAL = 0.0005  # as webui.server.tune_interpreter sets it
SEARCH_RATE = 10.0  # searches a second beside the polls: several people typing
NOW = 1_763_800_000.0
QUERIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "word": ("postgres", "docker", "flaky", "retries", "webhook"),
        "phrase": (
            '"connection pool"',
            '"rate limit"',
            '"docker compose"',
            '"memory leak"',
            "flaky integration",
        ),
        "prefix": ("postg*", "migrat*", "deploy*", "compos*", "integr*"),
        "substring": ("onnection poo", "ostgre", "ompose set", "imiter", "ebhook handl"),
    }
)
# Targets of the search issue, per kind: p95 in ms, and the least scan/search ratio.
TARGET_P95_MS = MappingProxyType({"word": 30.0, "phrase": 30.0, "prefix": 30.0, "substring": 100.0})
TARGET_RATIO = MappingProxyType({"word": 50.0, "phrase": 50.0})


@dataclass(frozen=True, slots=True)
class KindResult:
    kind: str
    queries: int
    p50_ms: float
    p95_ms: float
    scan_p50_ms: float
    scan_p95_ms: float
    indexes: tuple[str, ...]  # what the answers said they used
    results: int  # rows found, summed over the kind's queries (first page totals)

    @property
    def ratio(self) -> float:
        """How many times slower the scan is at p95."""
        return self.scan_p95_ms / self.p95_ms if self.p95_ms else float("inf")


@dataclass(frozen=True, slots=True)
class Polls:
    """``GET /api/sessions`` revalidations (304s) by several pollers, in-process, without and
    then with searches running back to back beside them."""

    quiet_p99_ms: float
    searching_p99_ms: float
    polls: int
    searches: int
    rate: float  # searches a second asked for (0: back to back)

    @property
    def ratio(self) -> float:
        return self.searching_p99_ms / self.quiet_p99_ms if self.quiet_p99_ms else float("inf")


@dataclass(frozen=True, slots=True)
class SearchBench:
    sessions: int
    messages: int
    rounds: int
    kinds: tuple[KindResult, ...]
    build_seconds: float | None  # None: the home came from the cache
    polls: Polls | None = None

    def targets(self) -> list[tuple[str, str, bool]]:
        """(target, measured, met) for every target of the issue that this run measures."""
        judged = []
        for kind in self.kinds:
            bound = TARGET_P95_MS.get(kind.kind)
            if bound is not None:
                judged.append(
                    (
                        f"{kind.kind} p95 ≤ {bound:.0f} ms",
                        f"{kind.p95_ms:.1f} ms",
                        kind.p95_ms <= bound,
                    )
                )
            least = TARGET_RATIO.get(kind.kind)
            if least is not None:
                judged.append(
                    (f"{kind.kind} ≥ {least:.0f}× faster than a LIKE scan (p95)",
                     f"{kind.ratio:.0f}×", kind.ratio >= least)
                )  # fmt: skip
        if self.polls is not None:
            judged.append(
                ("poll p99 while searching ≤ 1.2× without", f"{self.polls.ratio:.2f}×",
                 self.polls.ratio <= 1.2)
            )  # fmt: skip
        return judged

    def markdown(self) -> str:
        lines = [
            f"Search on {self.sessions:,} sessions / {self.messages:,} messages "
            f"({self.rounds} rounds a query, `python -m webui.bench.search`):",
            "",
            "| Queries | Index | p50 | p95 | LIKE scan p50 | LIKE scan p95 | Scan / search |",
            "|---|---|---|---|---|---|---|",
        ]
        for k in self.kinds:
            lines.append(
                f"| {k.kind} ({k.queries}) | {', '.join(k.indexes)} | {k.p50_ms:.1f} ms | "
                f"{k.p95_ms:.1f} ms | {k.scan_p50_ms:.0f} ms | {k.scan_p95_ms:.0f} ms | "
                f"{k.ratio:.0f}× |"
            )
        if self.polls is not None:
            p = self.polls
            lines += [
                "",
                f"Polls (304s, 4 in-process pollers): p99 {p.quiet_p99_ms:.2f} ms without "
                f"searches, {p.searching_p99_ms:.2f} ms with {p.searches} searches "
                f"({p.rate:g}/s) beside {p.polls} polls.",
            ]
        lines += ["", "| Target | Measured | |", "|---|---|---|"]
        lines += [f"| {t} | {m} | {'PASS' if ok else '**MISS**'} |" for t, m, ok in self.targets()]
        return "\n".join(lines) + "\n"


def search_home(work: Path, sessions: int, *, seed: int = 0) -> tuple[Path, float | None]:
    """The cached home of ``sessions`` (one profile, the demo's own message counts), and how
    long building it took (None when it was already there)."""
    home = work / "homes" / f"search-{sessions}"
    if (home / READY).is_file():
        return home, None
    building = work / "homes" / f".building-search-{sessions}"
    for stale in (home, building):
        if stale.exists():
            shutil.rmtree(stale)
    started = time.perf_counter()
    build_demo_home(building, profiles=1, sessions=sessions, seed=seed, now=NOW, progress=True)
    (building / READY).write_text(f"{sessions} sessions\n")
    building.rename(home)
    return home, time.perf_counter() - started


def _messages(home: Path) -> int:
    conn = sqlite3.connect(f"file:{home / 'state.db'}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    finally:
        conn.close()


def _time_search(client: TestClient, q: str) -> tuple[float, str, int]:
    started = time.perf_counter()
    response = client.get("/api/sessions/search", params={"q": q})
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"search {q!r} answered {response.status_code}: {response.text[:200]}")
    body = response.json()
    return elapsed, str(body["index"]), int(body["total"])


def _time_scan(home: Path, q: str) -> float:
    started = time.perf_counter()
    like_scan(home / "state.db", parse_terms(q), busy_timeout=5.0)
    return time.perf_counter() - started


def _kind(
    client: TestClient, home: Path, kind: str, queries: Sequence[str], rounds: int
) -> KindResult:
    times: list[float] = []
    indexes: set[str] = set()
    results = 0
    for q in queries:
        _time_search(client, q)  # warm-up: the page cache, the statement
        for _ in range(rounds):
            elapsed, index, total = _time_search(client, q)
            times.append(elapsed)
            indexes.add(index)
        results += total
    scans = [_time_scan(home, q) for q in queries]
    return KindResult(
        kind=kind,
        queries=len(queries),
        p50_ms=ms(times, 0.5) or 0.0,
        p95_ms=ms(times, 0.95) or 0.0,
        scan_p50_ms=ms(scans, 0.5) or 0.0,
        scan_p95_ms=ms(scans, 0.95) or 0.0,
        indexes=tuple(sorted(indexes)),
        results=results,
    )


def measure(
    home: Path,
    *,
    sessions: int,
    rounds: int = 5,
    build_seconds: float | None = None,
    queries: Mapping[str, Sequence[str]] = QUERIES,
) -> SearchBench:
    """Measure on ``home`` in place: search only reads ``state.db`` (the app keeps its own
    ``webui/`` beside it, as any server on the home does)."""
    settings = Settings(home=home, watch=False, claude_home="")
    with TestClient(create_app(settings)) as client:
        client.get("/api/sessions")  # the list every search reads is built and cached
        kinds = tuple(_kind(client, home, k, qs, rounds) for k, qs in queries.items())
    return SearchBench(sessions, _messages(home), rounds, kinds, build_seconds)


async def _poll(http: httpx2.AsyncClient, stop: asyncio.Event, took: list[float]) -> None:
    etag = ""
    while not stop.is_set():
        started = time.perf_counter()
        response = await http.get("/api/sessions", headers={"if-none-match": etag})
        took.append(time.perf_counter() - started)
        etag = response.headers.get("etag", "")
        await asyncio.sleep(0.002)


async def _search_loop(
    http: httpx2.AsyncClient, stop: asyncio.Event, done: list[int], rate: float
) -> None:
    """Searches at ``rate`` a second (0: back to back), cycling through the query set."""
    queries = [q for qs in QUERIES.values() for q in qs]
    started = time.perf_counter()
    for q in itertools.cycle(queries):
        if stop.is_set():
            return
        await http.get("/api/sessions/search", params={"q": q})
        done.append(1)
        if rate > 0:
            due = started + len(done) / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))


async def _phase(
    http: httpx2.AsyncClient, seconds: float, pollers: int, search: float | None
) -> tuple[list[float], int]:
    stop = asyncio.Event()
    took: list[float] = []
    done: list[int] = []
    tasks = [asyncio.create_task(_poll(http, stop, took)) for _ in range(pollers)]
    if search is not None:
        tasks.append(asyncio.create_task(_search_loop(http, stop, done, search)))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return took, len(done)


async def _polls(home: Path, seconds: float, pollers: int, rate: float) -> Polls:
    app = create_app(Settings(home=home, watch=False, claude_home=""))
    transport = httpx2.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8787") as http,
    ):
        await http.get("/api/sessions")
        await http.get("/api/sessions/search", params={"q": "postgres"})
        quiet, _ = await _phase(http, seconds, pollers, search=None)
        busy, searches = await _phase(http, seconds, pollers, search=rate)
    return Polls(ms(quiet, 0.99) or 0.0, ms(busy, 0.99) or 0.0, len(busy), searches, rate)


def polls_while_searching(
    home: Path, *, seconds: float = 5.0, pollers: int = 4, rate: float = SEARCH_RATE
) -> Polls:
    """Poll latency without and with searches beside the polls (``rate`` a second; 0: back
    to back), in one process, under the GIL switch interval the server runs with
    (``webui.server.tune_interpreter``)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)
    try:
        return asyncio.run(_polls(home, seconds, pollers, rate))
    finally:
        sys.setswitchinterval(interval)


def run(
    work: Path, sessions: int = 50_000, *, rounds: int = 5, poll_seconds: float = 5.0
) -> SearchBench:
    """The bench runner's entry point: build (or reuse) the home and measure it."""
    home, built = search_home(work, sessions)
    result = measure(home, sessions=sessions, rounds=rounds, build_seconds=built)
    polls = polls_while_searching(home, seconds=poll_seconds) if poll_seconds > 0 else None
    return dataclasses.replace(result, polls=polls)


def smoke(tmp: Path) -> SearchBench:
    """A run small enough for a test: 200 sessions, one round, one query per kind."""
    home = tmp / "search-smoke"
    build_demo_home(home, profiles=1, sessions=200, seed=0, now=NOW, progress=False)
    small = {kind: queries[:1] for kind, queries in QUERIES.items()}
    return measure(home, sessions=200, rounds=1, queries=small)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui.bench.search", description=__doc__)
    parser.add_argument("--work", type=Path, default=Path(".bench"), help="folder for homes")
    parser.add_argument("--sessions", type=int, default=50_000, help="size of the home")
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each query")
    parser.add_argument("--poll-seconds", type=float, default=5.0, help="per poll phase; 0: off")
    args = parser.parse_args(argv)
    result = run(args.work, args.sessions, rounds=args.rounds, poll_seconds=args.poll_seconds)
    sys.stdout.write(result.markdown())
    return 0 if all(ok for _, _, ok in result.targets()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
