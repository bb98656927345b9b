"""What one bench run does: sizes, durations and counts, from the command line (and the smoke knob).

``--quick`` keeps every scenario but shortens it (< 3 minutes); the environment variable
``WEBUI_BENCH_SMOKE=1`` shrinks it further for the test suite (< 1 minute): it measures
nothing worth publishing and exists so ``make test`` proves the command end to end.
``WEBUI_BENCH_LOAD=python`` forces the Python load generator even where wrk is installed.
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


def _command(args: argparse.Namespace, sizes_given: bool) -> str:
    words = ["python -m webui bench"]
    if sizes_given:
        words.append(f"--sizes {args.sizes}")
    if args.quick:
        words.append("--quick")
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
    return Plan(
        sizes=sizes,
        quick=quick,
        smoke=smoke,
        out=Path(args.out),
        work=None if args.work is None else Path(args.work),
        command=_command(args, sizes_given),
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
    )
