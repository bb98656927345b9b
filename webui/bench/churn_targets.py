"""The churn targets, judged from a run's churn figures: PASS, MISS or not measured."""

from __future__ import annotations

from collections.abc import Iterable

from webui.bench.markdown import num
from webui.bench.results import AGENT_ALONE, FULL_REBUILD, INCREMENTAL, ChurnResults, ChurnRun
from webui.bench.stats import ratio
from webui.bench.targets import Verdict, pct

# Churn: (size, CPU per commit at most this fraction of the full rebuild's, poll p99 ms,
# CPU share of one core at most; None: no such target at that size).
CHURN_LIMITS = ((10_000, 1 / 10, 30.0, None), (50_000, 1 / 20, 100.0, 0.10))
REFRESH_OF_BARE = 2.0
VIEWS_OF_ONE = 1.5
DELETE_P99_FACTOR = 3.0
DELETE_DELAY_MS = 25.0
DELTA_BYTES = 2048


def _judge(target: str, value: float | None, text: str, passed: bool) -> Verdict:
    return Verdict(target, "—" if value is None else text, None if value is None else passed)


def _absent(size: int) -> str:
    return f"— ({size:,} not among the churn sizes)"


def _per_size(
    churn: ChurnResults, size: int, fraction: float, p99: float, share_limit: float | None
) -> Iterable[Verdict]:
    inc, full = churn.find(size, INCREMENTAL), churn.find(size, FULL_REBUILD)
    label = f"Churn, {size:,} sessions"
    target = f"{label}: CPU per commit ≤ 1/{1 / fraction:.0f} of the full rebuild's"
    mine = inc.cpu_ms_per_commit if inc else None
    theirs = full.cpu_ms_per_commit if full else None
    if inc is None and full is None:
        yield Verdict(target, _absent(size), None)
    else:
        part = ratio(mine, theirs)
        text = f"1/{1 / part:,.1f} ({mine:,.1f} vs {theirs:,.1f} ms)" if part else ""
        yield _judge(target, part, text, part is not None and part <= fraction)
    if share_limit is not None:
        target = f"{label}: server CPU ≤ {pct(share_limit)} of a core"
        share = inc.cpu_share if inc else None
        yield _judge(target, share, f"{pct(share)}", share is not None and share <= share_limit)
    target = f"{label}: poll p99 ≤ {p99:g} ms"
    got = inc.poll_p99_ms if inc else None
    yield _judge(target, got, f"{got or 0:,.1f} ms", got is not None and got <= p99)


def refresh_cost(run: ChurnRun) -> tuple[float | None, str]:
    """What one refresh costs the server, and what that figure is: the server's own refresh
    time where its index statistics have one, else its CPU per commit above idle (an upper
    bound: that also pays for answering the polls the commit changed)."""
    now, index = run.index_now or {}, run.index or {}
    if "refresh_time.p50_ms" in now:
        return now["refresh_time.p50_ms"], "refresh p50 in /api/health"
    if index.get("refresh_ms") and index.get("refreshes"):
        return index["refresh_ms"] / index["refreshes"], "refresh time per refresh"
    if run.cpu_ms_per_commit_above_idle is not None:
        return run.cpu_ms_per_commit_above_idle, "server CPU per commit above idle"
    return run.cpu_ms_per_commit, "server CPU per commit"


def _refresh(churn: ChurnResults) -> Iterable[Verdict]:
    target = f"A refresh costs ≤ {REFRESH_OF_BARE:g}× the bare change reads (p50)"
    found = []
    for bare in churn.bare:
        inc = churn.find(bare.size, INCREMENTAL)
        if inc is None or not bare.available or not bare.p50_ms:
            continue
        cost, what = refresh_cost(inc)
        if cost is not None:
            found.append((bare.size, cost / bare.p50_ms, cost, bare.p50_ms, what))
    if not found:
        why = next((b.note for b in churn.bare if not b.available), "")
        return [Verdict(target, f"n/a {why}".strip(), None)]
    measured = "; ".join(
        f"{r:,.1f}× at {n:,} ({what} {c:,.1f} ms vs read {b:,.2f} ms)" for n, r, c, b, what in found
    )
    return [Verdict(target, measured, all(r <= REFRESH_OF_BARE for n, r, *_ in found))]


def _views(churn: ChurnResults) -> Verdict:
    target = f"8 views cost ≤ {VIEWS_OF_ONE:g}× one view (8 tabs each, CPU per commit)"
    found = []
    for size in sorted({r.size for r in churn.runs}):
        many, one = churn.find(size, INCREMENTAL, views=8), churn.find(size, INCREMENTAL, views=1)
        part = ratio(
            many.cpu_ms_per_commit if many else None, one.cpu_ms_per_commit if one else None
        )
        if part is not None:
            found.append((size, part))
    if not found:
        return Verdict(target, "—", None)
    measured = ", ".join(f"{r:.2f}× at {n:,}" for n, r in found)
    return Verdict(target, measured, all(r <= VIEWS_OF_ONE for _, r in found))


def _delete_journal(churn: ChurnResults) -> Iterable[Verdict]:
    size = churn.delete_size
    alone = churn.find(size, AGENT_ALONE, journal="DELETE")
    served = churn.find(size, INCREMENTAL, journal="DELETE")
    label = f"DELETE journal, {size:,} sessions"
    a99 = alone.commit.p99_ms if alone else None
    s99 = served.commit.p99_ms if served else None
    part = ratio(s99, a99)
    target = f"{label}: agent commit p99 with webui ≤ {DELETE_P99_FACTOR:g}× without"
    text = f"{part or 0:.1f}× ({a99 or 0:.1f} → {s99 or 0:.1f} ms)"
    yield _judge(target, part, text, part is not None and part <= DELETE_P99_FACTOR)
    target = f"{label}: no commit delayed > {DELETE_DELAY_MS:g} ms by webui"
    base = alone.commit.p50_ms if alone else None
    worst = served.commit.max_ms if served else None
    delay = None if base is None or worst is None else worst - base
    text = f"{delay or 0:.1f} ms (max {worst or 0:.1f} − alone p50 {base or 0:.1f})"
    yield _judge(target, delay, text, delay is not None and delay <= DELETE_DELAY_MS)


def _wire(churn: ChurnResults) -> Iterable[Verdict]:
    size = churn.delete_size
    plain, deltas = churn.find(size, INCREMENTAL), churn.find(size, INCREMENTAL, deltas=True)
    target = f"Churn, {size:,}: bytes on the wire per tab per change ≤ {DELTA_BYTES:,} with deltas"
    if deltas is None or not deltas.versioned or not deltas.delta_answers:
        why = "server sends no version" if deltas and not deltas.versioned else "no delta answers"
        yield Verdict(target, "—" if deltas is None else f"n/a ({why})", None)
    else:
        got = deltas.bytes_per_tab_change
        without = plain.bytes_per_tab_change if plain else None
        text = f"{got or 0:,.0f} B (without `since`: {num(without, 0)} B)"
        yield _judge(target, got, text, got is not None and got <= DELTA_BYTES)
    target = f"Churn, {size:,}: server CPU per answer, delta ≤ full page (saturated rate)"
    cost = churn.delta_cost
    if cost is None or not cost.supported or not cost.delta_rps or not cost.full_rps:
        yield Verdict(target, "—" if cost is None else "n/a (no delta answered)", None)
        return
    mine, theirs = 1000 / cost.delta_rps, 1000 / cost.full_rps
    yield Verdict(
        target,
        f"{mine:.3f} vs {theirs:.3f} ms ({cost.delta_rps:,.0f} vs {cost.full_rps:,.0f} answers/s)",
        mine <= theirs,
    )


def churn_verdicts(churn: ChurnResults) -> list[Verdict]:
    verdicts: list[Verdict] = []
    for size, fraction, p99, share in CHURN_LIMITS:
        verdicts += _per_size(churn, size, fraction, p99, share)
    verdicts += _refresh(churn)
    verdicts.append(_views(churn))
    verdicts += _delete_journal(churn)
    verdicts += _wire(churn)
    return verdicts
