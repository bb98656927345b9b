"""Shapes of session history: singles, chains, branches, delegations, conversations, cron runs.

Each shape takes the profile's ``Draws`` and an anchor (its newest activity) and returns its
sessions, their lineage columns set as the agent would have set them.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from types import MappingProxyType

from webui.demo.draws import Draws, Opening, Plan
from webui.demo.surfaces import DAY, END_REASONS, HISTORY_DAYS, MESSAGING
from webui.demo.text import CRON_JOBS


def single(draws: Draws, source: str, anchor: float) -> list[Plan]:
    """A session on its own, its newest activity at ``anchor``."""
    plan = draws.plan(source, draws.opening(source), kind="single", last_at=anchor)
    draws.end(plan)
    return [plan]


def chain(draws: Draws, source: str, anchor: float) -> list[Plan]:
    """A compression chain: each segment ended 'compression' and continues in the next."""
    # Long enough to compress means topical and long enough to have been titled.
    style = "life" if source in MESSAGING else "work"
    opening, context = draws.opening(source, style, titled=True), draws.context(source)
    plans: list[Plan] = []
    last_at = anchor
    for segment in range(draws.rng.randint(2, 4), 0, -1):
        if segment > 1:
            title = draws.unique_title(f"{opening.title} #{segment}")
            summary = f"[Summary of the conversation so far] {opening.first}"
        part = opening if segment == 1 else replace(opening, title=title, first=summary)
        # Compressed segments (all but the newest) were long enough to fill the context.
        least = 12 if plans else 0
        plan = draws.plan(source, part, kind="chain", last_at=last_at, extra=context, least=least)
        plans.append(plan)
        last_at = plan.started_at - draws.rng.uniform(0.5, 3.0)
    plans.reverse()
    for parent, child in itertools.pairwise(plans):
        child.row["parent_session_id"] = parent.row["id"]
        parent.row.update(ended_at=parent.last_at + 0.2, end_reason="compression")
        parent.top = False
    draws.end(plans[-1])
    return plans


def branch(draws: Draws, source: str, anchor: float) -> list[Plan]:
    """A session and a branch of it, marked ``_branched_from``, started after it ended."""
    rng = draws.rng
    opening, context = draws.opening(source, "work", titled=True), draws.context(source)
    branch_title = draws.unique_title(f"{opening.title} (branch)") if rng.random() < 0.7 else None
    child = draws.plan(
        source,
        replace(opening, title=branch_title),
        kind="branch",
        last_at=anchor,
        extra=context,
    )
    parent_last = child.started_at - rng.uniform(30.0, 7200.0)
    parent = draws.plan(source, opening, kind="branch", last_at=parent_last, extra=context)
    parent_id = str(parent.row["id"])
    reason = "branched" if rng.random() < 0.6 else END_REASONS.get(source, "agent_close")
    parent.row.update(ended_at=parent.last_at + 5.0, end_reason=reason)
    marker = draws.model_config(_branched_from=parent_id)
    child.row.update(parent_session_id=parent_id, model_config=marker)
    draws.end(child)
    return [parent, child]


def delegation(draws: Draws, source: str, anchor: float) -> list[Plan]:
    """A session that delegated to subagents: hidden children inside its time span."""
    rng = draws.rng
    parent = draws.plan(source, draws.opening(source, "work"), kind="delegation", last_at=anchor)
    draws.end(parent)
    parent_id, subject = str(parent.row["id"]), parent.opening.subject
    task = f"Subagent task: research {subject} and report back in five bullets."
    plans = [parent]
    for n in range(rng.randint(1, 3)):
        # Children say so in their source, but some carry only the marker.
        child_source = "subagent" if n == 0 or rng.random() < 0.5 else source
        last_at = rng.uniform(parent.started_at + 1.0, parent.last_at)
        child = draws.plan(
            child_source,
            Opening("work", None, task, subject),
            kind="subagent",
            started_at=rng.uniform(parent.started_at, last_at),
            last_at=last_at,
            extra={},
        )
        child.row.update(
            parent_session_id=parent_id,
            model_config=draws.model_config(_delegate_from=parent_id),
            ended_at=min(draws.now, child.last_at + 1.0),
            end_reason="agent_close",
        )
        child.top = False
        plans.append(child)
    return plans


def conversation(draws: Draws, platform: str, anchor: float) -> list[Plan]:
    """One messaging chat over several sessions: the older ones were reset or expired."""
    chat, floor = draws.chat(platform), draws.now - HISTORY_DAYS * DAY
    plans: list[Plan] = []
    last_at = anchor
    for _ in range(draws.rng.randint(2, 5)):
        plan = draws.plan(
            platform, draws.opening(platform), kind="conversation", last_at=last_at, extra=chat
        )
        plans.append(plan)
        last_at = plan.started_at - draws.rng.uniform(0.3, 6.0) * DAY
        if last_at < floor and len(plans) >= 2:
            break
    plans.reverse()
    for older, newer in itertools.pairwise(plans):
        reset(draws, older, newer)
    draws.end(plans[-1])
    return plans


def reset(draws: Draws, older: Plan, newer: Plan) -> None:
    """End ``older`` by /new, idle or daily expiry; ``newer`` may name it as ``_reset_from``."""
    reason = draws.rng.choice(("session_reset", "idle", "daily"))
    expiry = 0.0 if reason == "session_reset" else draws.rng.uniform(1.0, 24.0) * 3600
    ended_at = min(older.last_at + expiry + 1.0, newer.started_at - 1.0)
    older.row.update(ended_at=ended_at, end_reason=reason)
    if draws.rng.random() < 0.5:
        older_id = str(older.row["id"])
        marker = draws.model_config(_reset_from=older_id)
        newer.row.update(parent_session_id=older_id, model_config=marker)


def cron(draws: Draws, _source: str, anchor: float) -> list[Plan]:
    """Runs of one cron job on its schedule, the newest just before ``anchor``."""
    rng = draws.rng
    name, prompt, interval = rng.choice(CRON_JOBS)
    job, runs = f"{rng.getrandbits(48):012x}", rng.randint(3, 8)
    # Every run stays inside the history window, however early the anchor.
    earliest = draws.now - HISTORY_DAYS * DAY + (runs - 1) * interval
    newest = max(anchor, earliest) - rng.uniform(60.0, 300.0)
    plans: list[Plan] = []
    for run in range(runs):
        start = newest - run * interval + rng.uniform(0.0, 30.0)
        session_id = f"cron_{job}_{time.strftime('%Y%m%d_%H%M%S', time.gmtime(start))}"
        if session_id in draws.ids:
            break
        draws.ids.add(session_id)
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(start))
        opening = Opening("cron", draws.unique_title(f"{name} ({when})"), prompt, name)
        plan = draws.plan(
            "cron", opening, kind="cron", started_at=start, session_id=session_id, extra={}
        )
        ended_at = min(draws.now, plan.last_at + 1.0)
        config = draws.model_config(cron_job_id=job)
        plan.row.update(ended_at=ended_at, end_reason="cron_complete", model_config=config)
        plans.append(plan)
    plans.reverse()
    return plans


Shape = Callable[[Draws, str, float], list[Plan]]
# By group kind; each is called with the group's source and anchor.
SHAPES: Mapping[str, Shape] = MappingProxyType(
    {
        "single": single,
        "chain": chain,
        "branch": branch,
        "delegation": delegation,
        "conversation": conversation,
        "cron": cron,
    }
)
