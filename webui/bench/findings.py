"""Plain statements of what a run showed beyond the targets: where the time and memory go."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from webui.bench.markdown import MiB, num
from webui.bench.results import (
    HIT,
    REVALIDATE,
    STREAMING,
    WEBUI,
    WEBUI_2W,
    MainResults,
    ProfileTable,
    SizeResult,
    Throughput,
)


def _share_304(run: Throughput) -> float | None:
    answered = run.statuses.get("200", 0) + run.statuses.get("304", 0)
    return run.statuses.get("304", 0) / answered if answered else None


def _listed(parts: list[str]) -> str:
    return ", ".join(parts)


def revalidation_notes(sizes: Sequence[SizeResult]) -> Iterable[str]:
    for server in (WEBUI, WEBUI_2W):
        shares = [
            (s.size, _share_304(run)) for s in sizes if (run := s.find_run(server, REVALIDATE))
        ]
        low = [
            f"{share * 100:.1f} % at {n:,}"
            for n, share in shares
            if share is not None and share < 0.99
        ]
        if low:
            yield (
                f"{server}: of the revalidations with no commit during the run only "
                f"{_listed(low)} sessions were answered 304; the rest were full 200s with "
                "another ETag."
            )
    split = [f"{s.size:,}" for s in sizes if s.worker_tags > 1]
    if split:
        yield (
            f"2 workers ({_listed(split)} sessions): each worker gave its own ETag for the same "
            "unchanged list, so a poll that lands on the other worker is a 200."
        )
    refreshed = [
        f"{run.cache['rebuilds']} at {s.size:,}"
        for s in sizes
        if (run := s.find_run(WEBUI, HIT)) and run.cache and run.cache["rebuilds"]
    ]
    if refreshed:
        yield (
            f"Rebuilds during the hit rounds, with no commit: {_listed(refreshed)} sessions "
            "(each ran on the server's CPU while it served the load)."
        )


def _is_handler(name: str) -> bool:
    """The ``GET /api/sessions`` endpoint in a cProfile line."""
    return "list_endpoint.py" in name and name.endswith("(__call__)")


def handler_notes(profiles: Sequence[ProfileTable]) -> Iterable[str]:
    """For each request profile: the webui functions with the most own time, against the handler."""
    for p in profiles:
        handler = next((c for name, _, c in p.ours if _is_handler(name)), None)
        if handler is None:
            continue
        ranked = sorted(
            (line for line in p.ours if not _is_handler(line[0])),
            key=lambda line: line[1],
            reverse=True,
        )
        top = ", ".join(f"`{name}` {own:.3f} ms" for name, own, _ in ranked[:3])
        yield (
            f"{p.title.split(', in-process')[0]}: the endpoint takes {handler:.3f} ms per "
            f"request under cProfile; the most own time among webui's functions: {top}."
        )


def streaming_notes(results: MainResults) -> Iterable[str]:
    for s in results.sizes:
        hit, overlaid = s.find(WEBUI, HIT), s.find(WEBUI, STREAMING)
        if hit and overlaid and hit.rps and overlaid.rps < 0.8 * hit.rps:
            yield (
                f"{s.size:,} sessions: with one stream overlaid webui serves "
                f"{overlaid.rps / hit.rps * 100:.0f} % of its plain hit rate (see the overlaid "
                "profile below)."
            )
    for c in results.contention:
        if c.streaming and c.pollers and c.poll_rebuilds:
            yield (
                f"Streaming contention, {c.name}: {c.poll_rebuilds} of {c.polls} polls waited for "
                f"a rebuild (median {num(c.poll_rebuild_p50_ms)} ms); those set the p99 "
                f"({num(c.poll_p99_ms)} ms)."
            )


def refresh_notes(results: MainResults) -> Iterable[str]:
    for s in results.sizes:
        build = s.cold.build_p50_ms if s.cold else None
        took = None if s.refresh_seconds is None else s.refresh_seconds * 1000
        if build and s.refresh_window and (took is None or took > 3 * build):
            done = f"took {took:,.0f} ms" if took else f"did not finish in {s.refresh_window:g} s"
            yield (
                f"{s.size:,} sessions: a rebuild after a commit {done} while the server "
                f"answered hits on every connection; the same rebuild takes {build:,.0f} ms "
                "unloaded. The rebuild thread shares the process's GIL with the event loop."
            )


def memory_notes(results: MainResults) -> Iterable[str]:
    e = results.entry_memory
    if e is not None and e.sites and e.retained > 3 * e.row_json:
        site, size, count = e.sites[0]
        yield (
            f"One {e.size:,}-session cache entry retains {e.retained / MiB:,.1f} MiB for "
            f"{e.row_json / MiB:,.1f} MiB of row JSON; `{site}` alone holds {size / MiB:,.1f} MiB "
            f"in {count:,} blocks of {size / max(1, count):,.0f} bytes."
        )


def findings(results: MainResults) -> list[str]:
    notes = list(revalidation_notes(results.sizes))
    notes += list(streaming_notes(results))
    notes += list(refresh_notes(results))
    notes += list(memory_notes(results))
    if results.etag_stable is False:
        notes.append(
            "A commit that changed nothing listed still changed the list's ETag: a browser "
            "polling across such commits never gets a 304."
        )
    notes += list(handler_notes(results.profiles))
    for p in results.profiles:
        if p.title.startswith("Rebuild") and p.lines:
            name, own, _ = p.lines[0]
            total = sum(line[1] for line in p.lines)
            notes.append(
                f"{p.title}: the largest own time is `{name}` ({own:.0f} ms of the "
                f"{total:.0f} ms spent in the top {len(p.lines)} functions; cProfile counts "
                "the stepping of an SQLite cursor as its caller's own time)."
            )
    return notes
