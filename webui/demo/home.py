"""Builds a demo home: its profiles (names, paths, journal modes), each planned and written.

The same ``seed`` and ``now`` give the same databases: each profile draws from its own
``random.Random`` seeded with the seed and the profile's name.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Never

from tqdm import tqdm

from webui.agentdb import schema as agentschema
from webui.demo.claude import ClaudeSummary, write_claude_folder
from webui.demo.draws import Draws
from webui.demo.planner import plan_profile
from webui.demo.writer import write_profile


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    name: str
    db_path: Path
    version: int
    journal_mode: str
    upgraded: bool
    sessions: int
    messages: int


@dataclass(frozen=True, slots=True)
class DemoSummary:
    home: Path
    profiles: tuple[ProfileSummary, ...]
    claude: ClaudeSummary | None = None  # the Claude Code folder, at <home>/claude

    @property
    def sessions(self) -> int:
        return sum(p.sessions for p in self.profiles)

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.profiles)


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    name: str
    journal_mode: str
    upgraded: bool


def profile_specs(count: int) -> tuple[ProfileSpec, ...]:
    """default (fresh, WAL), work (DELETE journal), research (upgraded v11 → v30), lab-4, …"""
    fixed = (
        ProfileSpec("default", "wal", False),
        ProfileSpec("work", "delete", False),
        ProfileSpec("research", "wal", True),
    )
    extra = (ProfileSpec(f"lab-{n}", "wal", False) for n in range(4, count + 1))
    return (*fixed, *extra)[:count]


def profile_db_path(home: Path, name: str) -> Path:
    return home / "state.db" if name == "default" else home / "profiles" / name / "state.db"


@dataclass(frozen=True, slots=True)
class _Options:
    """What every profile of one demo home is built with."""

    sessions: int
    per_session: int | None
    seed: int
    now: float


def _build_profile(
    home: Path, spec: ProfileSpec, options: _Options, bar: tqdm[Never]
) -> ProfileSummary:
    rng = random.Random(f"{options.seed}:{spec.name}")
    draws = Draws(rng, spec.name, options.now, options.per_session)
    plans = plan_profile(draws, options.sessions, upgraded=spec.upgraded)
    path, version = profile_db_path(home, spec.name), agentschema.LATEST_VERSION
    agentschema.create_state_db(
        path, version=version, journal_mode=spec.journal_mode, upgraded=spec.upgraded
    )
    bar.set_description(spec.name)
    messages = write_profile(path, plans, rng, bar)
    return ProfileSummary(
        spec.name, path, version, spec.journal_mode, spec.upgraded, len(plans), messages
    )


def build_demo_home(
    home: Path,
    *,
    profiles: int = 3,
    sessions: int = 2000,
    messages_per_session: int | None = None,
    seed: int = 0,
    now: float | None = None,
    progress: bool = True,
    claude_sessions: int = 24,
) -> DemoSummary:
    """Create a demo home of ``profiles`` profiles with ``sessions`` sessions each.

    ``messages_per_session`` None gives a realistic spread averaging about 12; an int gives
    about that many each. Refuses (``ValueError``) a home that already has a ``state.db`` it
    would create. ``claude_sessions`` Claude Code transcripts go to ``<home>/claude`` (serve
    with ``--claude-home <home>/claude``); 0 writes none.
    """
    if profiles < 1 or sessions < 0:
        raise ValueError("profiles must be at least 1 and sessions at least 0")
    if messages_per_session is not None and messages_per_session < 0:
        raise ValueError("messages_per_session must be at least 0")
    specs = profile_specs(profiles)
    taken = [p for p in (profile_db_path(home, s.name) for s in specs) if p.exists()]
    if claude_sessions > 0 and (home / "claude" / "projects").exists():
        taken.append(home / "claude" / "projects")
    if taken:
        raise ValueError(f"{taken[0]} already exists: the demo needs a home without a state.db")
    options = _Options(sessions, messages_per_session, seed, time.time() if now is None else now)
    bar = tqdm(
        total=profiles * sessions,
        desc="demo home",
        unit="session",
        file=sys.stderr,
        disable=not progress,
    )
    with bar:
        summaries = tuple(_build_profile(home, spec, options, bar) for spec in specs)
    claude = (
        write_claude_folder(home / "claude", sessions=claude_sessions, seed=seed, now=options.now)
        if claude_sessions > 0
        else None
    )
    return DemoSummary(home, summaries, claude)
