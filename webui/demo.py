"""A realistic demo home: several profiles of agent ``state.db`` files full of plausible history.

Every surface the agent has (web UI, terminals, messaging gateways, cron, webhooks, the API
server, subagents, internal tools) appears, with the lineage the sidebar must understand:
compression chains, branches, delegations, messaging conversations that were reset, cron runs.
Activity spreads over the ~90 days before ``now``, denser towards the present, so every date
group of the sidebar is populated. The same ``seed`` and ``now`` give the same databases.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

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
ALL_SOURCES = ("webui", *INTERACTIVE, *MESSAGING, "api_server", "webhook", "cron", "subagent")
ALL_SOURCES += INTERNAL


def _pool(text: str) -> tuple[str, ...]:
    """A word list written compactly: entries separated by ``|``, line breaks ignored."""
    return tuple(item.strip() for item in text.replace("\n", "").split("|"))


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
REPLIES_BY_STYLE = {"work": REPLIES, "life": LIFE_REPLIES, "casual": LIFE_REPLIES}
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
FIRST_MESSAGES = {
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
PEOPLE = _pool("Alice Chen|Bob Okafor|Dana Whitfield|Eva Lindqvist|Family|#ops-alerts")
REPOS = _pool("api|web|infra|mobile|dotfiles|notebooks")
BRANCHES = _pool("main|feat/rate-limit|fix/login-flake|chore/deps|spike/search")
END_REASONS = {"cli": "cli_close", "tui": "tui_close", "webui": "new_session"}
TITLED = {"webui": 0.8, "cli": 0.65, "tui": 0.65, "desktop": 0.7, "acp": 0.5}

# Group kinds: (kind, source or source family, weight) for the random part of a profile.
GROUPS = (
    ("single", "webui", 16),
    ("single", "interactive", 20),
    ("chain", "work", 5),
    ("branch", "work", 3),
    ("delegation", "work", 4),
    ("conversation", "messaging", 10),
    ("single", "messaging", 7),
    ("chain", "messaging", 1),
    ("cron", "cron", 4),
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
            return hi - (hi - lo) * self.rng.random() ** 1.6
        return self.rng.uniform(lo, max(lo, hi - 1.0))

    def opening(self, source: str, style: str | None = None) -> _Opening:
        rng = self.rng
        if source in FIRST_MESSAGES:
            return _Opening("task", None, rng.choice(FIRST_MESSAGES[source]), "the request")
        if style is None:
            work = 1.0 if source in INTERACTIVE else 0.6 if source == "webui" else 0.0
            style = "work" if rng.random() < work else "casual" if rng.random() < 0.6 else "life"
        if style == "casual":
            text = rng.choice(CASUAL)
            title, first, subject = text.rstrip("?").capitalize(), text, "your request"
        else:
            tasks, subjects = (
                (WORK_TASKS, WORK_SUBJECTS) if style == "work" else (LIFE_TASKS, LIFE_SUBJECTS)
            )
            (title_tpl, first_tpl), subject = rng.choice(tasks), rng.choice(subjects)
            qualifier = rng.choice(QUALIFIERS) if style == "work" else ""
            title, first = title_tpl.format(s=subject) + qualifier, first_tpl.format(s=subject)
        titled = rng.random() < TITLED.get(source, 0.35)
        return _Opening(style, self.unique_title(title) if titled else None, first, subject)

    def message_count(self, style: str) -> int:
        rng = self.rng
        if self.per_session is not None:
            return round(self.per_session * rng.uniform(0.8, 1.2)) if self.per_session else 0
        if style in ("cron", "task"):
            return rng.randint(2, 5)
        mean = 10.0 if style == "casual" else 13.0
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
