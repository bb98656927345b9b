"""The rows a search can show and the best match kept for each: pure, over one built list and
its runtime overlay.

A hit in a session shows on the row that shows the session: its own, or its compression
chain's (``BuiltList.tips``), overlaid when the overlay has it; a row the overlay replaced is
not shown. Each row keeps its best match: a title match before any message, then the lower
bm25, then the newer message, then list order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from webui.agentdb.search import MessageHit
from webui.sessions.built import BuiltList
from webui.sessions.overlay import ActiveRow, Overlay
from webui.sessions.snippets import fold
from webui.sessions.title_memo import TitleMemo

# A row of the response: its index in the base list, or (profile, id) of an overlaid row.
RowKey = int | tuple[str, str]


class Placed(NamedTuple):
    """Where a hit shows: the row's key, its JSON and its position in the response order."""

    key: RowKey
    data: bytes
    rank: float


@dataclass(slots=True)
class Candidate:
    """A row with its best match so far."""

    data: bytes
    rank: float  # position in the list's response order
    profile: str
    hit: MessageHit | None = None  # None: the title matched
    index: str = "fts"

    def sort_key(self) -> tuple[int, float, float, float]:
        if self.hit is None:
            return (0, 0.0, 0.0, self.rank)
        when = self.hit.timestamp if self.hit.timestamp is not None else -math.inf
        return (1, self.hit.score, -when, self.rank)


class ShownRows:
    """The rows a response of this list shows, overlay included, found by session."""

    def __init__(self, built: BuiltList, overlay: Overlay) -> None:
        self.built = built
        self.overlay = overlay
        self.live: dict[tuple[str, str], tuple[ActiveRow, float]] = {}
        for i, item in enumerate(overlay.active):
            self.live[_key(item)] = (item, i - len(overlay.active))
        for index, item in overlay.moved:
            self.live[_key(item)] = (item, index - 0.5)

    def find(self, profile: str, session_id: str) -> Placed | None:
        """The row that shows ``session_id``: its own, or its chain's."""
        key = (profile, session_id)
        tip = self.built.tips.get(key)
        if tip is not None:
            key = (profile, tip)
        live = self.live.get(key)
        if live is not None:
            return Placed(key, live[0].data, live[1])
        position = self.built.position
        if key not in position:
            return None
        index = position[key]
        if index in self.overlay.replaced:
            return None
        return Placed(index, self.built.row_bytes[index], float(index))


def _key(item: ActiveRow) -> tuple[str, str]:
    return (item.row["profile"], item.row["session_id"])


def title_matches(
    rows: ShownRows, needles: Sequence[str], memo: TitleMemo
) -> dict[RowKey, Candidate]:
    """The shown rows whose title holds every (folded) needle."""
    found: dict[RowKey, Candidate] = {}
    built, replaced = rows.built, rows.overlay.replaced
    for index in memo.matching(built, needles):
        if index not in replaced:
            found[index] = Candidate(built.row_bytes[index], float(index), "")
    for item, rank in rows.live.values():
        title = fold(item.row["title"])[0]
        if all(n in title for n in needles):
            found[_key(item)] = Candidate(item.data, rank, item.row["profile"])
    return found


def keep_best(
    found: dict[RowKey, Candidate], place: Placed, profile: str, hit: MessageHit, index: str
) -> None:
    """Record ``hit`` on its row unless the row already has a better match (a title's, or a
    message that sorts first)."""
    current = found.get(place.key)
    if current is None:
        found[place.key] = Candidate(place.data, place.rank, profile, hit=hit, index=index)
        return
    if current.hit is None:
        return
    mine = Candidate(place.data, place.rank, profile, hit=hit, index=index)
    if mine.sort_key() < current.sort_key():
        found[place.key] = mine
