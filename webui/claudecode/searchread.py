"""Reads of our Claude Code search index (``searchindex``): hits and texts, read-only.

The caller brings the ``MATCH`` text and ``LIKE`` patterns already made safe (the rules for
user text live with the agent's search, which this wing does not import). Every read of one
search runs in one read transaction, so hits and texts come from the same snapshot while the
writer goes on (WAL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import NamedTuple

from webui.claudecode.searchindex import TRIGRAM_TABLE, WORDS_TABLE


class Lookup(Enum):
    WORDS = WORDS_TABLE
    TRIGRAM = TRIGRAM_TABLE
    SCAN = None  # no index: ``LIKE`` patterns over the messages alone


class ClaudeHit(NamedTuple):
    """The best matching message of one session; lower ``score`` is better (bm25; 0 in a
    scan). ``line`` is the message's id in the chat pane."""

    session_id: str
    line: int
    role: str
    timestamp: float | None
    score: float


_FIELDS = "m.session_id, m.line, m.role, m.timestamp"


class IndexRead:
    """One search's reads, on one read-only connection inside one read transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def find(
        self,
        lookup: Lookup,
        match: str | None,
        likes: Sequence[str],
        *,
        limit: int,
        seconds: float,
    ) -> tuple[list[ClaudeHit], bool]:
        """The best hit per session among the newest ``limit`` matches, and whether the
        statement ran to its end (a scan stops at ``seconds``)."""
        like = "".join(" AND m.content LIKE ? ESCAPE '\\'" for _ in likes)
        if lookup.value is None:
            sql = f"SELECT {_FIELDS}, 0.0 FROM messages m WHERE 1{like} ORDER BY m.id DESC LIMIT ?"
            params: list[object] = [*likes, limit]
        else:
            table = lookup.value
            sql = (
                f"SELECT {_FIELDS}, MIN(h.score) FROM "
                f"(SELECT rowid AS id, bm25({table}) AS score FROM {table} "
                f"WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT ?) h "
                f"JOIN messages m ON m.id = h.id WHERE 1{like} GROUP BY m.session_id"
            )
            params = [match, limit, *likes]
        at = time.monotonic() + seconds
        self.conn.set_progress_handler(lambda: int(time.monotonic() > at), 20_000)
        best: dict[str, ClaudeHit] = {}
        complete = True
        try:
            for row in self.conn.execute(sql, params):
                hit = ClaudeHit(str(row[0]), int(row[1]), str(row[2]), row[3], float(row[4]))
                best.setdefault(hit.session_id, hit)
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc).lower():
                raise
            complete = False
        finally:
            self.conn.set_progress_handler(None, 0)
        return list(best.values()), complete

    def contents(
        self, keys: Sequence[tuple[str, int]], *, chars: int
    ) -> dict[tuple[str, int], str]:
        """The text of the messages ``(session id, line)`` (at most ``chars`` of each)."""
        found: dict[tuple[str, int], str] = {}
        sql = (
            f"SELECT substr(content, 1, {int(chars)}) FROM messages "
            "WHERE session_id = ? AND line = ?"
        )
        for key in keys:
            row = self.conn.execute(sql, key).fetchone()
            if row is not None:
                found[key] = str(row[0])
        return found


@contextmanager
def open_read(path: Path, busy_timeout: float) -> Iterator[IndexRead | None]:
    """An ``IndexRead`` of the index at ``path``; None when there is no file."""
    if not path.exists():
        yield None
        return
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=busy_timeout, isolation_level=None
    )
    try:
        conn.execute("BEGIN")
        yield IndexRead(conn)
    finally:
        conn.close()
