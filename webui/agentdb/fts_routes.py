"""Which index answers which terms of a search, in what order: pure, from what ``probe_fts``
found and the terms themselves.

Words go to the word index; CJK (which it does not split into words) and whatever it finds
nothing for go to the trigram index. Where no index can answer (none, or terms too short for
trigrams) the route is a scan of ``messages``; terms an index cannot match are left to ``LIKE``
filters on the rows it finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webui.agentdb.fts_layout import FtsTables
from webui.agentdb.fts_schema import TRIGRAM_TABLE
from webui.agentdb.fts_terms import Term

# A trigram index holds runs of three characters: a shorter term cannot be looked up in it.
TRIGRAM_MIN = 3


@dataclass(frozen=True, slots=True)
class Route:
    """One way to answer: an index table (None: scan) with the terms it matches and the
    terms left to ``LIKE`` filters."""

    table: str | None
    matched: tuple[Term, ...]
    filtered: tuple[Term, ...]
    column: bool = False

    @property
    def trigram(self) -> bool:
        return self.table == TRIGRAM_TABLE

    @property
    def name(self) -> str:
        if self.table is None:
            return "scan"
        return "trigram" if self.trigram else "fts"


def scan_route(terms: Sequence[Term]) -> Route:
    """No index: every term a ``LIKE`` filter on ``messages``."""
    return Route(None, (), tuple(terms))


def _trigram_route(tables: FtsTables, terms: Sequence[Term]) -> Route:
    long = tuple(t for t in terms if len(t.text) >= TRIGRAM_MIN)
    if tables.trigram is None or not long:
        return scan_route(terms)
    short = tuple(t for t in terms if t not in long)
    return Route(tables.trigram, long, short, tables.trigram_column)


def routes(tables: FtsTables, terms: Sequence[Term]) -> list[Route]:
    """The ways to try, in order: words first, then substrings when words find nothing (the
    trigram index, else a bounded scan); CJK and other unspaced scripts go to substrings."""
    if not terms:
        return []
    if tables.words is None or any(t.unspaced for t in terms):
        return [_trigram_route(tables, terms)]
    wordy = tuple(t for t in terms if t.words)
    if not wordy:
        return [_trigram_route(tables, terms)]
    first = Route(tables.words, wordy, tuple(t for t in terms if not t.words), tables.words_column)
    return [first, _trigram_route(tables, terms)]
