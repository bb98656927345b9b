"""Demo homes by size: built once into the work folder, copied fresh for every run.

A home is built under a temporary name and renamed when complete, so an interrupted build is
never mistaken for a finished one. Each run works on a copy: the servers create ``webui/``
and the scenarios write sessions, and the next run must start from the same data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from webui.agentdb.schema import open_writer
from webui.demo import build_demo_home

MESSAGES_PER_SESSION = 50
READY = ".bench-ready"


def pristine_home(work: Path, size: int) -> Path:
    """The cached demo home of ``size`` sessions (one profile, ~50 messages each)."""
    home = work / "homes" / f"sessions-{size}"
    if (home / READY).is_file():
        return home
    building = work / "homes" / f".building-{size}"
    for stale in (home, building):
        if stale.exists():
            shutil.rmtree(stale)
    build_demo_home(
        building,
        profiles=1,
        sessions=size,
        messages_per_session=MESSAGES_PER_SESSION,
        seed=0,
        progress=True,
    )
    (building / READY).write_text(f"{size} sessions\n")
    building.rename(home)
    return home


def run_home(work: Path, size: int, *, name: str = "") -> Path:
    """A fresh copy of the cached home of ``size``, for this run to write into."""
    source = pristine_home(work, size)
    copy = work / "run" / f"sessions-{size}{name}"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns(READY))
    return copy


def delete_journal_home(work: Path, size: int) -> Path:
    """A fresh copy of the home of ``size`` whose ``state.db`` is in rollback-journal (DELETE)
    mode, as the agent leaves it when it opened the file with ``journal_mode=DELETE``."""
    home = run_home(work, size, name="-delete")
    conn = open_writer(home / "state.db")
    try:
        (mode,) = conn.execute("PRAGMA journal_mode = DELETE").fetchone()
    finally:
        conn.close()
    if str(mode).lower() != "delete":
        raise RuntimeError(f"{home / 'state.db'}: journal_mode DELETE refused (got {mode})")
    return home
