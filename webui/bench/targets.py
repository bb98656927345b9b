"""The targets of the benchmark, judged from a run's figures: PASS, MISS or not measured."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from webui.bench.results import (
    CEILING,
    HIT,
    NAIVE,
    REVALIDATE,
    WEBUI,
    MainResults,
    SizeResult,
    SoakResults,
    SoakSample,
)
from webui.bench.stats import loglog_slope, ratio

HIT_OF_CEILING = 0.70
REVALIDATE_OF_BARE = 0.80
NAIVE_FACTOR = 50.0
NAIVE_SIZE = 1_000
REBUILD_LIMITS = ((10_000, 150.0), (50_000, 1000.0))
SLOPE_LIMIT = 1.10  # "linear or better", with room for noise
TOKEN_DROP = 0.05
POLL_P99_MS = 20.0
EVENT_P99_MS = 500.0
RSS_GROWTH = 0.10
FDS_TOLERANCE = 0.05
THREADS_TOLERANCE = 4


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run

    @property
    def word(self) -> str:
        return {True: "**PASS**", False: "**MISS**", None: "not measured"}[self.passed]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def hit_ratio(size: SizeResult, server: str, scenario: str, reference: str) -> float | None:
    mine, theirs = size.find(server, scenario), size.find(reference, scenario)
    return ratio(mine.rps if mine else None, theirs.rps if theirs else None)


def _every_size(sizes: list[SizeResult], target: str, scenario: str, limit: float) -> Verdict:
    ratios = [(s.size, hit_ratio(s, WEBUI, scenario, CEILING)) for s in sizes]
    known = [(n, r) for n, r in ratios if r is not None]
    if not known:
        return Verdict(target, "—", None)
    measured = ", ".join(f"{_pct(r)} at {n:,}" for n, r in known)
    return Verdict(target, measured, all(r >= limit for _, r in known))


def _naive(sizes: list[SizeResult]) -> Verdict:
    target = f"200 hit ≥ {NAIVE_FACTOR:g}× the naive design at {NAIVE_SIZE:,} sessions"
    for size in sizes:
        if size.size == NAIVE_SIZE:
            factor = hit_ratio(size, WEBUI, HIT, NAIVE)
            if factor is not None:
                return Verdict(target, f"{factor:.1f}×", factor >= NAIVE_FACTOR)
    return Verdict(target, f"— ({NAIVE_SIZE:,} not among the sizes)", None)


def rebuild_slope(sizes: list[SizeResult], last: int | None = None) -> float | None:
    """Log-log slope of the median build time: over every size, or the ``last`` largest."""
    points = [(s.size, s.cold.build_p50_ms) for s in sizes if s.cold and s.cold.build_p50_ms]
    points = sorted(points)[-last:] if last else points
    return loglog_slope([float(p[0]) for p in points], [float(p[1] or 0) for p in points])


def _rebuilds(sizes: list[SizeResult]) -> Iterable[Verdict]:
    by_size = {s.size: s.cold.build_p50_ms for s in sizes if s.cold is not None}
    for size, limit in REBUILD_LIMITS:
        target = f"Rebuild of {size:,} sessions ≤ {limit:g} ms (server build time, median)"
        took = by_size.get(size)
        if took is None:
            yield Verdict(target, f"— ({size:,} not among the sizes)", None)
        else:
            yield Verdict(target, f"{took:,.0f} ms", took <= limit)
    slope = rebuild_slope(sizes)
    target = f"Rebuild cost linear in size or better (log-log slope ≤ {SLOPE_LIMIT:g})"
    yield Verdict(
        target,
        "—" if slope is None else f"{slope:.2f}",
        None if slope is None else slope <= SLOPE_LIMIT,
    )


def _streaming(results: MainResults) -> Iterable[Verdict]:
    cases = {(c.pollers, c.streaming): c for c in results.contention}
    quiet, busy = cases.get((0, True)), cases.get((20, True))
    target = "Token rate drop < 5 % with 20 pollers"
    if quiet and busy and quiet.token_rate and busy.token_rate:
        drop = 1 - busy.token_rate / quiet.token_rate
        yield Verdict(
            target,
            f"{drop * 100:+.1f} % ({quiet.token_rate:.1f} → {busy.token_rate:.1f} tokens/s)",
            drop < TOKEN_DROP,
        )
    else:
        yield Verdict(target, "—", None)
    target = f"/api/sessions p99 < {POLL_P99_MS:g} ms during streaming (20 pollers)"
    p99 = busy.poll_p99_ms if busy else None
    yield Verdict(
        target, "—" if p99 is None else f"{p99:.1f} ms", None if p99 is None else p99 < POLL_P99_MS
    )


def _freshness(results: MainResults) -> Iterable[Verdict]:
    fresh = results.freshness
    target = f"Freshness: event p99 < {EVENT_P99_MS:g} ms"
    if fresh is None:
        yield Verdict(target, "—", None)
        yield Verdict("A poll right after a commit always shows it", "—", None)
        return
    p99 = fresh.event_p99_ms
    measured = (
        "—" if p99 is None else f"{p99:.0f} ms ({fresh.events_missed} of {fresh.commits} unheard)"
    )
    yield Verdict(
        target, measured, p99 is not None and p99 < EVENT_P99_MS and not fresh.events_missed
    )
    yield Verdict(
        "A poll right after a commit always shows it",
        f"{fresh.poll_misses} misses in {fresh.commits} commits",
        fresh.poll_misses == 0,
    )


def main_verdicts(results: MainResults) -> list[Verdict]:
    sizes = results.sizes
    return [
        _every_size(
            sizes,
            f"200 hit, no stream ≥ {_pct(HIT_OF_CEILING)} of the ceiling",
            HIT,
            HIT_OF_CEILING,
        ),
        _every_size(
            sizes,
            f"304 ≥ {_pct(REVALIDATE_OF_BARE)} of the bare 304",
            REVALIDATE,
            REVALIDATE_OF_BARE,
        ),
        _naive(sizes),
        *_rebuilds(sizes),
        *_streaming(results),
        *_freshness(results),
    ]


def soak_start(soak: SoakResults) -> SoakSample | None:
    for sample in soak.samples:
        if sample.seconds >= soak.warmup:
            return sample
    return soak.samples[0] if soak.samples else None


def soak_verdicts(soak: SoakResults) -> list[Verdict]:
    start, end = soak_start(soak), (soak.samples[-1] if soak.samples else None)
    verdicts = [Verdict("No errors", f"{soak.errors} in {soak.requests:,} polls", soak.errors == 0)]
    if start is None or end is None:
        return verdicts
    growth = (end.rss - start.rss) / start.rss
    fds_flat = abs(end.files - start.files) <= max(2, start.files * FDS_TOLERANCE)
    threads_flat = abs(end.threads - start.threads) <= THREADS_TOLERANCE
    return [
        *verdicts,
        Verdict(f"RSS growth < {_pct(RSS_GROWTH)}", f"{growth * 100:+.1f} %", growth < RSS_GROWTH),
        Verdict(
            "Open files flat (±5 %; descriptors other than sockets)",
            f"{start.files} → {end.files}",
            fds_flat,
        ),
        Verdict(
            f"Threads flat (±{THREADS_TOLERANCE})", f"{start.threads} → {end.threads}", threads_flat
        ),
    ]
