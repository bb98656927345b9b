"""One bench run from start to report: the steps in order, with a progress bar on stderr."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Never

from tqdm import tqdm

from webui.bench.churn_report import churn_section
from webui.bench.churn_targets import churn_verdicts
from webui.bench.churnsteps import measure_churn, steps_of
from webui.bench.compression import measure_compression
from webui.bench.contention import measure_contention
from webui.bench.document import write_section
from webui.bench.freshness import measure_freshness
from webui.bench.homes import run_home
from webui.bench.machine import describe
from webui.bench.memory import measure_memory
from webui.bench.plan import Plan, make_plan
from webui.bench.plots import main_plots, soak_plot
from webui.bench.profiling import entry_memory, profile_rebuild, profile_requests
from webui.bench.report import RunInfo, main_section, soak_section
from webui.bench.results import MainResults
from webui.bench.scenarios import etag_survives_unchanged_rebuild, measure_size
from webui.bench.servers import client, webui_server
from webui.bench.soak import run_soak
from webui.bench.targets import Verdict, main_verdicts, soak_verdicts

REPORT = "BENCHMARKS.md"
COMPRESSION_SIZE = 1_000  # its 500-row page is the one the compression targets speak of
PLOTS = Path("docs") / "bench"


@contextmanager
def work_folder(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="webui-bench-") as scratch:
        yield Path(scratch)


def run_info(plan: Plan, started: float) -> RunInfo:
    return RunInfo(
        command=plan.command,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        seconds=time.time() - started,
        machine=describe(plan.use_wrk),
    )


def _live_steps(results: MainResults, plan: Plan, work: Path, step: Callable[[str], None]) -> Path:
    step(f"{plan.mid_size} sessions: streaming contention, freshness")
    home = run_home(work, plan.mid_size)
    with webui_server(home, work / "logs", tokens_per_second=50.0) as process:
        results.contention_size = plan.mid_size
        results.contention = asyncio.run(measure_contention(process, plan))
        results.freshness = asyncio.run(measure_freshness(process, home, plan))
        with client(process.url, timeout=120) as http:
            results.etag_stable = etag_survives_unchanged_rebuild(http, home)
    step(f"{plan.mid_size} sessions: memory with {plan.memory_keys} cache entries")
    results.memory = measure_memory(home, plan.mid_size, plan, work)
    return home


def stepper(bar: tqdm[Never]) -> Callable[[str], None]:
    """A step of the progress bar: the previous one is done, ``label`` starts."""

    def step(label: str) -> None:
        if bar.desc:
            bar.update(1)
        bar.set_description(label)

    return step


def measure_all(plan: Plan, work: Path, step: Callable[[str], None]) -> MainResults:
    results = MainResults()
    for size in plan.sizes:
        home = run_home(work, size)
        results.sizes.append(measure_size(size, home, plan, work, step))
    largest = work / "run" / f"sessions-{max(plan.sizes)}"
    mid = _live_steps(results, plan, work, step)
    step("compression of one page")
    compression_step(results, plan, work)
    step(f"search on {max(plan.sizes):,} sessions")
    search_step(results, plan, work)
    step("profiles")
    results.entry_memory = entry_memory(mid, plan.mid_size)
    results.profiles = [
        profile_rebuild(largest, max(plan.sizes)),
        *profile_requests(mid, plan.profile_requests),
    ]
    return results


def compression_step(results: MainResults, plan: Plan, work: Path) -> None:
    size = COMPRESSION_SIZE if COMPRESSION_SIZE in plan.sizes else max(plan.sizes)
    try:
        results.compression = measure_compression(
            work,
            home=run_home(work, size, name="-compression"),
            seconds=plan.load_seconds,
            connections=plan.connections,
            rounds=min(plan.rounds, 3),
            use_wrk=plan.use_wrk,
        )
    except RuntimeError as exc:  # the server answered in no coding, or a load run failed
        results.compression_note = str(exc)


def search_step(results: MainResults, plan: Plan, work: Path) -> None:
    """Search latency against a LIKE scan, on a home of the largest size (realistic shape)."""
    try:
        from webui.bench.search import run as run_search
    except ImportError as exc:  # the search wing is not in this tree
        results.search_note = f"`webui.bench.search` cannot be imported ({exc})"
        return
    try:
        results.search = run_search(
            work,
            max(plan.sizes),
            rounds=1 if plan.quick else 5,
            poll_seconds=1.0 if plan.smoke else 5.0,
        )
    except RuntimeError as exc:  # a search answered with an error
        results.search_note = str(exc)


def main_run(plan: Plan, work: Path) -> list[Verdict]:
    """The sections the plan runs (main, churn or both), each written as soon as measured."""
    steps = (2 * len(plan.sizes) + 5 if plan.runs_main else 0) + (
        steps_of(plan) if plan.runs_churn else 0
    )
    verdicts: list[Verdict] = []
    with tqdm(total=steps, file=sys.stderr, unit="step") as bar:
        step = stepper(bar)
        if plan.runs_main:
            verdicts += main_part(plan, work, step)
        if plan.runs_churn:
            verdicts += churn_part(plan, work, step)
        bar.update(steps - bar.n)
    return verdicts


def churn_part(plan: Plan, work: Path, step: Callable[[str], None]) -> list[Verdict]:
    started = time.time()
    churn = measure_churn(plan, work, step)
    method = {
        "rate": plan.churn_rate,
        "seconds": plan.churn_seconds,
        "tabs": plan.churn_tabs,
        "interval": plan.churn_interval,
        "quiet": plan.churn_quiet,
        "bare": plan.bare_commits,
        "delete_size": plan.churn_delete_size,
        "short_seconds": plan.churn_short_seconds,
    }
    body = churn_section(churn, run_info(plan, started), method)
    write_section(plan.out / REPORT, "churn", body)
    return churn_verdicts(churn)


def main_part(plan: Plan, work: Path, step: Callable[[str], None]) -> list[Verdict]:
    started = time.time()
    results = measure_all(plan, work, step)
    main_plots(results.sizes, plan.out / PLOTS)
    method = {
        "connections": plan.connections,
        "seconds": plan.load_seconds,
        "rounds": plan.rounds,
        "contention_size": plan.mid_size,
        "contention_seconds": plan.contention_seconds,
        "memory_keys": plan.memory_keys,
    }
    write_section(plan.out / REPORT, "main", main_section(results, run_info(plan, started), method))
    return main_verdicts(results)


def soak_run(plan: Plan, work: Path) -> list[Verdict]:
    started = time.time()
    home = run_home(work, plan.soak_size)
    with webui_server(home, work / "logs") as process:
        soak = run_soak(process, home, plan)
    (plan.out / PLOTS).mkdir(parents=True, exist_ok=True)
    soak_plot(soak, plan.out / PLOTS / "soak.png")
    write_section(plan.out / REPORT, "soak", soak_section(soak, run_info(plan, started)))
    return soak_verdicts(soak)


def run_bench(args: argparse.Namespace) -> int:
    """``python -m webui bench``: measure, then write BENCHMARKS.md and the plots to ``--out``."""
    try:
        plan = make_plan(args, os.environ)
    except ValueError as exc:
        print(f"webui bench: {exc}", file=sys.stderr)
        return 2
    with work_folder(plan.work) as work:
        verdicts = soak_run(plan, work) if plan.soak else main_run(plan, work)
    for verdict in verdicts:
        print(f"{verdict.word.strip('*'):>12}  {verdict.target}: {verdict.measured}")
    print(f"wrote {plan.out / REPORT}")
    return 0
