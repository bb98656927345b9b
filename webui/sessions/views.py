"""A view: one list key's rows, derived from its profiles' indexes and kept up to date.

A view applies the flag-dependent rules to the index's chain entries — hidden, tombstoned and
internal chains out, zero-message chains aside (the overlay may need them), the newest session
of each messaging conversation, the gates, archived rows and the counts — and keeps its rows
in base order in parallel lists (sort keys, row bytes, search text). After a refresh it takes
the index's change sets and re-decides only the chains and conversations they name: each one
is taken out of the lists (a bisect) and put back where its key says, so the order stays right
without a re-sort, and row bytes are the index's, made once per changed chain.

``snapshot()`` copies the lists (pointer copies) into a ``BuiltList`` for the cache, so the
view can move on while pages are cut from the copy.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from webui.sessions.built import BuiltList
from webui.sessions.index import ChainEntry, Conversation, ProfileIndex, SortKey
from webui.sessions.query import ListFlags, ListKey
from webui.sessions.rules import COUNT_KINDS, ListedRow, newer_in_conversation, shown_in

Slot = tuple[str, str]  # (profile, root id)


class _Placed(NamedTuple):
    """What one chain contributes to the view now: enough to take it out again (a named
    tuple: a view makes one per chain, and a tuple is the cheapest to make)."""

    tip: str
    older: tuple[str, ...]  # earlier segments, when the row is shown
    key: SortKey | None = None  # set when the row is shown ...
    data: bytes = b""  # ... with its bytes and search text
    search: str = ""
    counted: str | None = None  # the count it adds to (a kind), if any
    archived: bool = False  # adds to the archived count
    empty: ListedRow | None = None  # a zero-message row the overlay may bring in
    pinned: bool = False


class Positions(Mapping[tuple[str, str], int]):
    """Row index by (profile, session id), found by bisecting the sorted keys of a snapshot."""

    __slots__ = ("_key_of", "_keys")

    def __init__(self, keys: list[SortKey], key_of: dict[tuple[str, str], SortKey]) -> None:
        self._keys = keys
        self._key_of = key_of

    def __getitem__(self, item: tuple[str, str]) -> int:
        return bisect.bisect_left(self._keys, self._key_of[item])

    def __contains__(self, item: object) -> bool:
        return item in self._key_of

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._key_of)

    def __len__(self) -> int:
        return len(self._key_of)


@dataclass
class View:
    key: ListKey
    scopes: tuple[str, ...]  # the key's profiles, then every other source in scope
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # (epoch, version)
    keys: list[SortKey] = field(default_factory=list)
    data: list[bytes] = field(default_factory=list)
    search: list[str] = field(default_factory=list)
    key_of: dict[tuple[str, str], SortKey] = field(default_factory=dict)  # (profile, tip)
    placed: dict[Slot, _Placed] = field(default_factory=dict)
    empty: dict[tuple[str, str], ListedRow] = field(default_factory=dict)
    tips: dict[tuple[str, str], str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    pinned_count: int = 0
    updates: int = 0
    derivations: int = 0

    @property
    def flags(self) -> ListFlags:
        return self.key.flags

    def catch_up(self, indexes: Mapping[str, ProfileIndex]) -> bool:
        """Bring the view to its indexes' versions; whether anything moved."""
        pending: list[tuple[ProfileIndex, set[str], set[Conversation]]] = []
        for profile in self.scopes:
            index = indexes[profile]
            seen = self.versions.get(profile)
            if seen == (index.epoch, index.version):
                continue
            log = index.since(seen[1]) if seen is not None and seen[0] == index.epoch else None
            if log is None:
                self.derive(indexes)
                return True
            roots = set().union(*(t.roots for t in log))
            convs = set().union(*(t.conversations for t in log))
            pending.append((index, roots, convs))
        if not pending:
            return False
        for index, roots, convs in pending:
            self._update(index, roots, convs)
            self.versions[index.profile] = (index.epoch, index.version)
        self.updates += 1
        return True

    def derive(self, indexes: Mapping[str, ProfileIndex]) -> None:
        """Every row from scratch out of the indexes (a new view, a full reload)."""
        self.derivations += 1
        self.placed = {}
        every: list[tuple[str, _Placed]] = []
        for profile in self.scopes:
            index = indexes[profile]
            winners = self._winners(index, index.conversations.keys())
            place, placed_of = self._place, self.placed
            for entry in index.entries.values():
                placed = place(entry, winners)
                if placed is not None:
                    placed_of[(profile, entry.root)] = placed
                    every.append((profile, placed))
            self.versions[profile] = (index.epoch, index.version)
        # What ``_account`` adds one chain at a time, here for all of them at once.
        self.counts = dict.fromkeys((*COUNT_KINDS, "archived"), 0)
        for kind, n in Counter(p.counted for _, p in every if p.counted is not None).items():
            self.counts[kind] += n
        self.counts["archived"] = sum(1 for _, p in every if p.archived)
        self.pinned_count = sum(1 for _, p in every if p.pinned)
        self.empty = {(pr, p.tip): p.empty for pr, p in every if p.empty is not None}
        self.key_of = {(pr, p.tip): p.key for pr, p in every if p.key is not None}
        self.tips = {(pr, s): p.tip for pr, p in every for s in p.older}
        shown = [p for _, p in every if p.key is not None]
        shown.sort(key=_sort_key)
        self.keys = [_sort_key(p) for p in shown]
        self.data = [p.data for p in shown]
        self.search = [p.search for p in shown]

    def _update(self, index: ProfileIndex, roots: set[str], convs: set[Conversation]) -> None:
        profile = index.profile
        slots = set(roots)
        for conversation in convs:
            slots |= index.conversations.get(conversation, set())
        winners = self._winners(index, convs)
        # Everything out first, then back in: a session that moved from one chain to another
        # keeps its sort key, so taking the old row out after the new one went in could find
        # the new one.
        ordered = sorted(slots)
        for root in ordered:
            old = self.placed.pop((profile, root), None)
            if old is not None:
                self._account(profile, old, -1)
                if old.key is not None:
                    at = bisect.bisect_left(self.keys, old.key)
                    del self.keys[at], self.data[at], self.search[at]
        for root in ordered:
            entry = index.entries.get(root)
            new = self._place(entry, winners) if entry is not None else None
            if new is not None:
                self.placed[(profile, root)] = new
                self._account(profile, new, +1)
                if new.key is not None:
                    at = bisect.bisect_left(self.keys, new.key)
                    self.keys.insert(at, new.key)
                    self.data.insert(at, new.data)
                    self.search.insert(at, new.search)

    def _winners(
        self, index: ProfileIndex, conversations: Iterable[Conversation]
    ) -> dict[Conversation, str]:
        """The newest eligible chain (by root) of each conversation, when the flags want it."""
        if self.flags.show_messaging_history:
            return {}
        winners: dict[Conversation, str] = {}
        for conversation in conversations:
            best: ChainEntry | None = None
            for root in index.conversations.get(conversation, ()):
                entry = index.entries[root]
                if self._eligible(entry) and newer_in_conversation(
                    entry.head, best.head if best is not None else None
                ):
                    best = entry
            if best is not None:
                winners[conversation] = best.root
        return winners

    def _eligible(self, entry: ChainEntry) -> bool:
        if entry.internal or entry.tombstoned or entry.empty:
            return False
        return not (entry.hidden and self.flags.exclude_hidden)

    def _place(self, entry: ChainEntry, winners: Mapping[Conversation, str]) -> _Placed | None:
        """Where the list rules put this chain under the view's flags (None: nowhere)."""
        flags, head = self.flags, entry.head
        if entry.internal or entry.tombstoned or (entry.hidden and flags.exclude_hidden):
            return None
        if entry.empty:
            if shown_in(head, flags) and (flags.include_archived or not head.archived):
                return _Placed(entry.tip, (), empty=entry.listed)
            return None
        conversation = head.conversation
        if (
            conversation is not None
            and not flags.show_messaging_history
            and winners.get(conversation) != entry.root
        ):
            return None
        if head.archived and not flags.include_archived:
            return _Placed(entry.tip, (), archived=True)
        counted = head.kind if head.kind in COUNT_KINDS else None
        if not shown_in(head, flags):
            return _Placed(entry.tip, (), counted=counted, archived=bool(head.archived))
        return _Placed(
            entry.tip,
            entry.segments[:-1],
            entry.key,
            entry.data,
            entry.search,
            counted,
            bool(head.archived),
            pinned=bool(head.pinned),
        )

    def _account(self, profile: str, placed: _Placed, sign: int) -> None:
        """Add (``sign`` +1) or take back (-1) what ``placed`` brings, lists aside."""
        if placed.counted is not None:
            self.counts[placed.counted] += sign
        if placed.archived:
            self.counts["archived"] += sign
        if placed.pinned:
            self.pinned_count += sign
        tip = (profile, placed.tip)
        if placed.empty is not None:
            if sign > 0:
                self.empty[tip] = placed.empty
            else:
                self.empty.pop(tip, None)
        if placed.key is not None:
            if sign > 0:
                self.key_of[tip] = placed.key
                self.tips.update(((profile, s), placed.tip) for s in placed.older)
            else:
                self.key_of.pop(tip, None)
                for segment in placed.older:
                    self.tips.pop((profile, segment), None)

    def snapshot(self, built_at: float) -> BuiltList:
        """The view now, as the cache's value: the lists copied, the pages cut later."""
        keys = list(self.keys)
        return BuiltList(
            row_bytes=list(self.data),
            search=list(self.search),
            position=Positions(keys, dict(self.key_of)),
            empty=dict(self.empty),
            counts=dict(self.counts),
            built_at=built_at,
            pinned_count=self.pinned_count,
            tips=dict(self.tips),
        )


def _sort_key(placed: _Placed) -> SortKey:
    assert placed.key is not None
    return placed.key
