"""Message search in Claude Code sessions, through our own index (``claudecode.searchindex``),
with the agent search's rules: the same terms made safe (``fts_terms``), the same routes
(words first, then substrings; CJK to substrings; terms too short for trigrams by ``LIKE``),
hits of the same shape (``MessageHit``, its ``message_id`` the transcript line).

Before each search the index catches up with the transcripts, in the search's worker thread
and within its budget (never on the event loop, never on the list's poll path). An index it
could not bring up to date answers from what it holds and says ``mixed``; one found damaged
is deleted and built again by the next search.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from webui.agentdb.fts_layout import FtsTables
from webui.agentdb.fts_routes import Route, routes
from webui.agentdb.fts_terms import Term, like_pattern, match_expression
from webui.agentdb.search import Bounds, HitSet, MessageHit
from webui.claudecode.searchindex import TRIGRAM_TABLE, WORDS_TABLE, ClaudeSearchIndex, is_lock
from webui.claudecode.searchread import ClaudeHit, IndexRead, Lookup, open_read

INDEX_FILE = "claude-search.db"
log = logging.getLogger(__name__)
_TABLES = FtsTables(words=WORDS_TABLE, trigram=TRIGRAM_TABLE, layout="external")


def index_path(home: Path) -> Path:
    """Where the index lives: the web UI's own folder of the data home."""
    return home / "webui" / INDEX_FILE


def _lookup(route: Route) -> Lookup:
    if route.table is None:
        return Lookup.SCAN
    return Lookup.TRIGRAM if route.table == TRIGRAM_TABLE else Lookup.WORDS


class ClaudeRead:
    """One search's reads of the index, after it caught up (or ran out of time trying)."""

    def __init__(self, read: IndexRead, current: bool) -> None:
        self.read = read
        self.current = current
        self.damaged = False

    def find(self, terms: Sequence[Term], bounds: Bounds) -> HitSet:
        """The best matching message of every Claude Code session that has one; ``index``
        is the route that answered, ``complete`` False when the index was behind. A damaged
        or busy index finds nothing (and a damaged one is built again)."""
        try:
            return self._find(terms, bounds)
        except sqlite3.DatabaseError as exc:
            self.damaged = not is_lock(exc)
            return HitSet((), "fts", False)

    def _find(self, terms: Sequence[Term], bounds: Bounds) -> HitSet:
        name, complete = "fts", True
        found: list[ClaudeHit] = []
        for route in routes(_TABLES, terms):
            lookup = _lookup(route)
            match = (
                None
                if lookup is Lookup.SCAN
                else match_expression(route.matched, column=False, trigram=route.trigram)
            )
            likes = [like_pattern(t.text) for t in route.filtered]
            found, complete = self.read.find(
                lookup, match, likes, limit=bounds.max_hits, seconds=bounds.seconds
            )
            name = route.name
            if found:
                break
        hits = tuple(MessageHit(h.session_id, h.line, h.role, h.timestamp, h.score) for h in found)
        return HitSet(hits, name, complete and self.current)

    def contents(self, hits: Sequence[MessageHit], *, chars: int) -> dict[tuple[str, int], str]:
        """The texts of ``hits`` by (session id, line); none from a damaged or busy index
        (the snippet is then the empty text's)."""
        try:
            return self.read.contents([(h.session_id, h.message_id) for h in hits], chars=chars)
        except sqlite3.DatabaseError as exc:
            self.damaged = not is_lock(exc)
            return {}


class ClaudeMessages:
    """The Claude Code index of one app, and the reads of it that searches make."""

    def __init__(self, home: Path, projects: Path, *, busy_timeout: float) -> None:
        self.index = ClaudeSearchIndex(index_path(home), projects, busy_timeout=busy_timeout)
        self.busy_timeout = busy_timeout

    @contextmanager
    def open(self) -> Iterator[ClaudeRead | None]:
        """Catch up, then a read of the index (None: no index could be read this time)."""
        try:
            current = self.index.update()
        except (sqlite3.DatabaseError, PermissionError) as exc:
            # Cannot be written (a read-only home, a full disk): answer from what it holds.
            log.warning("claude-code search index not updated: %s", exc)
            current = False
        with open_read(self.index.path, self.busy_timeout) as read:
            claude = None if read is None else ClaudeRead(read, current)
            yield claude
        if claude is not None and claude.damaged:
            # Ours and derived: it goes, and the next search builds it again (this one
            # answered without it).
            self.index.discard()
