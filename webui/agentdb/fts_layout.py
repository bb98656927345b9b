"""Which of the agent's full-text tables a ``state.db`` has, in which layout, and whether the
agent left them usable, read from ``sqlite_master`` and ``state_meta``.

Both layouts (``fts_schema``) answer ``MATCH`` and ``bm25`` the same way, so only their
presence and health matter to a search; the text of a hit is always read from ``messages``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from webui.agentdb.fts_schema import TRIGRAM_TABLE, WORDS_TABLE
from webui.agentdb.reader import table_columns

_CONTENT = re.compile(r"\bcontent\s*=\s*['\"]?[A-Za-z_]", re.I)


@dataclass(frozen=True, slots=True)
class FtsTables:
    """What the database offers: usable index tables (None when absent or unusable), each
    with its ``content`` column when it has one, and the id window a rebuild has not reached."""

    words: str | None = None
    words_column: bool = False
    trigram: str | None = None
    trigram_column: bool = False
    gap: tuple[int, int] | None = None
    layout: str = "none"  # legacy (inline text), external (content= a table or view), none


def _virtual_tables(conn: sqlite3.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)",
        (WORDS_TABLE, TRIGRAM_TABLE),
    ).fetchall()
    return {
        str(name): str(sql or "")
        for name, sql in rows
        if re.match(r"\s*CREATE\s+VIRTUAL\s+TABLE", str(sql or ""), re.I)
        and "fts5" in str(sql).lower()
    }


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    if not table_columns(conn, "state_meta") >= {"key", "value"}:
        return {}
    rows = conn.execute(
        "SELECT key, value FROM state_meta WHERE key IN "
        "('fts_stale', 'fts_rebuild_high_water', 'fts_rebuild_progress')"
    ).fetchall()
    return {str(k): str(v) for k, v in rows}


def _as_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def probe_fts(conn: sqlite3.Connection) -> FtsTables:
    """The index tables of this database and whether the agent left them usable.

    ``fts_stale`` is the agent's mark of indexes it detached after corruption (rows written
    since are missing): then neither is used. A pending chunked rebuild leaves ids in
    ``(progress, high_water]`` unindexed: those are scanned beside the index.
    """
    tables = _virtual_tables(conn)
    meta = _meta(conn)
    if meta.get("fts_stale", "0") not in ("", "0"):
        return FtsTables()
    high, progress = (
        _as_int(meta.get("fts_rebuild_high_water")),
        _as_int(meta.get("fts_rebuild_progress")),
    )
    gap = (progress or 0, high) if high is not None and high > (progress or 0) else None
    trigram = TRIGRAM_TABLE if "trigram" in tables.get(TRIGRAM_TABLE, "").lower() else None
    words = WORDS_TABLE if WORDS_TABLE in tables else None
    # The agent tells its layouts apart the same way: only the external one names a content.
    sql = tables.get(WORDS_TABLE, "")
    layout = "none" if words is None else "external" if _CONTENT.search(sql) else "legacy"
    return FtsTables(
        layout=layout,
        words=words,
        words_column=words is not None and "content" in table_columns(conn, words),
        trigram=trigram,
        trigram_column=trigram is not None and "content" in table_columns(conn, trigram),
        gap=gap,
    )
