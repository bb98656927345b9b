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


def measure_all(plan: Plan, work: Path, bar: tqdm[Never]) -> MainResults:
    results = MainResults()

    def step(label: str) -> None:
        if bar.desc:
            bar.update(1)
        bar.set_description(label)

    for size in plan.sizes:
        home = run_home(work, size)
        results.sizes.append(measure_size(size, home, plan, work, step))
    largest = work / "run" / f"sessions-{max(plan.sizes)}"
    mid = _live_steps(results, plan, work, step)
    step("profiles")
    results.entry_memory = entry_memory(mid, plan.mid_size)
    results.profiles = [
        profile_rebuild(largest, max(plan.sizes)),
        *profile_requests(mid, plan.profile_requests),
    ]
    bar.update(1)
    return results


def main_run(plan: Plan, work: Path) -> list[Verdict]:
    started = time.time()
    steps = 2 * len(plan.sizes) + 3
    with tqdm(total=steps, file=sys.stderr, unit="step") as bar:
        results = measure_all(plan, work, bar)
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
