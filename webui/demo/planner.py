"""Plans one profile: a showcase of every surface and shape, then random groups, then flags.

The result is ``count`` sessions, oldest first, ready for the writer. Nothing here touches a
database; every choice comes from the profile's ``Draws``.
"""

from __future__ import annotations

import itertools

from webui.demo.draws import Draws, Plan
from webui.demo.lineage import SHAPES
from webui.demo.surfaces import DAY, INTERACTIVE, INTERNAL, MESSAGING

# The upgraded profile reached v30 this long ago: older rows lack what v22/v30 agents stamp.
UPGRADE_AGE = 45 * DAY

# Group kinds: (kind, source or source family, weight) for the random part of a profile.
GROUPS = (
    ("single", "webui", 16),
    ("single", "interactive", 20),
    ("chain", "work", 5),
    ("branch", "work", 3),
    ("delegation", "work", 4),
    ("conversation", "messaging", 7),
    ("single", "messaging", 7),
    ("chain", "messaging", 1),
    ("cron", "cron", 2),
    ("single", "webhook", 3),
    ("single", "api_server", 3),
    ("single", "internal", 2),
)
# Every profile starts with one of each (shuffled), so even a small home shows everything.
SHOWCASE = (
    *(("single", s) for s in ("webui", *INTERACTIVE, *MESSAGING[2:], *INTERNAL)),
    *(("single", s) for s in ("webhook", "api_server")),
    *(("conversation", s) for s in ("telegram", "discord")),
    *(("chain", s) for s in ("cli", "webui")),
    ("branch", "webui"),
    ("delegation", "cli"),
    ("cron", "cron"),
)


def plan_profile(draws: Draws, count: int, *, upgraded: bool) -> list[Plan]:
    """``count`` sessions, oldest first: the showcase, then random groups."""
    showcase = draws.rng.sample(SHOWCASE, len(SHOWCASE))
    kinds, weights = [g[:2] for g in GROUPS], [g[2] for g in GROUPS]
    plans: list[Plan] = []
    for index in itertools.count():
        if len(plans) >= count:
            break
        pick = showcase[index] if index < len(showcase) else None
        kind, family = pick or draws.rng.choices(kinds, weights)[0]
        plans.extend(_group(draws, kind, family, draws.anchor(index)))
    plans = plans[:count]
    _flag(draws, plans)
    if upgraded:
        _predate_upgrade(draws, plans)
    plans.sort(key=lambda p: p.started_at)
    return plans


def _group(draws: Draws, kind: str, family: str, anchor: float) -> list[Plan]:
    return SHAPES[kind](draws, _source(draws, family), anchor)


def _source(draws: Draws, family: str) -> str:
    rng = draws.rng
    if family == "interactive":
        return rng.choices(INTERACTIVE, weights=(10, 5, 3, 2))[0]
    if family == "messaging":
        return rng.choices(MESSAGING, weights=(10, 6, 6, 5, 2, 2, 2))[0]
    if family == "work":
        return rng.choices(("cli", "webui", "tui"), weights=(5, 4, 2))[0]
    return rng.choice(INTERNAL) if family == "internal" else family


def pin_count(sessions: int) -> int:
    """A handful of pins, as people keep them: 3 up to 99 sessions, one more per tenfold, at most 6.

    (4 from 100 sessions, 5 from 1,000, 6 from 10,000.) Fewer when a profile has fewer rows
    that can be pinned.
    """
    return min(6, max(3, len(str(max(sessions, 0))) + 1))


def _flag(draws: Draws, plans: list[Plan]) -> None:
    """Pinned, archived, hidden, empty and rewound sessions, each its own set of rows."""
    rng, n = draws.rng, len(plans)
    tops = [p for p in plans if p.top and p.opening.style not in ("task", "cron")]
    shuffled = rng.sample(tops, len(tops))
    start = 0
    for column, size in (("pinned", pin_count(n)), ("archived", n // 25), ("hidden", n // 150)):
        for plan in shuffled[start : start + max(1, size)]:
            plan.row[column] = 1
        start += max(1, size)
    plain = [p for p in shuffled[start:] if p.kind == "single"]
    openable = [p for p in plain if p.row["source"] in ("webui", "cli", "tui")]
    empties = openable[: max(1, n // 50)]
    for plan in empties:
        _empty(draws, plan)
    rewound = [p for p in plain if p.count >= 6 and p not in empties][: max(1, n // 40)]
    for plan in rewound:
        plan.row["rewind_count"] = rng.randint(1, 3)
        plan.inactive = rng.randint(2, min(6, plan.count - 2))


def _empty(draws: Draws, plan: Plan) -> None:
    """A session opened and left without a message: no title, no usage."""
    plan.count, plan.last_at = 0, plan.started_at
    plan.row.update(draws.usage(0), model=plan.row["model"], actual_cost_usd=None)
    plan.row.update(title=None, title_source=None, last_read_at=None)
    plan.row["last_activity_at"] = plan.started_at
    if plan.row["ended_at"] is not None:
        plan.row["ended_at"] = min(draws.now, plan.started_at + draws.rng.uniform(5.0, 300.0))


def _predate_upgrade(draws: Draws, plans: list[Plan]) -> None:
    """Rows older than the v30 upgrade lack what newer agents stamp on every session."""
    cutoff = draws.now - UPGRADE_AGE
    later = ("last_activity_at", "created_source", "title_source", "last_read_at")
    for plan in plans:
        if plan.started_at < cutoff:
            plan.row.update(dict.fromkeys((*later, "session_key", "profile_name")))
