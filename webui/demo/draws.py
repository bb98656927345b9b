"""One profile's random draws (ids, titles, times, openings, usage, chats) and session plans.

A ``Plan`` is one session to write: its ``sessions`` row and the recipe of its messages. The
lineage shapes (``lineage``) and the profile planner (``planner``) build on ``Draws.plan``.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from webui.agentdb import schema as agentschema
from webui.demo.surfaces import DAY, END_REASONS, HISTORY_DAYS, INTERACTIVE, MESSAGING, TITLED
from webui.demo.text import (
    BRANCHES,
    CASUAL,
    FIRST_MESSAGES,
    LIFE_QUALIFIERS,
    LIFE_SUBJECTS,
    LIFE_TASKS,
    MODELS,
    PEOPLE,
    QUALIFIERS,
    REPOS,
    WORK_SUBJECTS,
    WORK_TASKS,
)

SESSION_NAMES = tuple(c.name for c in agentschema.SESSION_COLUMNS)


@dataclass(frozen=True, slots=True)
class Opening:
    """How a conversation starts: its content style, title, first user message, subject."""

    style: str
    title: str | None
    first: str
    subject: str


@dataclass(slots=True)
class Plan:
    """One session to write: its row, and the recipe of its messages."""

    row: dict[str, object]
    opening: Opening
    started_at: float
    last_at: float
    count: int
    kind: str
    # Listed as a row of its own (not a compressed-away segment, not a subagent).
    top: bool = True
    # Messages 1..inactive are compacted-away history (active=0), not in message_count.
    inactive: int = 0


def windows(now: float) -> tuple[tuple[float, float], ...]:
    """The sidebar's date groups in local time: Today, Yesterday, Previous 7 days, Older."""
    today = datetime.fromtimestamp(now).date()

    def midnight(days_ago: int) -> float:
        return datetime.combine(today - timedelta(days=days_ago), datetime.min.time()).timestamp()

    return (
        (midnight(0), now),
        (midnight(1), midnight(0)),
        (midnight(7), midnight(1)),
        (now - HISTORY_DAYS * DAY, midnight(7)),
    )


class Draws:
    """One profile's random draws, and the single sessions built from them.

    Every draw comes from ``rng`` in the order the planner asks, so a seed gives one home.
    """

    def __init__(self, rng: random.Random, profile: str, now: float, per_session: int | None):
        self.rng = rng
        self.profile = profile
        self.now = now
        self.per_session = per_session
        self.windows = windows(now)
        # The first four groups land in Today, Yesterday, Previous 7 days and Older, in turn.
        self.first_windows = rng.sample(range(4), 4)
        self.ids: set[str] = set()
        self.titles: set[str] = set()

    # -- small draws -------------------------------------------------------------------------

    def new_id(self, started_at: float, hex_digits: int) -> str:
        while True:
            suffix = f"{self.rng.getrandbits(4 * hex_digits):0{hex_digits}x}"
            session_id = agentschema.new_session_id(started_at, suffix)
            if session_id not in self.ids:
                self.ids.add(session_id)
                return session_id

    def unique_title(self, title: str) -> str:
        candidate, n = title[:100], 2
        while candidate in self.titles:
            candidate, n = f"{title[:90]} ({n})", n + 1
        self.titles.add(candidate)
        return candidate

    def anchor(self, index: int) -> float:
        """The newest activity of the ``index``-th group."""
        lo, hi = (
            self.windows[self.first_windows[index]]
            if index < 4
            else self.rng.choices(self.windows, weights=(8, 6, 20, 66))[0]
        )
        if (lo, hi) == self.windows[3]:
            # Denser towards the present inside the long tail too.
            return hi - (hi - lo) * math.pow(self.rng.random(), 1.6)
        return self.rng.uniform(lo, max(lo, hi - 1.0))

    def opening(
        self, source: str, style: str | None = None, *, titled: bool | None = None
    ) -> Opening:
        """A new conversation's start; ``titled`` None lets the source decide how likely."""
        rng = self.rng
        if source in FIRST_MESSAGES:
            return Opening("task", None, rng.choice(FIRST_MESSAGES[source]), "the request")
        if style is None:
            odds = 1.0 if source in INTERACTIVE else 0.6 if source == "webui" else 0.0
            style = "work" if rng.random() < odds else "casual" if rng.random() < 0.6 else "life"
        if style == "casual":
            # Quick requests in a chat: nobody titles them, the first message says it all.
            return Opening(style, None, rng.choice(CASUAL), "your request")
        work = style == "work"
        (title_tpl, first_tpl) = rng.choice(WORK_TASKS if work else LIFE_TASKS)
        subject = rng.choice(WORK_SUBJECTS if work else LIFE_SUBJECTS)
        qualifier = rng.choice(QUALIFIERS if work else LIFE_QUALIFIERS)
        title, first = title_tpl.format(s=subject) + qualifier, first_tpl.format(s=subject)
        if titled is None:
            titled = rng.random() < TITLED.get(source, 0.35)
        return Opening(style, self.unique_title(title) if titled else None, first, subject)

    def message_count(self, style: str) -> int:
        rng = self.rng
        if self.per_session is not None:
            return round(self.per_session * rng.uniform(0.8, 1.2)) if self.per_session else 0
        if style in ("cron", "task"):
            return rng.randint(2, 5)
        mean = 11.0 if style == "casual" else 15.0
        return min(300, max(1, round(rng.lognormvariate(math.log(mean) - 0.4, 0.9))))

    def duration(self, count: int) -> float:
        return sum(self.rng.uniform(15.0, 240.0) for _ in range(max(count, 1)))

    def usage(self, count: int) -> dict[str, object]:
        rng = self.rng
        name, price_in, price_out, _ = rng.choices(MODELS, weights=[m[3] for m in MODELS])[0]
        turns = (count + 1) // 2
        tokens_in, tokens_out = turns * rng.randint(1_500, 9_000), turns * rng.randint(120, 800)
        cost = round((tokens_in * price_in + tokens_out * price_out) / 1e6, 6)
        reasoning = "gpt-5" in name or "opus" in name
        return {
            "model": name,
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "cache_read_tokens": int(tokens_in * rng.uniform(0.2, 0.8)),
            "cache_write_tokens": int(tokens_in * rng.uniform(0.01, 0.1)),
            "reasoning_tokens": int(tokens_out * rng.uniform(0.1, 0.6)) if reasoning else 0,
            "estimated_cost_usd": cost,
            "actual_cost_usd": round(cost * rng.uniform(0.85, 1.0), 6)
            if rng.random() < 0.4
            else None,
        }

    def model_config(self, **markers: str) -> str:
        config: dict[str, object] = {
            "max_tokens": self.rng.choice((4096, 8192, 16384)),
            "temperature": self.rng.choice((0.2, 0.7, 1.0)),
            **markers,
        }
        return json.dumps(config, sort_keys=True)

    def context(self, source: str) -> dict[str, object]:
        """Where a session runs: a workspace for terminals, a chat for messaging platforms."""
        if source in MESSAGING:
            return self.chat(source)
        if source in ("cli", "tui", "acp"):
            root = f"/home/dana/src/{self.rng.choice(REPOS)}"
            branch = None if source == "acp" else self.rng.choice(BRANCHES)
            return {"cwd": root, "git_repo_root": branch and root, "git_branch": branch}
        return {"cwd": "/home/dana"} if source == "desktop" else {}

    def chat(self, platform: str) -> dict[str, object]:
        rng = self.rng
        chat_type = rng.choices(("dm", "group", "channel"), weights=(6, 3, 1))[0]
        number = rng.randint(10**9, 10**10)
        chat_id = {
            "telegram": f"-100{number}" if chat_type != "dm" else str(number),
            "discord": str(number * 10**8 + rng.randint(0, 10**8)),
            "slack": f"{'D' if chat_type == 'dm' else 'C'}0{number:X}",
            "whatsapp": f"49{number}@s.whatsapp.net",
            "signal": f"+49{number}",
            "matrix": f"!{number:x}:matrix.org",
        }.get(platform, f"{rng.choice(REPOS)}-{number % 1000}@example.com")
        threaded = platform in ("slack", "discord") and rng.random() < 0.3
        thread = str(rng.randint(10**5, 10**6)) if threaded else None
        name, user_id = rng.choice(PEOPLE), f"u{rng.getrandbits(32):08x}"
        origin = {"platform": platform, "chat_id": chat_id, "user_id": user_id, "user_name": name}
        key = f"agent:main:{platform}:{chat_type}:{chat_id}" + (f":{thread}" if thread else "")
        return {
            **{"user_id": user_id, "chat_id": chat_id, "chat_type": chat_type},
            **{"thread_id": thread, "display_name": name, "session_key": key},
            "origin_json": json.dumps(origin, sort_keys=True),
        }

    # -- one session -------------------------------------------------------------------------

    def plan(
        self,
        source: str,
        opening: Opening,
        *,
        kind: str,
        last_at: float | None = None,
        started_at: float | None = None,
        session_id: str | None = None,
        extra: dict[str, object] | None = None,
        least: int = 0,
    ) -> Plan:
        """One session ending at ``last_at`` or starting at ``started_at`` (or both given)."""
        rng, count = self.rng, self.message_count(opening.style)
        if self.per_session is None:
            count = max(count, least)
        span = self.duration(count) if count else 0.0
        if started_at is None:
            started_at = (self.now if last_at is None else last_at) - span
        if last_at is None or not count:
            last_at = min(self.now, started_at + span)
        gateway = source in MESSAGING
        row: dict[str, object] = dict.fromkeys(SESSION_NAMES)
        row.update(
            id=session_id or self.new_id(started_at, 8 if gateway else 6),
            source=source,
            created_source="gateway" if gateway else source,
            profile_name=self.profile,
            model_config=self.model_config(),
            started_at=started_at,
            # A heartbeat: sometimes a little behind the newest message.
            last_activity_at=max(started_at, last_at - rng.choice((0.0, 0.0, 0.0, 45.0))),
            title=opening.title,
            title_source=None if opening.title is None else rng.choice(("llm", "llm", "user")),
            **dict.fromkeys(("rewind_count", "archived", "pinned", "hidden"), 0),
        )
        row.update(self.usage(count))
        if source in ("webui", "desktop") and count:
            row["last_read_at"] = last_at - rng.choice((0.0, 0.0, 0.0, 120.0, 3600.0))
        row.update(self.context(source) if extra is None else extra)
        return Plan(row, opening, started_at, last_at, count, kind)

    def end(self, plan: Plan) -> None:
        """How a session without lineage ends: recent ones are often still open."""
        rng, source = self.rng, str(plan.row["source"])
        still_open = 0.7 if source == "webui" else 0.5
        if self.now - plan.last_at < 3 * 3600 and rng.random() < still_open:
            return
        reason = rng.choice(("idle", "daily")) if source in MESSAGING else None
        reason = reason or END_REASONS.get(source, "agent_close")
        ended_at = min(self.now, plan.last_at + rng.uniform(1.0, 600.0))
        plan.row.update(ended_at=ended_at, end_reason=reason)
