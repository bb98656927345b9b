"""Our own full-text index of Claude Code's transcripts: derived, disposable, kept by file.

Claude Code ships no index, so the web UI keeps one (``<home>/webui/claude-search.db``): the
user and assistant text the chat pane shows (``messages.message_of_entry``), one row per
message keyed by session id and line number, so a hit opens the pane at that message.

It follows the transcripts the way the file cache does: per file it remembers the offset of
the last complete line indexed, with inode, size and mtime and the bytes around that offset.
A file that grew is read on from there (an append indexes only its own lines); one that
shrank, changed inode, moved or changed without growing is indexed again; a removed file's
rows are deleted. Work is bounded by a deadline: a file cut short is marked ``partial`` and
read on at the next update, newest transcripts first, so a far-behind index answers from what
it holds. A missing, corrupt (``sqlite3.DatabaseError``) or older-layout file is deleted and
built again from the transcripts. One writer at a time (a lock, ``BEGIN IMMEDIATE``); readers
use their own connections (WAL: they never wait for the writer).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from webui.claudecode.entries import Corrupt, decode
from webui.claudecode.folder import Transcript, scan
from webui.claudecode.lines import complete_lines
from webui.claudecode.messages import message_of_entry
from webui.claudecode.transcript import CHECK_BYTES, MAX_LINE_BYTES
from webui.files import FileStat

# The layout of the file (``PRAGMA user_version``): a file of any other is built again.
LAYOUT = 1
WORDS_TABLE = "messages_fts"
TRIGRAM_TABLE = "messages_fts_trigram"
ROLES = ("user", "assistant")  # tool output is machine text, as in the agent's search
_CHECK_EVERY = 256  # lines between looks at the deadline
log = logging.getLogger(__name__)

_SCHEMA = (
    """CREATE TABLE files (
        session_id TEXT PRIMARY KEY, path TEXT NOT NULL, ino INTEGER NOT NULL,
        size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, offset INTEGER NOT NULL,
        lines INTEGER NOT NULL, head BLOB NOT NULL, tail BLOB NOT NULL,
        partial INTEGER NOT NULL)""",
    """CREATE TABLE messages (
        id INTEGER PRIMARY KEY, session_id TEXT NOT NULL, line INTEGER NOT NULL,
        role TEXT NOT NULL, timestamp REAL, content TEXT NOT NULL)""",
    "CREATE INDEX messages_by_session ON messages (session_id, line)",
    f"""CREATE VIRTUAL TABLE {WORDS_TABLE} USING fts5(content, content='messages',
        content_rowid='id', tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE VIRTUAL TABLE {TRIGRAM_TABLE} USING fts5(content, content='messages',
        content_rowid='id', tokenize='trigram')""",
    f"""CREATE TRIGGER messages_added AFTER INSERT ON messages BEGIN
        INSERT INTO {WORDS_TABLE} (rowid, content) VALUES (new.id, new.content);
        INSERT INTO {TRIGRAM_TABLE} (rowid, content) VALUES (new.id, new.content); END""",
    f"""CREATE TRIGGER messages_removed AFTER DELETE ON messages BEGIN
        INSERT INTO {WORDS_TABLE} ({WORDS_TABLE}, rowid, content)
            VALUES ('delete', old.id, old.content);
        INSERT INTO {TRIGRAM_TABLE} ({TRIGRAM_TABLE}, rowid, content)
            VALUES ('delete', old.id, old.content); END""",
    f"PRAGMA user_version = {LAYOUT}",
)


class IndexedFile(NamedTuple):
    """What the index holds of one transcript: a row of ``files``."""

    session_id: str
    path: str
    ino: int
    size: int
    mtime_ns: int
    offset: int  # the end of the last complete line indexed
    lines: int  # lines consumed up to ``offset``: the next message's id is lines + 1
    head: bytes  # the file's first CHECK_BYTES bytes (of those before ``offset``)
    tail: bytes  # the CHECK_BYTES bytes before ``offset``
    partial: bool  # cut short by the deadline: read on at the next update

    def same(self, transcript: Transcript) -> bool:
        stat = transcript.stat
        return not self.partial and (self.path, self.ino, self.size, self.mtime_ns) == (
            transcript.path,
            stat.ino,
            stat.size,
            stat.mtime_ns,
        )


@dataclass(slots=True)
class IndexCounters:
    """What the index did, for the tests and the benchmark."""

    updates: int = 0
    rebuilds: int = 0  # the file was missing, corrupt or of another layout
    behind: int = 0  # updates the deadline (or a busy writer) cut short
    files_indexed: int = 0
    files_reset: int = 0  # indexed again from the start (shrank, replaced, rewritten)
    files_removed: int = 0
    lines_read: int = 0
    bytes_read: int = 0
    rows_added: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


def is_lock(exc: sqlite3.Error) -> bool:
    """A busy or locked database (another writer): not damage."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _remove(path: Path) -> None:
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


class ClaudeSearchIndex:
    """The index file at ``path`` of the transcripts under ``projects``."""

    def __init__(
        self,
        path: Path,
        projects: Path,
        *,
        budget: float = 1.0,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.path = path
        self.projects = projects
        self.budget = budget
        self.busy_timeout = busy_timeout
        self.counters = IndexCounters()
        self._clock = clock
        self._lock = threading.Lock()

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    # -- the update --------------------------------------------------------------------

    def update(self) -> bool:
        """Bring the index up to the transcripts within the budget; True when it caught up.
        Runs in a worker thread (stat, reads and SQLite)."""
        deadline = self._now() + self.budget
        if not self._lock.acquire(timeout=self.budget):
            self.counters.behind += 1
            return False  # another search is updating: answer from what is there
        try:
            self.counters.updates += 1
            for attempt in (1, 2):
                try:
                    done = self._update(deadline)
                    break
                except sqlite3.DatabaseError as exc:
                    if is_lock(exc) or attempt == 2:
                        raise
                    log.warning("%s: %s; built again", self.path, exc)
                    _remove(self.path)  # damaged under us: start again from the transcripts
        except sqlite3.OperationalError as exc:
            if not is_lock(exc):
                raise
            done = False  # another process writes it: it will have caught up for us
        finally:
            self._lock.release()
        if not done:
            self.counters.behind += 1
        return done

    def discard(self) -> None:
        """Delete the file (a reader found it damaged): the next update builds it again."""
        with self._lock:
            _remove(self.path)

    def _update(self, deadline: float) -> bool:
        conn = self._open()
        try:
            return self._catch_up(conn, deadline)
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per update, in the thread that updates: nothing to share or close
        # at shutdown, and a file deleted between searches is simply made again.
        return sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)

    def _open(self) -> sqlite3.Connection:
        """The writer connection, on a file of this layout (built anew when it is not)."""
        existed = self.path.exists()
        conn = self._connect()
        try:
            layout = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if layout == LAYOUT:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                return conn
        except sqlite3.DatabaseError as exc:
            if is_lock(exc):
                conn.close()
                raise
        conn.close()
        if existed:
            log.warning("%s: damaged or of another layout, built again", self.path)
            _remove(self.path)
        self.counters.rebuilds += 1
        conn = self._connect()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        for statement in _SCHEMA:
            conn.execute(statement)
        conn.execute("COMMIT")
        return conn

    def _catch_up(self, conn: sqlite3.Connection, deadline: float) -> bool:
        folder = scan(self.projects)
        current = folder.by_id()
        known = {
            row[0]: IndexedFile._make((*row[:-1], bool(row[-1])))
            for row in conn.execute("SELECT * FROM files")
        }
        unseen = tuple(os.path.join(p, "") for p in folder.unseen)
        gone = [
            sid
            for sid, row in known.items()
            if sid not in current and not (unseen and row.path.startswith(unseen))
        ]
        if gone:
            conn.execute("BEGIN IMMEDIATE")
            for sid in gone:
                conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
                conn.execute("DELETE FROM files WHERE session_id = ?", (sid,))
            conn.execute("COMMIT")
            self.counters.files_removed += len(gone)
        changed = [
            t for sid, t in current.items() if (k := known.get(sid)) is None or not k.same(t)
        ]
        # The newest conversations first: a far-behind index answers for those soonest.
        changed.sort(key=lambda t: t.stat.mtime_ns, reverse=True)
        for transcript in changed:
            if self._now() >= deadline:
                return False
            try:
                if not self._index_file(
                    conn, transcript, known.get(transcript.session_id), deadline
                ):
                    return False
            except (FileNotFoundError, PermissionError, IsADirectoryError):
                continue  # gone or unreadable now: the list reports it; the next update retries
        return True

    def _index_file(
        self,
        conn: sqlite3.Connection,
        transcript: Transcript,
        old: IndexedFile | None,
        deadline: float,
    ) -> bool:
        """Index what the file added since ``old`` (all of it when it cannot be read on);
        False when the deadline stopped it before the end."""
        sid = transcript.session_id
        with open(transcript.path, "rb") as fh:
            fd = fh.fileno()
            st = os.fstat(fd)
            now = FileStat(st.st_mtime_ns, st.st_size, st.st_ino, True)
            base = old if old is not None and _continuable(fd, old, transcript.path, now) else None
            offset, lines = (base.offset, base.lines) if base is not None else (0, 0)
            rows: list[tuple[str, int, str, float | None, str]] = []
            partial = False
            for raw, stop in complete_lines(fh, offset, now.size, max_line=MAX_LINE_BYTES):
                lines += 1
                offset = stop
                row = _row(sid, lines, raw)
                if row is not None:
                    rows.append(row)
                if lines % _CHECK_EVERY == 0 and self._now() >= deadline:
                    partial = offset < now.size
                    break
            begin = max(0, offset - CHECK_BYTES)
            tail = os.pread(fd, offset - begin, begin)
            head = os.pread(fd, min(CHECK_BYTES, offset), 0)
        read_from = base.offset if base is not None else 0
        conn.execute("BEGIN IMMEDIATE")
        if base is None:
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
        conn.executemany(
            "INSERT INTO messages (session_id, line, role, timestamp, content) "
            "VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sid,
                transcript.path,
                now.ino,
                now.size,
                now.mtime_ns,
                offset,
                lines,
                head,
                tail,
                partial,
            ),
        )
        conn.execute("COMMIT")
        counters = self.counters
        counters.files_indexed += 1
        counters.files_reset += base is None and old is not None
        counters.lines_read += lines - (base.lines if base is not None else 0)
        counters.bytes_read += offset - read_from
        counters.rows_added += len(rows)
        return not partial


def _continuable(fd: int, old: IndexedFile, path: str, now: FileStat) -> bool:
    """Whether the file is ``old``'s file grown (or cut short before): the same path and
    inode, no shorter, and the bytes at the start and before the offset as they were."""
    if old.path != path or old.ino != now.ino or now.size < old.size or old.offset > now.size:
        return False
    if now.size == old.size and not old.partial:
        return False  # changed without growing: rewritten in place
    start = max(0, old.offset - CHECK_BYTES)
    return os.pread(fd, old.offset - start, start) == old.tail and (
        os.pread(fd, len(old.head), 0) == old.head
    )


def _row(
    session_id: str, line: int, raw: bytes | None
) -> tuple[str, int, str, float | None, str] | None:
    """The index row of one line: a user or assistant message with text, else None."""
    if raw is None:
        return None  # too long to hold
    raw = raw.strip()
    if not raw:
        return None
    try:
        message = message_of_entry(line, decode(raw))
    except Corrupt:
        return None
    if message is None or message.role not in ROLES or not message.content:
        return None
    return (session_id, line, message.role, message.timestamp, message.content)
