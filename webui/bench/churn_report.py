"""The Markdown of the churn section of BENCHMARKS.md, from a run's churn figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from webui.bench.churn_targets import churn_verdicts, refresh_cost
from webui.bench.markdown import num, table
from webui.bench.report import RunInfo, run_block, verdict_table
from webui.bench.results import (
    AGENT_ALONE,
    FULL_REBUILD,
    INCREMENTAL,
    ChurnResults,
    ChurnRun,
)

INDEX_KEYS = ("refreshes", "full_reloads", "view_updates")


def _server(run: ChurnRun) -> str:
    if run.mode == AGENT_ALONE:
        return "none (the agent alone)"
    tabs = f"{run.tabs} tabs on {run.views} view{'s' if run.views > 1 else ''}"
    return f"{run.mode}, {tabs}" + (", deltas (`since`)" if run.deltas else "")


def _per(value: float | None, commits: int, views: int = 1) -> str:
    if value is None or not commits:
        return "—"
    return f"{value / commits / views:,.2f}"


def index_total(index: dict[str, float], key: str) -> float | None:
    """``key`` of the index statistics, summed over profiles where they are given per profile."""
    found = [v for name, v in index.items() if name == key or name.endswith("." + key)]
    return sum(found) if found else None


def _index(run: ChurnRun) -> str:
    if run.index is None:
        return "—"
    refreshes, reloads, updates = (index_total(run.index, k) for k in INDEX_KEYS)
    per_commit = f" ({_per(refreshes, run.commits)} a commit)" if refreshes is not None else ""
    per_view = f" ({_per(updates, run.commits, run.views)} a view a commit)" if updates else ""
    return f"{num(refreshes, 0)}{per_commit} / {num(reloads, 0)} / {num(updates, 0)}{per_view}"


def _answers(run: ChurnRun) -> str:
    full = f"{run.full_answers:,} full"
    delta = ""
    if run.deltas or run.delta_answers:
        delta = f", {run.delta_answers:,} delta ({run.empty_deltas:,} empty)"
    errors = f", **{run.errors} errors**" if run.errors else ""
    return f"{run.not_modified:,} × 304, {full}{delta}{errors}"


def churn_table(runs: Sequence[ChurnRun]) -> str:
    rows = [
        (
            f"{r.size:,}",
            _server(r),
            f"{r.commits}",
            num(r.cpu_share and r.cpu_share * 100, 1, " %"),
            num(r.cpu_ms_per_commit),
            num(r.cpu_ms_per_commit_above_idle),
            f"{num(r.poll_p50_ms)} / {num(r.poll_p99_ms)}",
            f"{r.polls:,}: {_answers(r)}",
            num(r.bytes_per_tab_change, 0),
            num(r.body_bytes / r.tabs / r.commits if r.tabs and r.commits else None, 0),
            _per(r.cache.get("rebuilds"), r.commits, r.views),
            _index(r),
        )
        for r in runs
        if r.journal == "WAL"
    ]
    header = (
        "Sessions", "Server", "Commits", "server CPU (of a core)", "CPU ms per commit",
        "above idle", "poll p50 / p99 ms", "Polls", "wire bytes per tab per change",
        "decoded bytes", "cache rebuilds per view per commit",
        "index refreshes / full reloads / view updates",
    )  # fmt: skip
    return table(header, rows)


def bare_table(churn: ChurnResults) -> str:
    rows = []
    for b in churn.bare:
        inc = churn.find(b.size, INCREMENTAL)
        cost, what = refresh_cost(inc) if inc else (None, "")
        if not b.available:
            rows.append((f"{b.size:,}", "n/a", "—", "—", "—", "—", f"n/a: {b.note}"))
            continue
        rows.append(
            (
                f"{b.size:,}",
                num(b.full_load_ms),
                f"{b.reads}",
                f"{num(b.p50_ms, 2)} / {num(b.p99_ms, 2)}",
                num(b.cpu_p50_ms, 2),
                f"{b.full_fallbacks}",
                f"{num(cost)} ms ({what}): {num(cost and b.p50_ms and cost / b.p50_ms)}×"
                if cost is not None
                else "—",
            )
        )
    header = (
        "Sessions", "first read (everything) ms", "reads after one commit", "read p50 / p99 ms",
        "read CPU p50 ms", "reads that fell back to full", "the server's refresh against it",
    )  # fmt: skip
    return table(header, rows)


def delete_table(churn: ChurnResults) -> str:
    runs = [r for r in churn.runs if r.journal == "DELETE"]
    alone = next((r for r in runs if r.mode == AGENT_ALONE), None)
    base = alone.commit.p50_ms if alone else None
    rows = [
        (
            _server(r),
            f"{r.commit.commits}",
            " / ".join(num(x, 2) for x in (r.commit.p50_ms, r.commit.p99_ms, r.commit.max_ms)),
            num(r.commit.max_ms - base if r.commit.max_ms is not None and base else None),
            f"{num(r.poll_p50_ms)} / {num(r.poll_p99_ms)}" if r.tabs else "—",
            num(r.cpu_ms_per_commit),
        )
        for r in runs
    ]
    header = (
        "webui", "Commits", "agent commit p50 / p99 / max ms", "worst delay ms (max − alone p50)",
        "poll p50 / p99 ms", "server CPU ms per commit",
    )  # fmt: skip
    return f"A {churn.delete_size:,}-session home in rollback-journal mode.\n\n" + table(
        header, rows
    )


def delta_notes(churn: ChurnResults) -> Iterable[str]:
    cost = churn.delta_cost
    if cost is not None and cost.supported and cost.delta_rps and cost.full_rps:
        yield (
            f"One delta (one changed row) against the full page, {churn.delete_size:,} sessions, "
            f"under saturating load: {cost.delta_rps:,.0f} vs {cost.full_rps:,.0f} answers/s, "
            f"{cost.delta_bytes:,} vs {cost.full_bytes:,} bytes on the wire."
        )


def cost_notes(churn: ChurnResults) -> Iterable[str]:
    """Per size: what a commit costs in each mode, against the bare read and the rebuilds."""
    for size in sorted({r.size for r in churn.runs if r.journal == "WAL"}):
        inc, full = churn.find(size, INCREMENTAL), churn.find(size, FULL_REBUILD)
        bare = churn.bare_at(size)
        parts = []
        if inc is not None and inc.cpu_ms_per_commit is not None:
            read = (
                f"; the bare change read alone is {num(bare.p50_ms, 2)} ms"
                if bare and bare.available
                else ""
            )
            parts.append(
                f"with the index a commit costs the server {num(inc.cpu_ms_per_commit)} ms of "
                f"CPU ({num(inc.cpu_ms_per_commit_above_idle)} ms above idle polling){read}"
            )
        rebuilds = full.cache.get("rebuilds", 0) if full else 0
        if full is not None and full.cpu_ms_per_commit is not None and rebuilds:
            parts.append(
                f"with full rebuilds {num(full.cpu_ms_per_commit)} ms: "
                f"{rebuilds / max(1, full.commits):.1f} rebuilds a commit "
                f"(of {full.views} views), {full.cpu_seconds * 1000 / rebuilds:,.0f} ms of CPU each"
            )
        if parts:
            yield f"{size:,} sessions: " + "; ".join(parts) + "."


def churn_notes(churn: ChurnResults) -> Iterable[str]:
    yield from cost_notes(churn)
    yield from delta_notes(churn)
    served = [r for r in churn.runs if r.tabs]
    if served and all(r.index is None for r in served):
        yield (
            "The server's `/api/health` has no `cache.index` statistics: the index column is "
            "empty, and refreshes are seen only through the cache's rebuild counter."
        )
    if any(r.deltas and not r.versioned for r in served):
        yield (
            "The server's answers carry no `version`: the delta case could not ask for deltas "
            "and measured full pages."
        )
    for r in served:
        if r.poll_p99_ms is not None and r.poll_p99_ms > 30 and r.by_cache:
            kinds = "; ".join(
                f"{name} {n} (p50 {num(p50)}, p99 {num(p99)} ms)"
                for name, (n, p50, p99) in r.by_cache.items()
            )
            yield f"{r.size:,} sessions, {_server(r)}: polls by `X-Cache`: {kinds}."
    for r in served:
        if r.empty_deltas:
            yield (
                f"{r.size:,} sessions, {_server(r)}: {r.empty_deltas} of {r.delta_answers} delta "
                "answers changed nothing (no row added, changed or removed): an unchanged list "
                "answered 200 where a 304 was due."
            )
    missing = next((b.note for b in churn.bare if not b.available), None)
    if missing:
        yield f"The bare change reads were not measured: {missing}."
    for b in churn.bare:
        if b.available and b.full_fallbacks:
            yield (
                f"{b.size:,} sessions: {b.full_fallbacks} of {b.reads} change reads after a "
                "single commit came back as a full read."
            )
    for r in served:
        if r.errors:
            yield f"{r.size:,} sessions, {_server(r)}: {r.errors} polls failed."


METHOD = """\
- One profile (the demo home of each size, ~50 messages a session, copied fresh). The agent is
  `python -m webui.bench.agentloop`, a process of its own: {rate:g} commit a second for
  {seconds:g} s, each `BEGIN IMMEDIATE`, one message inserted and its session's
  `message_count` and `last_activity_at` bumped (the schema's FTS triggers run), every tenth
  commit instead a title change or an archive; sessions drawn at random among those with
  messages. Its commit latency is `BEGIN IMMEDIATE` to the return of `COMMIT`.
- {tabs} tabs (asyncio + httpx2 in the bench process, `Accept-Encoding: gzip, deflate, br,
  zstd`) poll `GET /api/sessions?limit=500` every {interval:g} s, random phase, one request in
  flight, with `If-None-Match`; *4 views* are the filter sets defaults,
  `show_cron=1&show_webhook=1`, `include_archived=1` and `sidebar_source=cli` (two tabs each);
  *1 view* puts all {tabs} on the defaults, *8 views* gives each tab its own (those four, then
  `sidebar_source=webui`, `show_messaging_history=1`, `exclude_hidden=0`,
  `show_cli=0&include_archived=1`), for {short_seconds:g} s. With *deltas* a tab also sends
  `since=<version>&have=<rows held>` from its previous answer.
- The window runs from the writer's first commit to one poll interval after its last. *server
  CPU* is the server process's user + system time over it (psutil), as a share of one core and
  per commit; *above idle* subtracts the CPU the same tabs cost over {quiet:g} s of polling with
  nothing committed, just before the window; *wire bytes* are response bodies as received
  (compressed where the server compressed), *decoded* the same bodies after decoding, both per
  tab per commit. *cache rebuilds* and the index columns are the change of `/api/health`'s
  counters over the window.
- *full rebuild* is the same server with `--no-incremental-index` (every change rebuilds every
  view from scratch), on the same home, in the same run.
- Bare change reads: in the bench process, `webui.agentdb.changes.ChangeReader(path,
  5.0).read()` after each single commit of the same mix ({bare} commits), no server running.
- DELETE journal: a copy of the {delete_size:,}-session home switched to `journal_mode=DELETE`;
  the writer runs {short_seconds:g} s alone, then with each server serving the 4-view tabs.
"""


def churn_section(churn: ChurnResults, info: RunInfo, method: dict[str, float]) -> str:
    notes = list(churn_notes(churn))
    return "\n".join(
        [
            "## Churn\n",
            run_block(info),
            "### Targets\n",
            verdict_table(churn_verdicts(churn)),
            "### The agent commits once a second while tabs poll\n",
            churn_table(churn.runs),
            "### The bare change reads (the limit)\n",
            bare_table(churn),
            "### The agent's commits in a DELETE-journal home\n",
            delete_table(churn),
            "### Where the time goes\n",
            "".join(f"- {n}\n" for n in notes) or "Nothing stood out.\n",
            "### How it was measured\n",
            METHOD.format(**method),
        ]
    )
