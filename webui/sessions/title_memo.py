"""``TitleMemo``: the folded titles of the last built lists searched, and which rows' titles
hold every term, found over all titles at once."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence

import orjson

from webui.sessions.built import BuiltList
from webui.sessions.snippets import fold

# Where a row's title sits in its JSON (a list row puts ``profile`` right after ``title``), so
# that a title is read without parsing the whole row; one with escapes decodes just its string.
_TITLE_KEY = b'"title":"'
_TITLE_END = b'","profile":'


class TitleMemo:
    """The folded titles of a built list's rows, kept for the two lists searched last.

    A built list never changes once made (a change makes a new one), so its titles are
    decoded once into one string, with the offset where each starts: a term is then found
    over all titles at C speed. A new list reuses the titles of the rows it shares with the
    last one (same bytes), so a commit costs a dictionary lookup per row, not a decode.
    """

    KEEP = 2  # each kept list is held alive: two, not the cache's 64

    def __init__(self) -> None:
        self._lists: list[tuple[BuiltList, str, list[int]]] = []
        self._by_row: dict[bytes, str] = {}

    def _joined(self, built: BuiltList) -> tuple[str, list[int]]:
        for known, joined, starts in self._lists:
            if known is built:
                return joined, starts
        known_rows = self._by_row
        titles = [known_rows.get(data) or fold(_title_of(data))[0] for data in built.row_bytes]
        self._by_row = dict(zip(built.row_bytes, titles, strict=True))
        starts = list(itertools.accumulate((len(t) + 1 for t in titles), initial=0))
        joined = "\x00".join(titles)
        self._lists = [(built, joined, starts), *self._lists[: self.KEEP - 1]]
        return joined, starts

    def matching(self, built: BuiltList, needles: Sequence[str]) -> list[int]:
        """Indexes of the rows whose title holds every needle."""
        if not needles or not built.row_bytes:
            return []
        joined, starts = self._joined(built)
        first = max(needles, key=len)
        others = [n for n in needles if n is not first]
        # One needle without the separator in it cannot match across two titles.
        alone = not others and "\x00" not in first
        found: list[int] = []
        for at in re.finditer(re.escape(first), joined):
            index = bisect.bisect_right(starts, at.start()) - 1
            if found and found[-1] == index:
                continue  # the needle twice in one title
            if not alone:
                title = joined[starts[index] : starts[index + 1] - 1]
                if first not in title or not all(n in title for n in others):
                    continue
            found.append(index)
        return found


def _title_of(data: bytes) -> str:
    start = data.find(_TITLE_KEY)
    end = data.find(_TITLE_END, start)
    if start < 0 or end < 0:
        return str(orjson.loads(data)["title"])
    raw = data[start + len(_TITLE_KEY) : end]
    return str(orjson.loads(b'"' + raw + b'"')) if b"\\" in raw else raw.decode()
