"""Writes planned sessions into a profile's ``state.db``: messages made up, rows in chunks.

Rows are written with ``executemany`` inside large transactions under ``synchronous=OFF``. The
agent's FTS5 triggers stay, so message inserts cost what they cost the agent.
"""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Never

from tqdm import tqdm

from webui.agentdb import schema as agentschema
from webui.demo.draws import SESSION_NAMES, Plan
from webui.demo.text import FOLLOW_UPS, REPLIES_BY_STYLE, TASK_REPLIES, TOOL_CALLS, pool

CHUNK_SESSIONS = 500
MESSAGE_NAMES = pool(
    "session_id|role|content|tool_call_id|tool_calls|tool_name|timestamp|token_count|"
    "finish_reason|active"
)
USAGE_NAMES = pool(
    "session_id|model|api_calls|input_tokens|output_tokens|cache_read_tokens|"
    "cache_write_tokens|reasoning_tokens|estimated_cost_usd"
)


def _timestamps(plan: Plan, rng: random.Random) -> list[float]:
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


def _messages(plan: Plan, rng: random.Random) -> list[tuple[object, ...]]:
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


def _write_chunk(conn: sqlite3.Connection, chunk: list[Plan], rng: random.Random) -> int:
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


def write_profile(path: Path, plans: list[Plan], rng: random.Random, bar: tqdm[Never]) -> int:
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
