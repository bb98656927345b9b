"""The list rules of one profile, as a pure function of its records and the web UI's overrides.

Lineage (compression chains collapse, subagents hide), source kinds and gates, messaging
de-duplication, zero-message rows, archived / hidden / tombstoned rows and the counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, NotRequired, TypedDict

from webui.claudecode.source import project_of
from webui.records import SessionRecord
from webui.sessions.kinds import CLAUDE_CODE, source_kind, source_label
from webui.sessions.query import ListFlags
from webui.state.webuidb import Override

TITLE_PREVIEW_CHARS = 60
COUNT_KINDS = ("webui", "cli", "messaging", "cron", "webhook", CLAUDE_CODE)
_GATES = {
    "cli": "show_cli",
    "cron": "show_cron",
    "webhook": "show_webhook",
    CLAUDE_CODE: "show_claude_code",
}
HIDDEN_KINDS = frozenset({"subagent", "internal"})


class SessionRow(TypedDict):
    session_id: str
    title: str
    profile: str
    source: str
    source_kind: str
    source_label: str
    created_at: float | None
    updated_at: float | None
    last_message_at: float | None
    message_count: int
    model: str | None
    parent_session_id: str | None
    ended_at: float | None
    end_reason: str | None
    pinned: bool
    archived: bool
    input_tokens: int
    output_tokens: int
    estimated_cost_usd: float | None
    is_streaming: bool
    active_stream_id: str | None
    has_pending_user_message: bool
    pending_started_at: float | None
    # Only on rows of sources that know where a session ran (Claude Code).
    project: NotRequired[str | None]
    git_branch: NotRequired[str | None]


@dataclass(slots=True)
class ListedRow:
    row: SessionRow
    kind: str
    activity: float | None
    pinned: bool
    archived: bool
    search: str
    conversation: tuple[str, ...] | None = None
    older: tuple[str, ...] = ()  # the chain's earlier segments, oldest first


@dataclass
class ProfileListing:
    rows: list[ListedRow] = field(default_factory=list)
    empty: list[ListedRow] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def activity_of(row: SessionRow) -> float | None:
    """First non-empty of last_message_at, updated_at, created_at (not the largest)."""
    for name in ("last_message_at", "updated_at", "created_at"):
        value = row[name]
        if isinstance(value, float):
            return value
    return None


def _markers(model_config: str | None) -> frozenset[str]:
    # Most configs carry no lineage marker: a substring test spares a JSON parse per row.
    if not model_config or "_from" not in model_config:
        return frozenset()
    return frozenset(
        m for m in ("_branched_from", "_delegate_from", "_reset_from") if f'"{m}"' in model_config
    )


def _continuations(by_id: Mapping[str, SessionRecord]) -> dict[str, str]:
    """parent id -> its compression continuation (the latest started, if several)."""
    following: dict[str, SessionRecord] = {}
    for record in by_id.values():
        parent = by_id.get(record.parent_session_id or "")
        if parent is None or parent.end_reason != "compression" or record.source == "tool":
            continue
        if _markers(record.model_config) & {"_branched_from", "_delegate_from"}:
            continue
        current = following.get(parent.id)
        # The latest started wins; equal starts settle by id, whatever order rows came in.
        if current is None or (record.started_at or 0.0, record.id) > (
            current.started_at or 0.0,
            current.id,
        ):
            following[parent.id] = record
    return {parent: child.id for parent, child in following.items()}


def chains(records: Sequence[SessionRecord]) -> list[list[SessionRecord]]:
    """Every session grouped into its compression chain, oldest segment first."""
    by_id = {r.id: r for r in records}
    following = _continuations(by_id)
    continued = set(following.values())
    result = []
    for record in records:
        if record.id in continued:
            continue
        chain, seen = [record], {record.id}
        while (nxt := following.get(chain[-1].id)) is not None and nxt not in seen:
            seen.add(nxt)
            chain.append(by_id[nxt])
        result.append(chain)
    return result


def _title(newest: SessionRecord, override: Override | None) -> str:
    if override is not None and override.title:
        return override.title
    if newest.title:
        return newest.title
    preview = " ".join((newest.preview or "").split())
    return preview[:TITLE_PREVIEW_CHARS] if preview else "Untitled"


def _conversation(newest: SessionRecord) -> tuple[str, ...] | None:
    if newest.session_key:
        return ("key", newest.session_key)
    if newest.chat_id:
        return ("chat", newest.source, newest.chat_id, newest.thread_id or "")
    return None


class Head(NamedTuple):
    """What the rules need to know about a chain before its row is made."""

    chain: Sequence[SessionRecord]
    override: Override | None
    kind: str
    activity: float | None
    pinned: bool
    archived: bool
    conversation: tuple[str, ...] | None


def chain_head(chain: Sequence[SessionRecord], override: Override | None) -> Head:
    newest = chain[-1]
    kind = source_kind(newest.source, has_chat=bool(newest.chat_id or newest.session_key))
    if "_delegate_from" in _markers(newest.model_config):
        kind = "subagent"
    pinned = newest.pinned if override is None or override.pinned is None else override.pinned
    archived = (
        newest.archived if override is None or override.archived is None else override.archived
    )
    last = newest.last_message_at
    # The first non-empty of last_message_at, updated_at, created_at (see activity_of).
    if last is not None:
        activity: float | None = last
    else:
        updated = newest.last_activity_at or newest.ended_at
        activity = updated if updated is not None else chain[0].started_at
    conversation = _conversation(newest) if kind == "messaging" else None
    return Head(chain, override, kind, activity, pinned, archived, conversation)


def make_row(profile: str, head: Head) -> ListedRow:
    chain = head.chain
    newest = chain[-1]
    title = _title(newest, head.override)
    row: SessionRow = {
        "session_id": newest.id,
        "title": title,
        "profile": profile,
        "source": newest.source,
        "source_kind": head.kind,
        "source_label": source_label(newest.source),
        "created_at": chain[0].started_at,
        "updated_at": newest.last_activity_at or newest.ended_at,
        "last_message_at": newest.last_message_at,
        "message_count": newest.message_count,
        "model": newest.model,
        "parent_session_id": newest.parent_session_id,
        "ended_at": newest.ended_at,
        "end_reason": newest.end_reason,
        # The agent's flags arrive from SQLite as 0/1: the API's are JSON booleans.
        "pinned": bool(head.pinned),
        "archived": bool(head.archived),
        "input_tokens": newest.input_tokens,
        "output_tokens": newest.output_tokens,
        "estimated_cost_usd": newest.estimated_cost_usd,
        "is_streaming": False,
        "active_stream_id": None,
        "has_pending_user_message": False,
        "pending_started_at": None,
    }
    if head.kind == CLAUDE_CODE:
        row["project"] = project_of(newest.cwd)
        row["git_branch"] = newest.git_branch
    search = f"{title}\n{newest.id}".lower()
    older = tuple(s.id for s in chain[:-1])
    return ListedRow(
        row, head.kind, head.activity, head.pinned, head.archived, search, head.conversation, older
    )


def listed_row(
    profile: str, chain: Sequence[SessionRecord], override: Override | None
) -> ListedRow:
    """One sidebar row for a chain: the newest segment, with the first segment's start."""
    return make_row(profile, chain_head(chain, override))


def is_empty_chain(chain: Sequence[SessionRecord]) -> bool:
    return all(s.message_count <= 0 and s.last_message_at is None for s in chain)


def override_for(
    chain: Sequence[SessionRecord], overrides: Mapping[str, Override]
) -> Override | None:
    # A chain keeps what was set on it even after the agent continues it into a new segment.
    if not overrides:
        return None
    for segment in reversed(chain):
        found = overrides.get(segment.id)
        if found is not None:
            return found
    return None


def newer_in_conversation(head: Head, current: Head | None) -> bool:
    """Whether ``head`` is the newer of two sessions of one conversation: by activity, and
    equal times by id, whatever order the rows came in."""
    if current is None:
        return True
    return (head.activity or 0.0, head.chain[-1].id) > (
        current.activity or 0.0,
        current.chain[-1].id,
    )


def _newest_per_conversation(heads: list[Head]) -> list[Head]:
    newest: dict[tuple[str, ...], Head] = {}
    for head in heads:
        if head.conversation is None:
            continue
        if newer_in_conversation(head, newest.get(head.conversation)):
            newest[head.conversation] = head
    return [h for h in heads if h.conversation is None or newest[h.conversation] is h]


def shown_in(head: Head, flags: ListFlags) -> bool:
    gate = _GATES.get(head.kind)
    if gate is not None and not getattr(flags, gate):
        return False
    return flags.sidebar_source == "all" or flags.sidebar_source == head.kind


def build_profile_listing(
    profile: str,
    records: Sequence[SessionRecord],
    flags: ListFlags,
    overrides: Mapping[str, Override],
    tombstones: frozenset[str],
) -> ProfileListing:
    """The rows of one profile that a list with ``flags`` shows, unsorted, and its counts.

    The rules run on cheap chain heads; a row (dict, title, search text) is made only for
    the chains the list shows.
    """
    eligible: list[Head] = []
    empty: list[Head] = []
    hidden_ids = {r.id for r in records if r.hidden} if flags.exclude_hidden else set()
    for chain in chains(records):
        if chain[-1].id in hidden_ids or (tombstones and any(s.id in tombstones for s in chain)):
            continue
        head = chain_head(chain, override_for(chain, overrides))
        if head.kind in HIDDEN_KINDS:
            continue
        (empty if is_empty_chain(chain) else eligible).append(head)
    if not flags.show_messaging_history:
        eligible = _newest_per_conversation(eligible)
    counts = dict.fromkeys(COUNT_KINDS, 0)
    counts["archived"] = 0
    listing = ProfileListing(counts=counts)
    for head in eligible:
        if head.archived:
            counts["archived"] += 1
            if not flags.include_archived:
                continue
        if head.kind in counts:
            counts[head.kind] += 1
        if shown_in(head, flags):
            listing.rows.append(make_row(profile, head))
    listing.empty = [
        make_row(profile, e)
        for e in empty
        if shown_in(e, flags) and (flags.include_archived or not e.archived)
    ]
    return listing
