"""A realistic demo home: several profiles of agent ``state.db`` files full of plausible history.

Every surface the agent has (web UI, terminals, messaging gateways, cron, webhooks, the API
server, subagents, internal tools) appears, with the lineage the sidebar must understand:
compression chains, branches, delegations, messaging conversations that were reset, cron runs.
Activity spreads over the ~90 days before ``now``, denser towards the present, so every date
group of the sidebar (in the local time zone) is populated. The same ``seed`` and ``now`` give
the same databases.

Rows are planned first (cheap Python), then written in chunks with ``executemany`` inside large
transactions under ``synchronous=OFF``. The agent's FTS5 triggers stay, so message inserts cost
what they cost the agent.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Never

from tqdm import tqdm

from webui import agentschema

DAY = 86_400.0
HISTORY_DAYS = 90
CHUNK_SESSIONS = 500
# The upgraded profile reached v30 this long ago: older rows lack what v22/v30 agents stamp.
UPGRADE_AGE = 45 * DAY

MESSAGING = ("telegram", "discord", "slack", "whatsapp", "signal", "matrix", "email")
INTERACTIVE = ("cli", "tui", "desktop", "acp")
INTERNAL = ("kanban", "tool", "oneshot")
ALL_SOURCES = (
    *("webui", *INTERACTIVE, *MESSAGING),
    *("api_server", "webhook", "cron", "subagent", *INTERNAL),
)


def _pool(text: str) -> tuple[str, ...]:
    """A word list written compactly: entries separated by ``|``, line breaks ignored."""
    return tuple(text.replace("\n", "").split("|"))


# (model, USD per million input tokens, per million output tokens, weight)
MODELS = (
    ("anthropic/claude-sonnet-4", 3.0, 15.0, 30),
    ("anthropic/claude-opus-4.1", 15.0, 75.0, 5),
    ("openai/gpt-5", 1.25, 10.0, 15),
    ("openai/gpt-5-mini", 0.25, 2.0, 10),
    ("google/gemini-2.5-pro", 1.25, 10.0, 10),
    ("nousresearch/hermes-4-405b", 1.0, 3.0, 15),
    ("qwen/qwen3-coder", 0.4, 1.6, 8),
    ("deepseek/deepseek-chat-v3.1", 0.27, 1.1, 7),
)
# (title, first user message) with the subject as {s}.
WORK_TASKS = (
    ("Fix {s}", "Can you fix {s}? It started failing after yesterday's deploy."),
    ("Debug {s}", "Something is off with {s}: intermittent 502s in the logs. Can you dig in?"),
    ("Refactor {s}", "I want to refactor {s}, it has grown too big. Propose a plan first."),
    ("Write tests for {s}", "Please write tests for {s}. Cover the edge cases too."),
    ("Explain {s}", "Explain how {s} works, I'm new to this part of the codebase."),
    ("Review changes to {s}", "Review my changes to {s} and point out anything risky."),
    ("Speed up {s}", "Profile {s}: p95 latency doubled this week. Suggest fixes."),
    ("Document {s}", "Write a short README section for {s}, with one example."),
    ("Migrate {s}", "Help me migrate {s} to the new config format without downtime."),
    ("Add logging to {s}", "Add structured logging to {s} so we can trace one request."),
    ("Upgrade {s}", "Upgrade the dependencies of {s} and fix whatever breaks."),
    ("Design {s}", "Sketch a design for {s}; it has to handle ten times today's load."),
)
WORK_SUBJECTS = _pool(
    "the auth middleware|the billing cron job|the Postgres connection pool|the CSV importer|"
    "the login page|the search index|the rate limiter|the webhook handler|the Docker build|"
    "the CI pipeline|the payment retry logic|the session cache|the image resizer|"
    "the email templates|the GraphQL schema|the feature flag service|the S3 uploader|"
    "the metrics exporter|the onboarding flow|the Terraform modules|the Helm chart|"
    "the push notification service|the audit log|the permissions model|the backup script|"
    "the websocket gateway|the PDF export|the job queue|the pricing page|the retention job"
)
QUALIFIERS = _pool(
    "| for v2| on staging| before the release| in the admin panel| for EU customers"
    "| after the outage| on ARM runners| in the mobile app| for the Q3 audit"
)
LIFE_QUALIFIERS = _pool("| on a budget| this weekend| next month| for beginners| with friends")
LIFE_TASKS = (
    ("Trip to {s}", "Plan a long weekend in {s} for two: trains, a museum, somewhere for dinner."),
    ("Learning {s}", "Give me a gentle introduction to {s}, with two good books to start."),
    ("Cooking {s}", "How do I make {s} for six people? I have about two hours."),
    ("Comparing {s}", "Compare {s} for me: price, reliability and what reviewers dislike."),
    ("Notes on {s}", "Summarize what I should know about {s} in ten bullet points."),
)
LIFE_SUBJECTS = _pool(
    "Lisbon|Kyoto|Edinburgh|Vienna|Porto|music theory|Rust ownership|bayesian statistics|"
    "sourdough|a vegetarian lasagne|ramen broth|e-bikes under 2000 EUR|robot vacuums|"
    "standing desks|the new tax rules|home solar panels"
)
CASUAL = _pool(
    "hey, what's on my calendar tomorrow?|remind me to call the dentist at 9|"
    "can you summarize this thread for me?|what's the weather like this weekend?|"
    "translate to German please: see you at the station at 8|"
    "add oat milk and coffee to the shopping list|did the deploy go out ok?|"
    "how many days until the conference?"
)
FOLLOW_UPS = _pool(
    "Ok, go ahead.|Can you make that shorter?|What about error handling?|"
    "Run the tests again please.|That worked, thanks! One more thing.|"
    "Hmm, I still see the same error.|Why did you choose that approach?|"
    "Let's keep the old behaviour behind a flag.|Show me the diff before you commit.|"
    "Perfect. Now update the docs too."
)
REPLIES = (
    "I looked at {s}. The problem is a race between the cache refresh and the first request; "
    "I added a lock around the refresh and a test that reproduces the original failure.",
    "Here is the plan for {s}:\n1. extract the parsing step\n2. add tests around it\n"
    "3. move the I/O to the edge. Shall I start with step 1?",
    "Done. The change to {s} is small: two files, 34 lines. All 212 tests pass locally.",
    "The logs for {s} show the timeouts started at 14:02, right after the config change. "
    "Rolling that back should fix it; I have prepared the revert.",
    "Short answer: {s} retries three times with exponential backoff, then gives up and "
    "records the failure in the audit log.",
    "I could not reproduce it with {s} on main. Could you share the exact command you ran?",
    "Good point. I kept the old behaviour for {s} behind `legacy_mode`, off by default.",
)
LIFE_REPLIES = (
    "Here is a short plan for {s}. Day one is the old town and a long lunch; day two a museum "
    "in the morning and the market in the afternoon. Want restaurant suggestions?",
    "The short version on {s}: start simple, do it often, and keep notes of what worked.",
    "I compared the options for {s}. The mid-range one wins on reliability; the cheap one has "
    "many complaints about support.",
    "Done, I added it. Anything else?",
)
TASK_REPLIES = (
    "Done. Summary: 3 items need attention, the rest is routine. Details are below.",
    "Nothing unusual this time. All checks passed.",
    "I found two issues and drafted replies for both; they are waiting for your review.",
)
REPLIES_BY_STYLE = MappingProxyType({"work": REPLIES, "life": LIFE_REPLIES, "casual": LIFE_REPLIES})
# (tool, arguments, result)
TOOL_CALLS = (
    ("terminal", '{"command": "pytest -x -q"}', "212 passed, 3 skipped in 41.2s"),
    (
        "terminal",
        '{"command": "git status --short"}',
        " M src/app/cache.py\n M tests/test_cache.py",
    ),
    ("read_file", '{"path": "src/app/config.py"}', 'import os\n\nDEFAULTS = {"timeout": 30}'),
    ("search_files", '{"pattern": "retry"}', "src/app/jobs.py:88: def retry(fn, attempts=3):"),
    ("web_search", '{"query": "sqlite busy timeout wal"}', "1. SQLite WAL mode docs\n2. ..."),
    ("patch", '{"path": "src/app/jobs.py"}', "Applied 1 hunk to src/app/jobs.py"),
)
# (name, prompt, interval in seconds)
CRON_JOBS = (
    ("Daily digest", "Summarize my unread email and today's calendar into a short digest.", DAY),
    ("Inbox triage", "Label new support emails by urgency and draft replies.", 6 * 3600.0),
    ("Backup check", "Check last night's backup logs and report anything unusual.", DAY),
    ("HN watch", "Scan the Hacker News front page for posts about SQLite or local LLMs.", 3600.0),
    ("Weekly report", "Write the weekly engineering report from merged pull requests.", 7 * DAY),
)
FIRST_MESSAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "webhook": _pool(
            "Webhook: push to main in acme/api by dana (3 commits). Summarize and flag risks.|"
            "Webhook: Sentry alert TypeError in checkout.js (412 events). Find the cause.|"
            "Webhook: Stripe invoice.payment_failed for cus_Q8. Draft the dunning email.|"
            "Webhook: issue opened in acme/web: 'Dark mode toggle resets on reload'."
        ),
        "api_server": _pool(
            "Classify this support ticket into billing, bug or feature request.|"
            "Extract the invoice number, total and due date from the attached text.|"
            "Rewrite this product description in a friendlier tone."
        ),
        "kanban": ("Kanban card: update the dependency pins in the api repo and open a PR.",),
        "tool": ("Tool run: summarize report-2025-q3.pdf into one page.",),
        "oneshot": ("hermes -z: convert 72 Fahrenheit to Celsius",),
    }
)
PEOPLE = _pool("Alice Chen|Bob Okafor|Dana Whitfield|Eva Lindqvist|Family|#ops-alerts")
REPOS = _pool("api|web|infra|mobile|dotfiles|notebooks")
BRANCHES = _pool("main|feat/rate-limit|fix/login-flake|chore/deps|spike/search")
END_REASONS = MappingProxyType({"cli": "cli_close", "tui": "tui_close", "webui": "new_session"})
TITLED = MappingProxyType({"webui": 0.8, "cli": 0.65, "tui": 0.65, "desktop": 0.7, "acp": 0.5})

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

SESSION_NAMES = tuple(c.name for c in agentschema.SESSION_COLUMNS)
MESSAGE_NAMES = _pool(
    "session_id|role|content|tool_call_id|tool_calls|tool_name|timestamp|token_count|"
    "finish_reason|active"
)
USAGE_NAMES = _pool(
    "session_id|model|api_calls|input_tokens|output_tokens|cache_read_tokens|"
    "cache_write_tokens|reasoning_tokens|estimated_cost_usd"
)


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
class _Opening:
    """How a conversation starts: its content style, title, first user message, subject."""

    style: str
    title: str | None
    first: str
    subject: str


@dataclass(slots=True)
class _Plan:
    """One session to write: its row, and the recipe of its messages."""

    row: dict[str, object]
    opening: _Opening
    started_at: float
    last_at: float
    count: int
    kind: str
    # Listed as a row of its own (not a compressed-away segment, not a subagent).
    top: bool = True
    # Messages 1..inactive are compacted-away history (active=0), not in message_count.
    inactive: int = 0


def _windows(now: float) -> tuple[tuple[float, float], ...]:
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


class _Planner:
    """Plans one profile's sessions: rows, message recipes, times, lineage and flags."""

    def __init__(self, rng: random.Random, profile: str, now: float, per_session: int | None):
        self.rng = rng
        self.profile = profile
        self.now = now
        self.per_session = per_session
        self.windows = _windows(now)
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
    ) -> _Opening:
        """A new conversation's start; ``titled`` None lets the source decide how likely."""
        rng = self.rng
        if source in FIRST_MESSAGES:
            return _Opening("task", None, rng.choice(FIRST_MESSAGES[source]), "the request")
        if style is None:
            odds = 1.0 if source in INTERACTIVE else 0.6 if source == "webui" else 0.0
            style = "work" if rng.random() < odds else "casual" if rng.random() < 0.6 else "life"
        if style == "casual":
            # Quick requests in a chat: nobody titles them, the first message says it all.
            return _Opening(style, None, rng.choice(CASUAL), "your request")
        work = style == "work"
        (title_tpl, first_tpl) = rng.choice(WORK_TASKS if work else LIFE_TASKS)
        subject = rng.choice(WORK_SUBJECTS if work else LIFE_SUBJECTS)
        qualifier = rng.choice(QUALIFIERS if work else LIFE_QUALIFIERS)
        title, first = title_tpl.format(s=subject) + qualifier, first_tpl.format(s=subject)
        if titled is None:
            titled = rng.random() < TITLED.get(source, 0.35)
        return _Opening(style, self.unique_title(title) if titled else None, first, subject)

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

    # -- sessions and their lineage ----------------------------------------------------------

    def plan(
        self,
        source: str,
        opening: _Opening,
        *,
        kind: str,
        last_at: float | None = None,
        started_at: float | None = None,
        session_id: str | None = None,
        extra: dict[str, object] | None = None,
        least: int = 0,
    ) -> _Plan:
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
        return _Plan(row, opening, started_at, last_at, count, kind)

    def end(self, plan: _Plan) -> None:
        """How a session without lineage ends: recent ones are often still open."""
        rng, source = self.rng, str(plan.row["source"])
        still_open = 0.7 if source == "webui" else 0.5
        if self.now - plan.last_at < 3 * 3600 and rng.random() < still_open:
            return
        reason = rng.choice(("idle", "daily")) if source in MESSAGING else None
        reason = reason or END_REASONS.get(source, "agent_close")
        ended_at = min(self.now, plan.last_at + rng.uniform(1.0, 600.0))
        plan.row.update(ended_at=ended_at, end_reason=reason)

    def single(self, source: str, anchor: float) -> list[_Plan]:
        plan = self.plan(source, self.opening(source), kind="single", last_at=anchor)
        self.end(plan)
        return [plan]

    def chain(self, source: str, anchor: float) -> list[_Plan]:
        """A compression chain: each segment ended 'compression' and continues in the next."""
        # Long enough to compress means topical and long enough to have been titled.
        style = "life" if source in MESSAGING else "work"
        opening, context = self.opening(source, style, titled=True), self.context(source)
        plans: list[_Plan] = []
        last_at = anchor
        for segment in range(self.rng.randint(2, 4), 0, -1):
            if segment > 1:
                title = self.unique_title(f"{opening.title} #{segment}")
                summary = f"[Summary of the conversation so far] {opening.first}"
            part = opening if segment == 1 else replace(opening, title=title, first=summary)
            # Compressed segments (all but the newest) were long enough to fill the context.
            least = 12 if plans else 0
            plan = self.plan(
                source, part, kind="chain", last_at=last_at, extra=context, least=least
            )
            plans.append(plan)
            last_at = plan.started_at - self.rng.uniform(0.5, 3.0)
        plans.reverse()
        for parent, child in itertools.pairwise(plans):
            child.row["parent_session_id"] = parent.row["id"]
            parent.row.update(ended_at=parent.last_at + 0.2, end_reason="compression")
            parent.top = False
        self.end(plans[-1])
        return plans

    def branch(self, source: str, anchor: float) -> list[_Plan]:
        """A session and a branch of it, marked ``_branched_from``, started after it ended."""
        rng = self.rng
        opening, context = self.opening(source, "work", titled=True), self.context(source)
        branch_title = (
            self.unique_title(f"{opening.title} (branch)") if rng.random() < 0.7 else None
        )
        child = self.plan(
            source,
            replace(opening, title=branch_title),
            kind="branch",
            last_at=anchor,
            extra=context,
        )
        parent_last = child.started_at - rng.uniform(30.0, 7200.0)
        parent = self.plan(source, opening, kind="branch", last_at=parent_last, extra=context)
        parent_id = str(parent.row["id"])
        reason = "branched" if rng.random() < 0.6 else END_REASONS.get(source, "agent_close")
        parent.row.update(ended_at=parent.last_at + 5.0, end_reason=reason)
        marker = self.model_config(_branched_from=parent_id)
        child.row.update(parent_session_id=parent_id, model_config=marker)
        self.end(child)
        return [parent, child]

    def delegation(self, source: str, anchor: float) -> list[_Plan]:
        """A session that delegated to subagents: hidden children inside its time span."""
        rng = self.rng
        parent = self.plan(source, self.opening(source, "work"), kind="delegation", last_at=anchor)
        self.end(parent)
        parent_id, subject = str(parent.row["id"]), parent.opening.subject
        task = f"Subagent task: research {subject} and report back in five bullets."
        plans = [parent]
        for n in range(rng.randint(1, 3)):
            # Children say so in their source, but some carry only the marker.
            child_source = "subagent" if n == 0 or rng.random() < 0.5 else source
            last_at = rng.uniform(parent.started_at + 1.0, parent.last_at)
            child = self.plan(
                child_source,
                _Opening("work", None, task, subject),
                kind="subagent",
                started_at=rng.uniform(parent.started_at, last_at),
                last_at=last_at,
                extra={},
            )
            child.row.update(
                parent_session_id=parent_id,
                model_config=self.model_config(_delegate_from=parent_id),
                ended_at=min(self.now, child.last_at + 1.0),
                end_reason="agent_close",
            )
            child.top = False
            plans.append(child)
        return plans

    def conversation(self, platform: str, anchor: float) -> list[_Plan]:
        """One messaging chat over several sessions: the older ones were reset or expired."""
        chat, floor = self.chat(platform), self.now - HISTORY_DAYS * DAY
        plans: list[_Plan] = []
        last_at = anchor
        for _ in range(self.rng.randint(2, 5)):
            plan = self.plan(
                platform, self.opening(platform), kind="conversation", last_at=last_at, extra=chat
            )
            plans.append(plan)
            last_at = plan.started_at - self.rng.uniform(0.3, 6.0) * DAY
            if last_at < floor and len(plans) >= 2:
                break
        plans.reverse()
        for older, newer in itertools.pairwise(plans):
            self.reset(older, newer)
        self.end(plans[-1])
        return plans

    def reset(self, older: _Plan, newer: _Plan) -> None:
        """End ``older`` by /new, idle or daily expiry; ``newer`` may name it as ``_reset_from``."""
        reason = self.rng.choice(("session_reset", "idle", "daily"))
        expiry = 0.0 if reason == "session_reset" else self.rng.uniform(1.0, 24.0) * 3600
        ended_at = min(older.last_at + expiry + 1.0, newer.started_at - 1.0)
        older.row.update(ended_at=ended_at, end_reason=reason)
        if self.rng.random() < 0.5:
            older_id = str(older.row["id"])
            marker = self.model_config(_reset_from=older_id)
            newer.row.update(parent_session_id=older_id, model_config=marker)

    def cron(self, _source: str, anchor: float) -> list[_Plan]:
        """Runs of one cron job on its schedule, the newest just before ``anchor``."""
        rng = self.rng
        name, prompt, interval = rng.choice(CRON_JOBS)
        job, runs = f"{rng.getrandbits(48):012x}", rng.randint(3, 8)
        # Every run stays inside the history window, however early the anchor.
        earliest = self.now - HISTORY_DAYS * DAY + (runs - 1) * interval
        newest = max(anchor, earliest) - rng.uniform(60.0, 300.0)
        plans: list[_Plan] = []
        for run in range(runs):
            start = newest - run * interval + rng.uniform(0.0, 30.0)
            session_id = f"cron_{job}_{time.strftime('%Y%m%d_%H%M%S', time.gmtime(start))}"
            if session_id in self.ids:
                break
            self.ids.add(session_id)
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(start))
            opening = _Opening("cron", self.unique_title(f"{name} ({when})"), prompt, name)
            plan = self.plan(
                "cron", opening, kind="cron", started_at=start, session_id=session_id, extra={}
            )
            ended_at = min(self.now, plan.last_at + 1.0)
            config = self.model_config(cron_job_id=job)
            plan.row.update(ended_at=ended_at, end_reason="cron_complete", model_config=config)
            plans.append(plan)
        plans.reverse()
        return plans

    # -- the whole profile -------------------------------------------------------------------

    def group(self, kind: str, family: str, anchor: float) -> list[_Plan]:
        emitters: dict[str, Callable[[str, float], list[_Plan]]] = {
            "single": self.single,
            "chain": self.chain,
            "branch": self.branch,
            "delegation": self.delegation,
            "conversation": self.conversation,
            "cron": self.cron,
        }
        return emitters[kind](self.source(family), anchor)

    def source(self, family: str) -> str:
        rng = self.rng
        if family == "interactive":
            return rng.choices(INTERACTIVE, weights=(10, 5, 3, 2))[0]
        if family == "messaging":
            return rng.choices(MESSAGING, weights=(10, 6, 6, 5, 2, 2, 2))[0]
        if family == "work":
            return rng.choices(("cli", "webui", "tui"), weights=(5, 4, 2))[0]
        return rng.choice(INTERNAL) if family == "internal" else family

    def plan_profile(self, count: int, *, upgraded: bool) -> list[_Plan]:
        """``count`` sessions, oldest first: the showcase, then random groups."""
        showcase = self.rng.sample(SHOWCASE, len(SHOWCASE))
        kinds, weights = [g[:2] for g in GROUPS], [g[2] for g in GROUPS]
        plans: list[_Plan] = []
        for index in itertools.count():
            if len(plans) >= count:
                break
            pick = showcase[index] if index < len(showcase) else None
            kind, family = pick or self.rng.choices(kinds, weights)[0]
            plans.extend(self.group(kind, family, self.anchor(index)))
        plans = plans[:count]
        self.flag(plans)
        if upgraded:
            self.predate_upgrade(plans)
        plans.sort(key=lambda p: p.started_at)
        return plans

    def flag(self, plans: list[_Plan]) -> None:
        """Pinned, archived, hidden, empty and rewound sessions, each its own set of rows."""
        rng, n = self.rng, len(plans)
        tops = [p for p in plans if p.top and p.opening.style not in ("task", "cron")]
        shuffled = rng.sample(tops, len(tops))
        start = 0
        for column, size in (("pinned", n // 60), ("archived", n // 25), ("hidden", n // 150)):
            for plan in shuffled[start : start + max(1, size)]:
                plan.row[column] = 1
            start += max(1, size)
        plain = [p for p in shuffled[start:] if p.kind == "single"]
        openable = [p for p in plain if p.row["source"] in ("webui", "cli", "tui")]
        empties = openable[: max(1, n // 50)]
        for plan in empties:
            self.empty(plan)
        rewound = [p for p in plain if p.count >= 6 and p not in empties][: max(1, n // 40)]
        for plan in rewound:
            plan.row["rewind_count"] = rng.randint(1, 3)
            plan.inactive = rng.randint(2, min(6, plan.count - 2))

    def empty(self, plan: _Plan) -> None:
        """A session opened and left without a message: no title, no usage."""
        plan.count, plan.last_at = 0, plan.started_at
        plan.row.update(self.usage(0), model=plan.row["model"], actual_cost_usd=None)
        plan.row.update(title=None, title_source=None, last_read_at=None)
        plan.row["last_activity_at"] = plan.started_at
        if plan.row["ended_at"] is not None:
            plan.row["ended_at"] = min(self.now, plan.started_at + self.rng.uniform(5.0, 300.0))

    def predate_upgrade(self, plans: list[_Plan]) -> None:
        """Rows older than the v30 upgrade lack what newer agents stamp on every session."""
        cutoff = self.now - UPGRADE_AGE
        later = ("last_activity_at", "created_source", "title_source", "last_read_at")
        for plan in plans:
            if plan.started_at < cutoff:
                plan.row.update(dict.fromkeys((*later, "session_key", "profile_name")))


# -- writing -------------------------------------------------------------------------------


def _timestamps(plan: _Plan, rng: random.Random) -> list[float]:
    """Message times after ``started_at``, irregularly spaced, the last exactly at ``last_at``."""
    gaps = [rng.uniform(0.3, 1.7) for _ in range(plan.count)]
    scale = (plan.last_at - plan.started_at) / sum(gaps)
    moments = list(itertools.accumulate((g * scale for g in gaps), initial=plan.started_at))[1:]
    moments[-1] = plan.last_at
    return moments


def _roles(count: int, rng: random.Random) -> list[str]:
    """user, assistant, user, … with some tool calls ("call", then its "tool" result)."""
    roles = ["user"]
    while len(roles) < count:
        if roles[-1] == "user" and count - len(roles) >= 3 and rng.random() < 0.3:
            roles += ["call", "tool"]
        else:
            roles.append("assistant" if roles[-1] in ("user", "tool") else "user")
    return roles[:count]


def _tool_call(rng: random.Random) -> tuple[tuple[str, str, str], str, str]:
    """(tool, call id, the assistant's ``tool_calls`` JSON) of one tool call."""
    tool, call_id = rng.choice(TOOL_CALLS), f"call_{rng.getrandbits(64):016x}"
    function = {"name": tool[0], "arguments": tool[1]}
    return tool, call_id, json.dumps([{"id": call_id, "type": "function", "function": function}])


def _messages(plan: _Plan, rng: random.Random) -> list[tuple[object, ...]]:
    """The message rows of one session, in ``MESSAGE_NAMES`` order."""
    if plan.count == 0:
        return []
    session_id, opening = plan.row["id"], plan.opening
    replies = REPLIES_BY_STYLE.get(opening.style, TASK_REPLIES)
    rows: list[tuple[object, ...]] = []
    tool, call_id = TOOL_CALLS[0], ""
    moments = _timestamps(plan, rng)
    for index, step in enumerate(_roles(plan.count, rng)):
        calls = tool_name = finish = reply_to = None
        if index == 0:
            content = opening.first
        elif step == "user":
            content = rng.choice(FOLLOW_UPS)
        elif step == "call":
            tool, call_id, calls = _tool_call(rng)
            content, finish = rng.choice(("", "Let me check.", "One moment.")), "tool_calls"
        elif step == "tool":
            content, tool_name, reply_to = tool[2], tool[0], call_id
        else:
            content, finish = rng.choice(replies).format(s=opening.subject), "stop"
        role = "assistant" if step == "call" else step
        active = int(not 0 < index <= plan.inactive)
        tokens, when = len(content) // 4 + 1, moments[index]
        rows.append(
            (session_id, role, content, reply_to, calls, tool_name, when, tokens, finish, active)
        )
    return rows


def _insert_sql(table: str, names: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"


def _write_chunk(conn: sqlite3.Connection, chunk: list[_Plan], rng: random.Random) -> int:
    """One transaction: the sessions, their messages and their usage rows."""
    sessions: list[tuple[object, ...]] = []
    messages: list[tuple[object, ...]] = []
    usage: list[tuple[object, ...]] = []
    for plan in chunk:
        rows = _messages(plan, rng)
        row = plan.row
        # Final counts as the agent's per-message bumps would have left them.
        row["message_count"] = plan.count - plan.inactive
        row["tool_call_count"] = sum(1 for r in rows if r[1] == "tool")
        sessions.append(tuple(row[name] for name in SESSION_NAMES))
        messages.extend(rows)
        if rows:
            calls = (plan.count + 1) // 2
            usage.append((row["id"], row["model"], calls, *(row[n] for n in USAGE_NAMES[3:])))
    with agentschema.write_transaction(conn):
        conn.executemany(_insert_sql("sessions", SESSION_NAMES), sessions)
        conn.executemany(_insert_sql("messages", MESSAGE_NAMES), messages)
        conn.executemany(_insert_sql("session_model_usage", USAGE_NAMES), usage)
    return len(messages)


def _write_profile(path: Path, plans: list[_Plan], rng: random.Random, bar: tqdm[Never]) -> int:
    conn = agentschema.open_writer(path)
    written = 0
    try:
        # Only while generating: a crash leaves a demo to delete, not data to lose.
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        for start in range(0, len(plans), CHUNK_SESSIONS):
            chunk = plans[start : start + CHUNK_SESSIONS]
            written += _write_chunk(conn, chunk, rng)
            bar.update(len(chunk))
        conn.execute("PRAGMA synchronous = NORMAL")
        # Hand over the content in the main file, as a quiet agent leaves it.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()
    return written


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
    planner = _Planner(rng, spec.name, options.now, options.per_session)
    plans = planner.plan_profile(options.sessions, upgraded=spec.upgraded)
    path, version = profile_db_path(home, spec.name), agentschema.LATEST_VERSION
    agentschema.create_state_db(
        path, version=version, journal_mode=spec.journal_mode, upgraded=spec.upgraded
    )
    bar.set_description(spec.name)
    messages = _write_profile(path, plans, rng, bar)
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
) -> DemoSummary:
    """Create a demo home of ``profiles`` profiles with ``sessions`` sessions each.

    ``messages_per_session`` None gives a realistic spread averaging about 12; an int gives
    about that many each. Refuses (``ValueError``) a home that already has a ``state.db`` it
    would create.
    """
    if profiles < 1 or sessions < 0:
        raise ValueError("profiles must be at least 1 and sessions at least 0")
    if messages_per_session is not None and messages_per_session < 0:
        raise ValueError("messages_per_session must be at least 0")
    specs = profile_specs(profiles)
    taken = [p for p in (profile_db_path(home, s.name) for s in specs) if p.exists()]
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
    return DemoSummary(home, summaries)
