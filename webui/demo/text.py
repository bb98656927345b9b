"""The demo's canned content: models, tasks, subjects, replies, tool calls, cron jobs, chats.

Sessions are assembled from these pools, so their text reads like real use without any of it
being real. Subjects recur across sessions (in titles, first messages and replies) at the rate
a topic recurs in real use, a few percent each, and several share phrases ("connection pool",
"rate limit", "docker compose", "flaky"), so content search has something worth finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from webui.demo.surfaces import DAY


def pool(text: str) -> tuple[str, ...]:
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
WORK_SUBJECTS = pool(
    "the auth middleware|the billing cron job|the Postgres connection pool|the CSV importer|"
    "the login page|the search index|the rate limiter|the webhook handler|the Docker build|"
    "the CI pipeline|the payment retry logic|the session cache|the image resizer|"
    "the email templates|the GraphQL schema|the feature flag service|the S3 uploader|"
    "the metrics exporter|the onboarding flow|the Terraform modules|the Helm chart|"
    "the push notification service|the audit log|the permissions model|the backup script|"
    "the websocket gateway|the PDF export|the job queue|the pricing page|the retention job|"
    "the flaky integration tests|the docker compose setup|the API rate limit|"
    "the Redis connection pool|the memory leak in the worker"
)
QUALIFIERS = pool(
    "| for v2| on staging| before the release| in the admin panel| for EU customers"
    "| after the outage| on ARM runners| in the mobile app| for the Q3 audit"
)
LIFE_QUALIFIERS = pool("| on a budget| this weekend| next month| for beginners| with friends")
LIFE_TASKS = (
    ("Trip to {s}", "Plan a long weekend in {s} for two: trains, a museum, somewhere for dinner."),
    ("Learning {s}", "Give me a gentle introduction to {s}, with two good books to start."),
    ("Cooking {s}", "How do I make {s} for six people? I have about two hours."),
    ("Comparing {s}", "Compare {s} for me: price, reliability and what reviewers dislike."),
    ("Notes on {s}", "Summarize what I should know about {s} in ten bullet points."),
)
LIFE_SUBJECTS = pool(
    "Lisbon|Kyoto|Edinburgh|Vienna|Porto|music theory|Rust ownership|bayesian statistics|"
    "sourdough|a vegetarian lasagne|ramen broth|e-bikes under 2000 EUR|robot vacuums|"
    "standing desks|the new tax rules|home solar panels"
)
CASUAL = pool(
    "hey, what's on my calendar tomorrow?|remind me to call the dentist at 9|"
    "can you summarize this thread for me?|what's the weather like this weekend?|"
    "translate to German please: see you at the station at 8|"
    "add oat milk and coffee to the shopping list|did the deploy go out ok?|"
    "how many days until the conference?"
)
FOLLOW_UPS = pool(
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
        "webhook": pool(
            "Webhook: push to main in acme/api by dana (3 commits). Summarize and flag risks.|"
            "Webhook: Sentry alert TypeError in checkout.js (412 events). Find the cause.|"
            "Webhook: Stripe invoice.payment_failed for cus_Q8. Draft the dunning email.|"
            "Webhook: issue opened in acme/web: 'Dark mode toggle resets on reload'."
        ),
        "api_server": pool(
            "Classify this support ticket into billing, bug or feature request.|"
            "Extract the invoice number, total and due date from the attached text.|"
            "Rewrite this product description in a friendlier tone."
        ),
        "kanban": ("Kanban card: update the dependency pins in the api repo and open a PR.",),
        "tool": ("Tool run: summarize report-2025-q3.pdf into one page.",),
        "oneshot": ("hermes -z: convert 72 Fahrenheit to Celsius",),
    }
)
PEOPLE = pool("Alice Chen|Bob Okafor|Dana Whitfield|Eva Lindqvist|Family|#ops-alerts")
REPOS = pool("api|web|infra|mobile|dotfiles|notebooks")
BRANCHES = pool("main|feat/rate-limit|fix/login-flake|chore/deps|spike/search")
