"""What one bench run does: sizes, durations and counts, from the command line (and the smoke knob).

``--quick`` keeps every scenario but shortens it (about 5 minutes, churn at 1,000 sessions
included); the environment variable ``WEBUI_BENCH_SMOKE=1`` shrinks it further for the test
suite (about 2 minutes): it measures nothing worth publishing and exists so ``make test``
proves the command end to end.
``WEBUI_BENCH_LOAD=python`` forces the Python load generator even where wrk is installed.
``--only churn`` (or ``WEBUI_BENCH_ONLY=churn``) runs the churn scenarios alone and rewrites only
their section of the report.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_SIZES = "100,1000,10000,50000"
QUICK_SIZES = (100, 1000)
SMOKE_ENV = "WEBUI_BENCH_SMOKE"
LOAD_ENV = "WEBUI_BENCH_LOAD"
ONLY_ENV = "WEBUI_BENCH_ONLY"
ONLY_CHOICES = ("", "main", "churn")
CHURN_SIZES = (10_000, 50_000)
QUICK_CHURN_SIZE = 1_000
MID_SIZE = 10_000
MAX_SIZE = 1_000_000


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    quick: bool
    smoke: bool
    out: Path
    work: Path | None
    command: str
    use_wrk: bool
    load_seconds: float  # one load-generator run
    rounds: int  # interleaved rounds of every throughput target
    refresh_seconds: float  # longest a background refresh under load is waited for
    connections: int
    cold_requests: int  # forced rebuilds per size, at most ...
    cold_seconds: float  # ... and for at most this long
    contention_seconds: float  # per contention case
    pollers: int
    freshness_commits: int
    mid_size: int  # streaming contention, freshness and memory
    memory_keys: int
    profile_requests: int
    soak: bool
    soak_seconds: float
    soak_size: int
    soak_pollers: int
    only: str  # "": every section; "main" or "churn": that one alone
    churn_sizes: tuple[int, ...]
    churn_seconds: float  # the external writer's run, per churn case
    churn_short_seconds: float  # the view-count variants and the DELETE-journal cases
    churn_delete_size: int  # the DELETE-journal home; also the size of the delta case
    churn_tabs: int
    churn_interval: float  # seconds between a tab's polls
    churn_rate: float  # the writer's commits per second
    churn_quiet: float  # seconds of polling with no commit before each window: the idle cost
    bare_commits: int  # commits each followed by one timed change read, in-process

    @property
    def runs_main(self) -> bool:
        return not self.soak and self.only in ("", "main")

    @property
    def runs_churn(self) -> bool:
        return not self.soak and self.only in ("", "churn")


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"100,1000"`` -> ``(100, 1000)``; sorted, unique, each between 1 and a million."""
    sizes: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= MAX_SIZE:
            raise ValueError(f"--sizes: {part!r} is not a session count between 1 and {MAX_SIZE}")
        sizes.add(int(part))
    if not sizes:
        raise ValueError("--sizes: give at least one size")
    return tuple(sorted(sizes))


def _command(args: argparse.Namespace, sizes_given: bool, only: str) -> str:
    words = ["python -m webui bench"]
    if sizes_given:
        words.append(f"--sizes {args.sizes}")
    if args.quick:
        words.append("--quick")
    if only:
        words.append(f"--only {only}")
    if args.soak:
        words.append(f"--soak --soak-seconds {args.soak_seconds:g}")
    words.append(f"--out {args.out}")
    if args.work is not None:
        words.append(f"--work {args.work}")
    return " ".join(words)


def make_plan(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    smoke = environ.get(SMOKE_ENV, "") == "1"
    sizes_given = args.sizes != DEFAULT_SIZES
    quick = bool(args.quick) or smoke
    sizes = parse_sizes(args.sizes) if sizes_given or not quick else QUICK_SIZES
    if not args.soak_seconds > 0:
        raise ValueError("--soak-seconds: must be above 0")
    short = 1.0 if smoke else 2.0 if quick else 3.0
    only = str(getattr(args, "only", None) or environ.get(ONLY_ENV, ""))
    if only not in ONLY_CHOICES:
        raise ValueError(f"--only: {only!r} is not one of main, churn")
    if smoke:
        churn_sizes: tuple[int, ...] = (min(sizes),)
    else:
        churn_sizes = sizes if sizes_given else (QUICK_CHURN_SIZE,) if quick else CHURN_SIZES
    return Plan(
        sizes=sizes,
        quick=quick,
        smoke=smoke,
        out=Path(args.out),
        work=None if args.work is None else Path(args.work),
        command=_command(args, sizes_given, only),
        use_wrk=shutil.which("wrk") is not None and environ.get(LOAD_ENV, "") != "python",
        load_seconds=short,
        rounds=1 if quick else 5,
        refresh_seconds=3.0 if smoke else 6.0 if quick else 15.0,
        connections=16,
        cold_requests=5 if smoke else 40 if quick else 100,
        cold_seconds=3.0 if smoke else 5.0 if quick else 20.0,
        contention_seconds=2.0 if smoke else 6.0 if quick else 15.0,
        pollers=20,
        freshness_commits=10 if smoke else 50 if quick else 60,
        mid_size=max(sizes) if quick else MID_SIZE,
        memory_keys=64,
        profile_requests=50 if smoke else 300,
        soak=bool(args.soak),
        soak_seconds=float(args.soak_seconds),
        soak_size=max(sizes) if smoke else MID_SIZE,
        soak_pollers=20 if smoke else 200,
        only=only,
        churn_sizes=churn_sizes,
        churn_seconds=2.0 if smoke else 10.0 if quick else 60.0,
        churn_short_seconds=1.0 if smoke else 6.0 if quick else 30.0,
        churn_delete_size=MID_SIZE if MID_SIZE in churn_sizes else churn_sizes[0],
        churn_tabs=8,
        churn_interval=1.0 if smoke else 2.0,
        churn_rate=1.0,
        churn_quiet=0.5 if smoke else 4.0,
        bare_commits=5 if smoke else 20 if quick else 40,
    )
