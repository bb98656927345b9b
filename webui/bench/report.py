"""The Markdown of the two BENCHMARKS.md sections, from a run's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webui.bench.findings import findings
from webui.bench.markdown import MiB, num, table
from webui.bench.report_blocks import compression_block, search_block
from webui.bench.results import (
    CEILING,
    HIT,
    NAIVE,
    REVALIDATE,
    STREAMING,
    WEBUI,
    WEBUI_2W,
    MainResults,
    ProfileTable,
    SizeResult,
    SoakResults,
    Throughput,
)
from webui.bench.targets import (
    Verdict,
    hit_ratio,
    main_verdicts,
    rebuild_slope,
    soak_start,
    soak_verdicts,
)

# Which reference each throughput row is a ratio to.
REFERENCE = {HIT: CEILING, STREAMING: CEILING, REVALIDATE: CEILING}


@dataclass(frozen=True)
class RunInfo:
    command: str
    date: str
    seconds: float
    machine: list[tuple[str, str]]


def run_block(info: RunInfo) -> str:
    return f"Command: `{info.command}` — {info.date}, {info.seconds / 60:.1f} minutes.\n\n" + table(
        ("Machine", ""), info.machine
    )


def verdict_table(verdicts: Sequence[Verdict]) -> str:
    return table(
        ("Target", "Measured", "Result"), ((v.target, v.measured, v.word) for v in verdicts)
    )


def _statuses(run: Throughput) -> str:
    parts = [f"{n:,}×{code}" for code, n in sorted(run.statuses.items()) if n]
    if run.errors:
        parts.append(f"{run.errors:,} errors")
    return ", ".join(parts) or f"{run.requests:,} × 2xx/3xx"


def _cache(run: Throughput) -> str:
    if run.cache is None:
        return "—"
    c = run.cache
    served = f"{c['hits']:,} hit / {c['stale_serves']:,} stale / {c['misses']:,} miss"
    return f"{served} / {c['rebuilds']:,} rebuilds"


def _ratio_to(size: SizeResult, run: Throughput) -> str:
    if run.server in (CEILING, NAIVE):
        return "—" if run.server == CEILING else "reference"
    reference = REFERENCE[run.scenario]
    base = size.find(reference, HIT if run.scenario == STREAMING else run.scenario)
    value = None if base is None or not base.rps else run.load.rps / base.rps
    label = "bare 304" if run.scenario == REVALIDATE else "ceiling"
    parts = [f"{num(value and value * 100, 0)} % of {label}"]
    naive = size.find(NAIVE, HIT)
    if run.scenario in (HIT, STREAMING) and naive is not None and naive.rps:
        parts.append(f"{run.load.rps / naive.rps:,.1f}× naive")
    return "; ".join(parts)


SERVERS = (WEBUI, WEBUI_2W, CEILING, NAIVE)
SCENARIOS = (REVALIDATE, HIT, STREAMING)


def throughput_table(sizes: Sequence[SizeResult]) -> str:
    rows = []
    for size in sizes:
        ordered = sorted(
            size.runs, key=lambda r: (SERVERS.index(r.server), SCENARIOS.index(r.scenario))
        )
        for run in ordered:
            rows.append(
                (
                    f"{size.size:,}",
                    run.server,
                    run.scenario,
                    num(run.load.rps, 0),
                    " / ".join(f"{rps:,.0f}" for rps in run.rounds),
                    num(run.load.p50_ms, 2),
                    num(run.load.p99_ms, 2),
                    _ratio_to(size, run),
                    _statuses(run),
                    _cache(run),
                )
            )
    header = (
        "Sessions",
        "Server",
        "Request",
        "req/s",
        "req/s by round",
        "p50 ms",
        "p99 ms",
        "Ratio",
        "Answers",
        "webui cache during the rounds",
    )
    return table(header, rows)


def ratio_table(sizes: Sequence[SizeResult]) -> str:
    rows = [
        (
            f"{s.size:,}",
            f"{s.rows:,}",
            num(_times100(hit_ratio(s, WEBUI, HIT, CEILING)), 0, " %"),
            num(_times100(hit_ratio(s, WEBUI, REVALIDATE, CEILING)), 0, " %"),
            num(hit_ratio(s, WEBUI, HIT, NAIVE), 1, "×"),
            num(_times100(hit_ratio(s, WEBUI, STREAMING, CEILING)), 0, " %"),
            num(hit_ratio(s, WEBUI_2W, HIT, WEBUI), 2, "×"),
            "yes" if s.stream_live else "**no**",
        )
        for s in sizes
    ]
    header = (
        "Sessions",
        "Rows listed",
        "hit / ceiling",
        "304 / bare 304",
        "hit / naive",
        "hit with stream / ceiling",
        "2 workers / 1 (hit)",
        "stream live throughout",
    )
    return table(header, rows)


def _times100(value: float | None) -> float | None:
    return None if value is None else value * 100


def refresh_text(size: SizeResult) -> str:
    if size.refresh_seconds is not None:
        return f"{size.refresh_seconds * 1000:,.0f} ms"
    return f"not done in {size.refresh_window:g} s" if size.refresh_window else "—"


def rebuild_table(sizes: Sequence[SizeResult]) -> str:
    rows = []
    for s in sizes:
        cold = s.cold
        if cold is None:
            continue
        health = cold.health
        rows.append(
            (
                f"{s.size:,}",
                f"{s.rows:,}",
                f"{cold.requests}",
                num(cold.build_p50_ms),
                num(cold.build_p99_ms),
                num(cold.client_p50_ms),
                num(cold.client_p99_ms),
                " / ".join(num(health.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")),
                num(cold.requests / cold.seconds if cold.seconds else None),
                str(cold.not_rebuilt),
                refresh_text(s),
            )
        )
    header = (
        "Sessions",
        "Rows",
        "Requests",
        "build p50 ms",
        "build p99 ms",
        "client p50 ms",
        "client p99 ms",
        "build p50 / p95 / p99 ms in /api/health",
        "req/s",
        "not a miss",
        "rebuild after a commit, under load",
    )
    slope, tail = rebuild_slope(list(sizes)), rebuild_slope(list(sizes), last=2)
    return (
        table(header, rows)
        + "\nLog-log slope of the median build time against size (least squares over every "
        + f"size): **{num(slope, 2)}** (1 = linear); between the two largest sizes: "
        + f"{num(tail, 2)}.\n"
    )


def contention_table(results: MainResults) -> str:
    rows = [
        (
            c.name,
            str(c.turns),
            str(c.tokens),
            num(c.token_rate),
            f"{num(c.gap_p50_ms)} / {num(c.gap_p99_ms)}",
            f"{num(c.lag_p50_ms)} / {num(c.lag_p99_ms)}",
            f"{c.polls:,}",
            f"{num(c.poll_p50_ms, 2)} / {num(c.poll_p99_ms, 2)}",
            f"{c.poll_not_modified:,}",
            f"{c.poll_rebuilds} ({num(c.poll_rebuild_p50_ms)} ms)",
            str(c.poll_errors),
        )
        for c in results.contention
    ]
    header = (
        "Case", "Turns", "Tokens", "tokens/s", "token gap p50 / p99 ms", "token lag p50 / p99 ms",
        "Polls", "poll p50 / p99 ms", "304s", "polls that waited for a rebuild (p50)", "Errors",
    )  # fmt: skip
    return table(header, rows)


def freshness_table(results: MainResults) -> str:
    f = results.freshness
    if f is None:
        return "Not measured.\n"
    rows = [
        (
            "`sessions_changed` event heard",
            num(f.event_p50_ms),
            num(f.event_p99_ms),
            f"{f.events_missed} unheard within 2 s",
        ),
        (
            "Poll sent right after the commit shows it",
            num(f.poll_p50_ms),
            num(f.poll_p99_ms),
            f"{f.poll_misses} misses",
        ),
    ]
    return table(("After an external commit", "p50 ms", "p99 ms", f"Of {f.commits} commits"), rows)


def memory_table(results: MainResults) -> str:
    m = results.memory
    if m is None:
        return "Not measured.\n"
    per_entry = (m.rss_full - m.rss_one) / max(1, m.entries - 1) / MiB
    rows = [
        ("after the first list", f"{m.rss_one / MiB:,.1f}", "1", "—", "—"),
        (
            f"after {m.entries} distinct lists",
            f"{m.rss_full / MiB:,.1f}",
            str(m.entries),
            f"{m.rows:,}",
            f"{per_entry:,.2f}",
        ),
    ]
    header = ("Server state", "RSS MiB", "Cache entries", "Rows held", "MiB per extra entry")
    intro = f"Home of {m.size:,} sessions; open files {m.fds}, threads {m.threads} at the end.\n\n"
    return intro + table(header, rows) + entry_block(results)


def entry_block(results: MainResults) -> str:
    e = results.entry_memory
    if e is None:
        return ""
    rows = (
        (f"`{site}`", f"{size / MiB:,.2f}", f"{count:,}", f"{size / max(1, count):,.0f}")
        for site, size, count in e.sites
    )
    return (
        f"\nOne entry of the {e.size:,}-session list, built in-process under tracemalloc: "
        f"{e.rows:,} rows retain **{e.retained / MiB:,.1f} MiB**, for "
        f"{e.row_json / MiB:,.1f} MiB of serialized rows. Where it is held:\n\n"
        + table(("Allocation site", "MiB", "blocks", "bytes per block"), rows)
    )


def profile_block(profiles: Sequence[ProfileTable]) -> str:
    blocks = []
    for p in profiles:
        own = ((f"`{name}`", f"{o:.3f}", f"{c:.3f}") for name, o, c in p.lines)
        ours = ((f"`{name}`", f"{c:.3f}") for name, _, c in p.ours)
        blocks.append(
            f"**{p.title}** (under cProfile, per call)\n\n"
            + table(("Top functions by own time", "own ms", "incl. ms"), own)
            + "\n"
            + table(("webui functions by inclusive time", "incl. ms"), ours)
        )
    return "\n".join(blocks)


METHOD = """\
- Each size has its own demo home (`webui.demo.build_demo_home`: one profile, ~50 messages per
  session; cached in the work folder, copied fresh for every run). Every server is a separate
  process on a free loopback port: `python -m webui serve` (uvicorn, file watcher on), the
  ceiling and the naive app (`webui/bench/apps.py`, uvicorn with the same flags, 1 worker).
- Throughput rows: the load generator (see the machine table) with {connections} connections
  for {seconds:g} s per round against `GET /api/sessions?limit=500`, in {rounds} interleaved
  round(s): each round measures webui's 304, the bare 304, webui's hit, the ceiling's hit and
  the naive design one after the other (then, with 2 workers, webui's 304 and hit beside the
  ceiling again, so the ceiling has twice the rounds). A row shows its median round.
  *304 revalidation* sends `If-None-Match` with the newest ETag it has seen (a browser's
  poll); *200 hit* sends none.
  *200 hit, 1 stream overlaid*: a demo turn at 2 tokens/s streams in the listed profile during
  the whole run (checked before and after). The *ceiling* serves the very bytes webui served
  (and a bare 304); the *naive* design holds the same page as a dict and per request opens a
  fresh SQLite connection for a `COUNT(*)`/`MAX(rowid)` fingerprint of `messages` and
  `sessions`, then `copy.deepcopy` + `json.dumps`.
- Rebuilds: before every request an external connection commits a title change
  (`BEGIN IMMEDIATE … COMMIT`), so every request waits for a rebuild; *build* is the server's
  own `Server-Timing`, *client* the whole request. The `/api/health` percentiles cover the same
  server's rebuilds (these plus its first build).
- Streaming contention ({contention_size:,} sessions): demo turns at 50 tokens/s back to back for
  {contention_seconds:g} s per case in one chat, created (and listed once) before the case's
  pollers start; pollers poll once a second with their ETags. The server
  commits each token to `state.db` before sending its event, so the token events carry the
  commit cost: *gap* is the time between token events (the schedule says 20 ms), *lag* how much
  later than the backend's 50 tokens/s schedule each token arrived, against the turn's most
  punctual token.
- Freshness: an external writer commits a new session with a message every 100–200 ms; the
  clock is read when `COMMIT` returns.
- Memory: the server's RSS (psutil) after one list, then after {memory_keys} lists with distinct
  cache keys (every `sidebar_source` × flag mix).
"""


def main_section(results: MainResults, info: RunInfo, method: dict[str, float]) -> str:
    notes = findings(results)
    parts = [
        "## Benchmark\n",
        run_block(info),
        "### Targets\n",
        verdict_table(main_verdicts(results)),
        "### Throughput against the ceiling and the naive design\n",
        ratio_table(results.sizes),
        "![throughput](docs/bench/throughput.png)\n",
        "Every row (the ratio is to the ceiling's 200, or to the bare 304, at the same size):\n",
        throughput_table(results.sizes),
        "### Rebuild time against size\n",
        rebuild_table(results.sizes),
        "![rebuild time](docs/bench/rebuild.png)\n",
        "### Streaming contention\n",
        contention_table(results),
        "### Freshness\n",
        freshness_table(results),
        "### Memory\n",
        memory_table(results),
        "### Compression\n",
        compression_block(results),
        "### Search\n",
        search_block(results),
        "### Where the time goes\n",
        "".join(f"- {n}\n" for n in notes) or "Nothing stood out.\n",
        profile_block(results.profiles),
        "### How it was measured\n",
        METHOD.format(**method),
    ]
    return "\n".join(parts)


def soak_table(soak: SoakResults) -> str:
    start = soak_start(soak)
    end = soak.samples[-1] if soak.samples else None
    rows = [
        ("Polls", f"{soak.requests:,} ({soak.not_modified:,} × 304)"),
        ("Poll p50 / p99", f"{num(soak.poll_p50_ms, 2)} / {num(soak.poll_p99_ms, 2)} ms"),
        ("Turns streamed / external commits", f"{soak.turns} / {soak.commits}"),
        ("Errors", f"{soak.errors}" + (f" ({soak.error_kinds})" if soak.error_kinds else "")),
    ]
    if start is not None and end is not None:
        rows += [
            (
                f"RSS at {start.seconds:.0f} s → end",
                f"{start.rss / MiB:,.1f} → {end.rss / MiB:,.1f} MiB",
            ),
            ("Open files, sockets aside", f"{start.files} → {end.files}"),
            ("Sockets (mostly the pollers' connections)", f"{start.sockets} → {end.sockets}"),
            ("Threads", f"{start.threads} → {end.threads}"),
        ]
    return table(("Figure", "Value"), rows)


def soak_section(soak: SoakResults, info: RunInfo) -> str:
    intro = (
        f"{soak.pollers} concurrent pollers (asyncio + httpx2, one poll a second each, with "
        f"ETags) for {soak.seconds:g} s on a {soak.size:,}-session home, while demo turns "
        "stream back to back and an external writer commits every second. Start figures are "
        f"taken after a {soak.warmup:g} s warm-up.\n"
    )
    return "\n".join(
        [
            "## Soak\n",
            run_block(info),
            intro,
            verdict_table(soak_verdicts(soak)),
            soak_table(soak),
            "![soak](docs/bench/soak.png)\n",
        ]
    )
