"""The records every session source yields and the list core reads: source-neutral values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple


class SessionRecord(NamedTuple):
    """One session as the list needs it, with its newest message time and preview.

    Every session source produces these (the agent's ``state.db`` builds them straight from
    SQL rows, with values coerced in SQL, so reading 10,000 sessions costs no per-field
    Python work); the list rules read nothing else.
    """

    id: str
    source: str
    title: str | None
    model: str | None
    model_config: str | None
    parent_session_id: str | None
    started_at: float | None
    ended_at: float | None
    end_reason: str | None
    message_count: int
    input_tokens: int
    output_tokens: int
    estimated_cost_usd: float | None
    archived: bool
    pinned: bool
    hidden: bool
    session_key: str | None
    chat_id: str | None
    thread_id: str | None
    last_activity_at: float | None
    last_message_at: float | None
    preview: str | None
    # Where the session ran: set by sources that know it (Claude Code), else None.
    cwd: str | None = None
    git_branch: str | None = None


@dataclass(frozen=True, slots=True)
class RecordChanges:
    """What a session source changed since the previous read: the index applies it.

    ``full`` says ``upserted`` holds every session of the source (the first read, or one after
    the source lost track) and anything missing from it is gone; otherwise ``upserted`` holds
    the sessions that are new or changed and ``removed`` the ids that disappeared.
    """

    full: bool
    upserted: dict[str, SessionRecord]
    removed: frozenset[str]


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    role: str | None
    content: str | None
    timestamp: float | None


def as_time(value: object) -> float | None:
    """Epoch seconds, or None for anything that is not a finite number (old text timestamps)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) and number > 0 else None
