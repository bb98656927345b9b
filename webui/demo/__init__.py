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

Modules: ``surfaces`` (sources and history span), ``text`` (canned content), ``draws`` (one
profile's random draws and single sessions), ``lineage`` (chains, branches, delegations,
conversations, cron runs), ``planner`` (a whole profile, with its flags), ``writer`` (rows into
``state.db``), ``home`` (profiles and ``build_demo_home``).
"""

from webui.demo.home import (
    DemoSummary,
    ProfileSpec,
    ProfileSummary,
    build_demo_home,
    profile_db_path,
    profile_specs,
)
from webui.demo.surfaces import ALL_SOURCES, INTERACTIVE, INTERNAL, MESSAGING

__all__ = [
    "ALL_SOURCES",
    "INTERACTIVE",
    "INTERNAL",
    "MESSAGING",
    "DemoSummary",
    "ProfileSpec",
    "ProfileSummary",
    "build_demo_home",
    "profile_db_path",
    "profile_specs",
]
