"""The limit of a refresh: the bare change-detection reads, in-process, with no server.

``webui.agentdb.changes.ChangeReader(path, busy_timeout).read()`` loads everything the first
time and afterwards returns what changed since the previous read. Here one writer connection
(playing the agent, with the churn scenario's mix of commits) commits once, then one
``read()`` is timed (wall clock, and the reading thread's CPU), and again, ``bare_commits``
times. A refresh of the server's index cannot cost less than this read; the churn targets
compare the server's cost per commit with it. Where the tree has no change reader yet, the
figures say so instead.
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

from webui.bench.agentloop import open_churn
from webui.bench.results import BareReads
from webui.bench.stats import ms

MODULE = "webui.agentdb.changes"
BUSY_TIMEOUT = 5.0


def change_reader_class() -> tuple[Any, str]:
    """The ``ChangeReader`` class, or None and why not."""
    try:
        module = importlib.import_module(MODULE)
    except ImportError as exc:
        return None, f"`{MODULE}` is missing ({exc})"
    found = getattr(module, "ChangeReader", None)
    return (found, "") if found is not None else (None, f"`{MODULE}` has no ChangeReader")


def measure_bare_reads(db: Path, size: int, commits: int) -> BareReads:
    reader_class, why = change_reader_class()
    if reader_class is None:
        return BareReads(size=size, available=False, note=why)
    reader = reader_class(db, BUSY_TIMEOUT)
    churn = open_churn(db, seed=size)
    walls: list[float] = []
    cpus: list[float] = []
    fallbacks = 0
    try:
        started = time.perf_counter()
        reader.read()
        full_load = time.perf_counter() - started
        for _ in range(commits):
            churn.commit()
            wall, cpu = time.perf_counter(), time.thread_time()
            changes = reader.read()
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            fallbacks += bool(getattr(changes, "full", False))
    finally:
        churn.conn.close()
        close = getattr(reader, "close", None)
        if close is not None:
            close()
    return BareReads(
        size=size,
        available=True,
        note="",
        full_load_ms=full_load * 1000,
        reads=len(walls),
        p50_ms=ms(walls, 0.5),
        p99_ms=ms(walls, 0.99),
        cpu_p50_ms=ms(cpus, 0.5),
        full_fallbacks=fallbacks,
    )
