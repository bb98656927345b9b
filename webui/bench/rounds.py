"""Throughput in interleaved rounds, so that a ratio compares servers under the same conditions.

On a small shared machine the background load drifts over a run. Every round measures each
target once, one after the other (webui, then its reference, then the next request shape);
a target's figure is its median round, and every round's rate is kept to show the spread.
After each run the bench waits until the server is idle again: the naive design at 50,000
sessions still works through the requests in flight for seconds after the load generator
stops, and that work would otherwise slow whatever is measured next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2

from webui.bench.load import LoadResult, LoadSpec, generate_load
from webui.bench.plan import Plan
from webui.bench.results import Throughput
from webui.bench.servers import Process

LIST = "/api/sessions?limit=500"
COUNTERS = ("hits", "misses", "stale_serves", "rebuilds", "not_modified")


def cache_counters(http: httpx2.Client) -> dict[str, int]:
    cache = http.get("/api/health").json()["cache"]
    return {name: int(cache[name]) for name in COUNTERS}


@dataclass(frozen=True)
class Target:
    server: str
    scenario: str
    process: Process
    etag: Callable[[], str] | None = None  # revalidate, starting from this tag
    health: httpx2.Client | None = None  # webui's health endpoint: cache counters per run


@dataclass
class Samples:
    """Every round of every target of one size, in measuring order."""

    runs: dict[tuple[str, str], list[tuple[LoadResult, dict[str, int] | None]]]

    def __init__(self) -> None:
        self.runs = {}

    def add(self, target: Target, load: LoadResult, cache: dict[str, int] | None) -> None:
        self.runs.setdefault((target.server, target.scenario), []).append((load, cache))


def measure_once(
    target: Target, plan: Plan, scratch: Path
) -> tuple[LoadResult, dict[str, int] | None]:
    etag = target.etag() if target.etag is not None else None
    spec = LoadSpec(target.process.url + LIST, plan.load_seconds, plan.connections, etag)
    before = cache_counters(target.health) if target.health is not None else None
    load = generate_load(spec, use_wrk=plan.use_wrk, scratch=scratch)
    target.process.settle()
    if target.health is None or before is None:
        return load, None
    after = cache_counters(target.health)
    return load, {k: after[k] - before[k] for k in COUNTERS}


def run_rounds(targets: Sequence[Target], plan: Plan, scratch: Path, samples: Samples) -> None:
    for _ in range(plan.rounds):
        for target in targets:
            samples.add(target, *measure_once(target, plan, scratch))


def _summed(caches: list[dict[str, int] | None]) -> dict[str, int] | None:
    known = [c for c in caches if c is not None]
    if not known:
        return None
    total: Counter[str] = Counter()
    for cache in known:
        total.update(cache)
    return {k: total[k] for k in COUNTERS}


def combine(
    server: str, scenario: str, runs: list[tuple[LoadResult, dict[str, int] | None]]
) -> Throughput:
    """The median round's rate and latencies; answers and cache counters summed over rounds."""
    loads = [load for load, _ in runs]
    median = sorted(loads, key=lambda load: load.rps)[len(loads) // 2]
    statuses: Counter[str] = Counter()
    for load in loads:
        statuses.update(load.statuses)
    return Throughput(
        server=server,
        scenario=scenario,
        load=median,
        cache=_summed([cache for _, cache in runs]),
        rounds=tuple(load.rps for load in loads),
        requests=sum(load.requests for load in loads),
        errors=sum(load.errors for load in loads),
        statuses=dict(statuses),
    )


def combined(samples: Samples) -> list[Throughput]:
    return [combine(server, scenario, runs) for (server, scenario), runs in samples.runs.items()]
