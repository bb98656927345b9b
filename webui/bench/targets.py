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
    WEBUI_2W,
    MainResults,
    SizeResult,
    SoakResults,
    SoakSample,
    Throughput,
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
TWO_WORKER_304 = 0.9  # the 2-worker 304 rate against the 1-worker one
COMPRESSED_SMALLER = 5.0
COMPRESSED_RPS = 0.9


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    passed: bool | None  # None: not measured in this run

    @property
    def word(self) -> str:
        return {True: "**PASS**", False: "**MISS**", None: "not measured"}[self.passed]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def hit_ratio(size: SizeResult, server: str, scenario: str, reference: str) -> float | None:
    mine, theirs = size.find(server, scenario), size.find(reference, scenario)
    return ratio(mine.rps if mine else None, theirs.rps if theirs else None)


def _every_size(sizes: list[SizeResult], target: str, scenario: str, limit: float) -> Verdict:
    ratios = [(s.size, hit_ratio(s, WEBUI, scenario, CEILING)) for s in sizes]
    known = [(n, r) for n, r in ratios if r is not None]
    if not known:
        return Verdict(target, "—", None)
    measured = ", ".join(f"{pct(r)} at {n:,}" for n, r in known)
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


def share_304(run: Throughput | None) -> float | None:
    """Of a revalidating run's answers, the share that were 304 (None: not counted)."""
    if run is None:
        return None
    answered = run.statuses.get("200", 0) + run.statuses.get("304", 0)
    return run.statuses.get("304", 0) / answered if answered else None


def _two_workers(sizes: list[SizeResult]) -> Verdict:
    """The 2-worker revalidation row against the 1-worker one, both as a share of the bare
    304 (the table's ratio column), with the share of answers that were 304s beside it."""
    target = f"2 workers: 304 revalidation ≥ {TWO_WORKER_304:g}× 1 worker's (of the bare 304)"
    found = []
    for s in sizes:
        one, two = s.find_run(WEBUI, REVALIDATE), s.find_run(WEBUI_2W, REVALIDATE)
        of_bare = (
            hit_ratio(s, WEBUI, REVALIDATE, CEILING),
            hit_ratio(s, WEBUI_2W, REVALIDATE, CEILING),
        )
        part = ratio(of_bare[1], of_bare[0])
        if part is not None:
            shares = f"304s {pct(share_304(two))} vs {pct(share_304(one))}"
            found.append((s.size, part, f"{pct(of_bare[1])} vs {pct(of_bare[0])}; {shares}"))
    if not found:
        return Verdict(target, "—", None)
    measured = ", ".join(f"{r:.2f}× at {n:,} ({text})" for n, r, text in found)
    return Verdict(target, measured, all(r >= TWO_WORKER_304 for _, r, _ in found))


def _compression(results: MainResults) -> Iterable[Verdict]:
    c = results.compression
    smaller = f"A {c.rows if c else 500}-row page compressed ≥ {COMPRESSED_SMALLER:g}× smaller"
    faster = f"200 throughput accepting compression ≥ {COMPRESSED_RPS:g}× of uncompressed"
    if c is None:
        note = f"— ({results.compression_note})" if results.compression_note else "—"
        yield Verdict(smaller, note, None)
        yield Verdict(faster, "—", None)
        return
    ratios = {coding: c.ratio(coding) for coding in c.sizes}
    yield Verdict(
        smaller,
        ", ".join(f"{coding} {r:.1f}×" for coding, r in ratios.items()),
        bool(ratios) and all(r >= COMPRESSED_SMALLER for r in ratios.values()),
    )
    if c.tool is None:
        yield Verdict(faster, "— (needs wrk)", None)
        return
    rates = {coding: c.relative_rps(coding) for coding in c.sizes}
    yield Verdict(
        faster,
        ", ".join(f"{coding} {r:.2f}×" for coding, r in rates.items()),
        all(r >= COMPRESSED_RPS for r in rates.values()),
    )


def _search(results: MainResults) -> Iterable[Verdict]:
    if results.search is None:
        note = f" ({results.search_note})" if results.search_note else ""
        yield Verdict("Search targets", f"—{note}", None)
        return
    for target, measured, met in results.search.targets():
        yield Verdict(f"Search, {results.search.sessions:,} sessions: {target}", measured, met)


def main_verdicts(results: MainResults) -> list[Verdict]:
    sizes = results.sizes
    return [
        _every_size(
            sizes,
            f"200 hit, no stream ≥ {pct(HIT_OF_CEILING)} of the ceiling",
            HIT,
            HIT_OF_CEILING,
        ),
        _every_size(
            sizes,
            f"304 ≥ {pct(REVALIDATE_OF_BARE)} of the bare 304",
            REVALIDATE,
            REVALIDATE_OF_BARE,
        ),
        _naive(sizes),
        _two_workers(sizes),
        *_rebuilds(sizes),
        *_streaming(results),
        *_freshness(results),
        *_compression(results),
        *_search(results),
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
        Verdict(f"RSS growth < {pct(RSS_GROWTH)}", f"{growth * 100:+.1f} %", growth < RSS_GROWTH),
        Verdict(
            "Open files flat (±5 %; descriptors other than sockets)",
            f"{start.files} → {end.files}",
            fds_flat,
        ),
        Verdict(
            f"Threads flat (±{THREADS_TOLERANCE})", f"{start.threads} → {end.threads}", threads_flat
        ),
    ]
