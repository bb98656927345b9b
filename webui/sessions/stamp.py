"""Source stamps: what a cached list was built from, cheap enough to take on every request.

A stamp is compared for equality only. For each profile in scope it holds the ``state.db``
and ``-wal`` file stats and a content fingerprint; while a stream is live in that profile the
volatile parts collapse to the set of live stream ids, so per-token commits change nothing.
Stamps are taken on every request, so their parts are named tuples (cheap to make and to
compare). A stamp with every fingerprint read is *exact*: while it is unchanged, nothing the list is
built from has changed, so a list built from it needs no TTL at all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Hashable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from webui.files import FileStat, file_stat


class Fingerprint(NamedTuple):
    """Content identity of a ``state.db``: which file (generation, inode) at which commit."""

    generation: int
    ino: int
    data_version: int


class ContentProbe:
    """``PRAGMA data_version`` on a long-lived read-only connection to one ``state.db``.

    ``data_version`` changes whenever another connection (any process) commits, including
    updates that change no size and VACUUM. Two blind spots are covered here: it only moves
    while this connection holds no read transaction, so this connection never runs a query;
    and it cannot see the file being replaced, so the inode is checked and a new file means a
    new connection and a new generation. A locked database answers ``busy`` (``-1``) rather
    than waiting: this runs on the event loop and must not block.
    """

    MISSING = -2
    BUSY = -1

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._ino = 0
        self.generation = 0

    def _open(self, ino: int) -> sqlite3.Connection:
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
        self._conn, self._ino = conn, ino
        self.generation += 1
        return conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def fingerprint(self, stat: FileStat | None) -> Fingerprint:
        """The fingerprint, given the file's current ``stat`` (taken by the caller anyway)."""
        if stat is None or not stat.is_file:
            self.close()
            return Fingerprint(self.generation, 0, self.MISSING)
        conn = self._conn
        try:
            if conn is None or stat.ino != self._ino:
                self.close()
                conn = self._open(stat.ino)
            version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                self.close()
            return Fingerprint(self.generation, stat.ino, self.BUSY)
        except sqlite3.DatabaseError:
            # Not a database (corrupt, truncated): the build will say so; reopen next time.
            self.close()
            return Fingerprint(self.generation, stat.ino, self.BUSY)
        return Fingerprint(self.generation, stat.ino, version)


class ProfilePart(NamedTuple):
    """One profile's part of a stamp: files and content, or the live-stream marker."""

    profile: str
    db: FileStat | None = None
    wal: FileStat | None = None
    content: Fingerprint | None = None
    streaming: frozenset[str] | None = None


class SourceStamp(NamedTuple):
    profiles: tuple[ProfilePart, ...]
    settings: FileStat | None
    structure_version: int  # webui.db journal: renames, pins, deletes…
    profile_set: tuple[str, ...]
    # (scope, stamp) of each other session source in scope (Claude Code's folder scan)
    others: tuple[tuple[str, Hashable], ...] = ()

    @property
    def streaming(self) -> bool:
        return any(p.streaming is not None for p in self.profiles)

    def stands_in_for(self, newer: SourceStamp) -> bool:
        """Whether a list built from this stamp may be served for ``newer`` while it rebuilds:
        the only differences are streams starting or ending in a profile (the overlay shows
        those at once), nothing structural, no settings change."""
        return (
            self.settings == newer.settings
            and self.others == newer.others
            and self.structure_version == newer.structure_version
            and self.profile_set == newer.profile_set
            and len(self.profiles) == len(newer.profiles)
            and all(
                old == new or old.streaming is not None or new.streaming is not None
                for old, new in zip(self.profiles, newer.profiles, strict=True)
            )
        )

    @property
    def exact(self) -> bool:
        """Whether every commit since the build would show here: no streaming marker and no
        fingerprint left unread (a locked database answers ``busy``)."""
        return all(
            p.content is not None and p.content.data_version != ContentProbe.BUSY
            for p in self.profiles
        )


class ProfileSource:
    """One profile's ``state.db``: its paths, resolved once, and its content probe."""

    def __init__(self, profile: str, db_path: Path) -> None:
        self.profile = profile
        self.db = str(db_path)
        self.wal = self.db + "-wal"
        self.probe = ContentProbe(db_path)

    def part(self, live_ids: frozenset[str]) -> ProfilePart:
        """This profile's stamp part now; while streams are live, just their ids."""
        if live_ids:
            return ProfilePart(self.profile, streaming=live_ids)
        db = file_stat(self.db)
        return ProfilePart(self.profile, db, file_stat(self.wal), self.probe.fingerprint(db))

    def close(self) -> None:
        self.probe.close()
