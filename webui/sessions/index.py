"""One profile's index: what the list needs of every session, kept up to date by change sets.

A source (the agent's ``state.db``, another agent's transcripts) reads its records and then,
on each refresh, only what changed (``RecordChanges``). The index applies that to its records
and recomputes only the compression chains the change can reach; every chain becomes one
flag-independent ``ChainEntry`` (its head, and its row bytes once some view needs them), shared
by every view of the profile. Each refresh that changed something gets a new ``version`` and
a log line naming the chains and conversations it touched, which is all a view needs to catch
up; a full read (or a log a view fell behind) re-derives the view instead.

Which chains a change can reach: a record's chain is decided by its parent link, its parent's
end reason and the start times of its parent's other children. So the affected records are
the changed ones, their parents before and after, and — to a fixed point — every member of a
chain they belong to and every child of a record in the set. The chain rules then run on just
that closed set, which gives the same chains as running them on every record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import orjson

from webui.records import RecordChanges, SessionRecord
from webui.sessions.rules import (
    HIDDEN_KINDS,
    Head,
    ListedRow,
    chain_head,
    chains,
    is_empty_chain,
    make_row,
    override_for,
)
from webui.state.webuidb import Override

LOG_LENGTH = 256
_NO_TIME = float("-inf")

SortKey = tuple[bool, float, str, str]
Conversation = tuple[str, ...]


@dataclass(slots=True)
class ChainEntry:
    """One compression chain of a profile, as every view sees it before its flags apply."""

    profile: str
    segments: tuple[str, ...]  # oldest first; the last is the row's session
    root: str  # the first segment: the chain's name in the index, stable as it grows
    tip: str  # the last segment: the row's session
    head: Head
    empty: bool
    hidden: bool  # the agent's own ``hidden`` flag on the newest segment
    tombstoned: bool
    internal: bool  # subagent work and internal sources: never listed
    _data: bytes | None = None
    _search: str = ""

    @property
    def key(self) -> SortKey:
        """The base order of ``overlay.base_sort_key``: pinned, newest activity, id, profile."""
        activity = self.head.activity if self.head.activity is not None else _NO_TIME
        return (not self.head.pinned, -activity, self.tip, self.profile)

    @property
    def listed(self) -> ListedRow:
        """The row as a dict, made anew: only zero-message rows (for the overlay) keep one."""
        return make_row(self.profile, self.head)

    @property
    def data(self) -> bytes:
        """The row serialized once, shared by every view that shows it (the dict is not
        kept: the bytes are what pages are made of)."""
        if self._data is None:
            listed = self.listed
            self._data = bytes(memoryview(orjson.dumps(listed.row)))
            self._search = listed.search
        return self._data

    @property
    def search(self) -> str:
        """What ``q`` matches: the title and the id, lowercased."""
        if self._data is None:
            self.data  # noqa: B018 - made together with the bytes
        return self._search


@dataclass(frozen=True, slots=True)
class Touched:
    """One refresh's change set: the chains (by root) and conversations it touched."""

    version: int
    roots: frozenset[str]
    conversations: frozenset[Conversation]


@dataclass(slots=True)
class IndexStats:
    refreshes: int = 0
    full_reloads: int = 0
    chains_recomputed: int = 0


@dataclass
class ProfileIndex:
    """The records and chain entries of one profile, refreshed from change sets."""

    profile: str
    version: int = 0
    epoch: int = 0  # moves on every full reload: views must re-derive
    records: dict[str, SessionRecord] = field(default_factory=dict)
    entries: dict[str, ChainEntry] = field(default_factory=dict)  # by root id
    conversations: dict[Conversation, set[str]] = field(default_factory=dict)
    overrides: Mapping[str, Override] = field(default_factory=dict)
    tombstones: frozenset[str] = frozenset()
    stats: IndexStats = field(default_factory=IndexStats)
    _children: dict[str, set[str]] = field(default_factory=dict)
    _chain_of: dict[str, str] = field(default_factory=dict)
    _log: deque[Touched] = field(default_factory=lambda: deque(maxlen=LOG_LENGTH))

    def apply(
        self,
        changes: RecordChanges,
        overrides: Mapping[str, Override],
        tombstones: frozenset[str],
    ) -> None:
        """Take one refresh: the source's changes and the web UI's current overrides."""
        self.stats.refreshes += 1
        if changes.full:
            self._reload(changes.upserted, overrides, tombstones)
            return
        dirty = set(changes.upserted) | set(changes.removed)
        dirty |= _changed_keys(self.overrides, overrides)
        dirty |= set(self.tombstones.symmetric_difference(tombstones))
        self.overrides, self.tombstones = overrides, tombstones
        for sid in list(dirty):
            old = self.records.get(sid)
            if old is not None and old.parent_session_id:
                dirty.add(old.parent_session_id)
        for sid in changes.removed:
            self._forget(sid)
        for sid, record in changes.upserted.items():
            self._forget(sid)
            self.records[sid] = record
            if record.parent_session_id:
                self._children.setdefault(record.parent_session_id, set()).add(sid)
                dirty.add(record.parent_session_id)
        if not dirty:
            return
        touched_roots, touched_convs = self._recompute(self._closure(dirty))
        if touched_roots:
            self.version += 1
            self._log.append(Touched(self.version, touched_roots, touched_convs))

    def since(self, version: int) -> list[Touched] | None:
        """The change sets after ``version``, oldest first; None when the log lost some."""
        if version == self.version:
            return []
        if not self._log or self._log[0].version > version + 1:
            return None
        return [t for t in self._log if t.version > version]

    def _reload(
        self,
        records: Mapping[str, SessionRecord],
        overrides: Mapping[str, Override],
        tombstones: frozenset[str],
    ) -> None:
        self.stats.full_reloads += 1
        self.records = dict(records)
        self.overrides, self.tombstones = overrides, tombstones
        self._children = {}
        for sid, record in self.records.items():
            if record.parent_session_id:
                self._children.setdefault(record.parent_session_id, set()).add(sid)
        self.entries, self._chain_of, self.conversations = {}, {}, {}
        self._recompute(self.records.keys())
        self.version += 1
        self.epoch += 1
        self._log.clear()

    def _forget(self, sid: str) -> None:
        old = self.records.pop(sid, None)
        if old is not None and old.parent_session_id:
            siblings = self._children.get(old.parent_session_id)
            if siblings is not None:
                siblings.discard(sid)
                if not siblings:
                    del self._children[old.parent_session_id]

    def _closure(self, dirty: Iterable[str]) -> set[str]:
        """The changed records with every chain member and child they reach (see the top)."""
        closed: set[str] = set()
        frontier = list(dirty)
        while frontier:
            sid = frontier.pop()
            if sid in closed:
                continue
            closed.add(sid)
            root = self._chain_of.get(sid)
            if root is not None:
                frontier.extend(self.entries[root].segments)
            frontier.extend(self._children.get(sid, ()))
        return closed

    def _recompute(self, ids: Iterable[str]) -> tuple[frozenset[str], frozenset[Conversation]]:
        """Drop the chains that hold any of ``ids`` and make them again from the records."""
        ids = set(ids)
        roots: set[str] = set()
        convs: set[Conversation] = set()
        for sid in ids:
            root = self._chain_of.get(sid)
            if root is not None and root in self.entries:
                self._drop(root, convs)
                roots.add(root)
        present = [self.records[sid] for sid in ids if sid in self.records]
        for chain in chains(present):
            entry = self._entry(chain)
            self.entries[entry.root] = entry
            for segment in entry.segments:
                self._chain_of[segment] = entry.root
            conversation = entry.head.conversation
            if conversation is not None:
                self.conversations.setdefault(conversation, set()).add(entry.root)
                convs.add(conversation)
            roots.add(entry.root)
        self.stats.chains_recomputed += len(roots)
        return frozenset(roots), frozenset(convs)

    def _drop(self, root: str, convs: set[Conversation]) -> None:
        entry = self.entries.pop(root)
        for segment in entry.segments:
            if self._chain_of.get(segment) == root:
                del self._chain_of[segment]
        conversation = entry.head.conversation
        if conversation is not None:
            convs.add(conversation)
            members = self.conversations.get(conversation)
            if members is not None:
                members.discard(root)
                if not members:
                    del self.conversations[conversation]

    def _entry(self, chain: list[SessionRecord]) -> ChainEntry:
        head = chain_head(chain, override_for(chain, self.overrides))
        tombstones = self.tombstones
        segments = tuple([s.id for s in chain])
        return ChainEntry(
            profile=self.profile,
            segments=segments,
            root=segments[0],
            tip=segments[-1],
            head=head,
            empty=is_empty_chain(chain),
            hidden=bool(chain[-1].hidden),
            tombstoned=bool(tombstones) and any(s.id in tombstones for s in chain),
            internal=head.kind in HIDDEN_KINDS,
        )


def _changed_keys(old: Mapping[str, Override], new: Mapping[str, Override]) -> set[str]:
    if old is new:
        return set()
    return {sid for sid in old.keys() | new.keys() if old.get(sid) != new.get(sid)}
