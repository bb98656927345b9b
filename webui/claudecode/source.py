"""``ClaudeCodeSource``: Claude Code's transcripts as session records, kept up to date by file.

The list index asks for the folder's ``stamp`` on the event loop and, when it moved, for
``read_changes`` in a worker thread: the sessions whose transcript changed since the previous
read (a changed file is a changed session; a summary line may retitle another session). Only
changed files are opened, and a grown one is read from its last complete line on.
``read_all`` is the from-scratch reference that the incremental path is tested against.

Claude Code sessions belong to no Hermes profile: the web UI keeps their overrides and
tombstones under the reserved profile name ``claude-code`` (``PROFILE``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

from webui.claudecode.filecache import FileCache, parse_file
from webui.claudecode.folder import FolderScan, Transcript, scan
from webui.claudecode.messages import read_messages
from webui.claudecode.titles import TitleIndex, oracle_titles
from webui.claudecode.transcript import SOURCE, TranscriptState
from webui.records import MessageRecord, RecordChanges, SessionRecord

PROFILE = "claude-code"
PROGRESS_SECONDS = 2.0
log = logging.getLogger(__name__)


def project_of(cwd: str | None) -> str | None:
    """The project a session ran in: the last component of its cwd (POSIX or Windows)."""
    if not cwd:
        return None
    name = cwd.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or None


@dataclass(slots=True)
class _Known:
    """What the source keeps of one session between reads (its parsed state may be evicted)."""

    transcript: Transcript
    record: SessionRecord | None  # None: the file could not be read
    custom_title: str | None
    problem: str | None


@dataclass(slots=True)
class SourceCounters:
    reads: int = 0  # read_changes and session calls that scanned the folder
    files_changed: int = 0  # transcripts whose stat moved, handed to the cache
    records_changed: int = 0  # upserts and removals delivered


class ClaudeCodeSource:
    """The Claude Code session source; ``root`` None (or no projects folder) is no sessions."""

    def __init__(
        self,
        root: Path | None,
        cache_bytes: int,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.root = root
        self.projects = None if root is None else root / "projects"
        self.cache = FileCache(cache_bytes)
        self.counters = SourceCounters()
        self._clock = clock
        self._lock = threading.Lock()
        self._titles = TitleIndex()
        self._known: dict[str, _Known] = {}
        self._delivered = False
        self._sent: dict[str, SessionRecord] = {}  # what read_changes last delivered
        self._touched: set[str] = set()  # sessions that may have changed since
        # Read without the lock (health, on the event loop): replaced whole after each read.
        self._problems: tuple[str, ...] = ()
        self._summaries = 0

    @property
    def enabled(self) -> bool:
        return self.projects is not None

    def _now(self) -> float:
        return (self._clock or time.monotonic)()

    def stamp(self) -> Hashable:
        """The folder's stamp: equal iff no transcript was added, removed or written."""
        return None if self.projects is None else scan(self.projects)

    # -- reading -----------------------------------------------------------------------

    def read_changes(self) -> RecordChanges:
        """Everything on the first call (``full``), then what changed since the last call."""
        with self._lock:
            self._refresh()
            if not self._delivered:
                self._delivered, self._touched = True, set()
                records = ((sid, self._record(sid)) for sid in self._known)
                self._sent = {sid: record for sid, record in records if record is not None}
                self.counters.records_changed += len(self._sent)
                return RecordChanges(True, dict(self._sent), frozenset())
            upserted: dict[str, SessionRecord] = {}
            removed: set[str] = set()
            for sid in self._touched:
                record, sent = self._record(sid), self._sent.get(sid)
                if record is None:
                    if sent is not None:
                        removed.add(sid)
                        del self._sent[sid]
                elif record != sent:
                    upserted[sid] = self._sent[sid] = record
            self._touched = set()
            self.counters.records_changed += len(upserted) + len(removed)
            return RecordChanges(False, upserted, frozenset(removed))

    def session(self, session_id: str) -> SessionRecord | None:
        """One session as of now (the folder is read again; changed files are parsed)."""
        with self._lock:
            # The whole folder, not just its file: a summary written into another session's
            # file may have retitled it (a scan is a stat per transcript; parses are changes).
            self._refresh()
            return self._record(session_id)

    def messages(self, session_id: str, *, after: int, limit: int) -> list[MessageRecord]:
        """The session's messages with ids above ``after``; [] for an unknown session."""
        with self._lock:
            known = self._known.get(session_id)
            if known is None:
                self._refresh()
                known = self._known.get(session_id)
        if known is None or known.record is None:
            return []
        try:
            return read_messages(known.transcript.path, after=after, limit=limit)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            return []

    def read_all(self) -> list[SessionRecord]:
        """Every session parsed from scratch, with no cache: the reference implementation."""
        if self.projects is None:
            return []
        states: dict[str, TranscriptState] = {}
        for transcript in scan(self.projects).transcripts:
            try:
                states[transcript.session_id] = parse_file(transcript.path, transcript.session_id)
            except (FileNotFoundError, PermissionError, IsADirectoryError):
                continue
        titles = oracle_titles(
            {sid: s.summaries for sid, s in states.items()},
            {sid: s.leaves for sid, s in states.items()},
            lambda sid: states[sid].started_at if sid in states else None,
        )
        return [
            state.record(state.custom_title or titles[sid]) for sid, state in sorted(states.items())
        ]

    def problems(self) -> list[str]:
        """What ``/api/health`` reports: unreadable folders and files, corrupt lines. Never
        waits for a read in progress (the event loop asks): the list of the last one."""
        return list(self._problems)

    def stats(self) -> dict[str, int]:
        """Counters for the benchmark: the cache's parses, hits and bytes, and the reads."""
        return {
            **self.cache.counters.as_dict(),
            "reads": self.counters.reads,
            "files_changed": self.counters.files_changed,
            "records_changed": self.counters.records_changed,
            "cached_states": len(self.cache),
            "cached_bytes": self.cache.held_bytes,
            "summaries": self._summaries,
        }

    # -- the incremental path (under the lock) -----------------------------------------

    def _started(self, session_id: str) -> float | None:
        known = self._known.get(session_id)
        return None if known is None or known.record is None else known.record.started_at

    def _record(self, session_id: str) -> SessionRecord | None:
        known = self._known.get(session_id)
        if known is None or known.record is None:
            return None
        title = known.custom_title or self._titles.summary_for(session_id, self._started)
        record = known.record
        return record if record.title == title else record._replace(title=title)

    def _refresh(self) -> None:
        """Read the folder and parse what changed; every session touched is noted for the
        next ``read_changes``, which compares it with what it last delivered."""
        if self.projects is None:
            return
        self.counters.reads += 1
        folder: FolderScan = scan(self.projects)
        current = folder.by_id()
        unseen = tuple(os.path.join(folder_path, "") for folder_path in folder.unseen)
        for sid, known in self._known.items():
            if sid not in current and unseen and known.transcript.path.startswith(unseen):
                current[sid] = known.transcript  # in a folder we could not list just now
        touched = self._touched
        for sid in self._known.keys() - current.keys():
            gone = self._known.pop(sid)
            self.cache.drop(gone.transcript.path)
            touched |= self._titles.remove(sid)
            touched.add(sid)
        changed = [
            t
            for sid, t in current.items()
            if (k := self._known.get(sid)) is None or k.transcript != t
        ]
        self.counters.files_changed += len(changed)
        began = said = self._now()
        done = 0
        for transcript in changed:
            touched |= self._parse(transcript)
            done += transcript.stat.size
            if self._now() - said >= PROGRESS_SECONDS:
                said = self._now()
                log.info("claude-code: %d MB of transcripts parsed so far", done >> 20)
        took = self._now() - began
        if took >= PROGRESS_SECONDS:
            log.info(
                "claude-code: %d transcripts (%d MB) read in %.1f s", len(changed), done >> 20, took
            )
        self._problems = self._problem_list(folder.problems)
        self._summaries = len(self._titles)

    def _problem_list(self, scanned: tuple[str, ...]) -> tuple[str, ...]:
        found = [f"claude-code: {p}" for p in scanned]
        for known in self._known.values():
            if known.problem:
                name = Path(known.transcript.path)
                found.append(f"claude-code: {name.parent.name}/{name.name}: {known.problem}")
        return tuple(found)

    def _parse(self, transcript: Transcript) -> set[str]:
        sid = transcript.session_id
        old = self._known.get(sid)
        if old is not None and old.transcript.path != transcript.path:
            self.cache.drop(old.transcript.path)
        try:
            state = self.cache.get(transcript.path, sid, transcript.stat)
        except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
            self._known[sid] = _Known(transcript, None, None, f"cannot read: {exc.strerror}")
            return self._titles.remove(sid) | {sid}
        self._known[sid] = _Known(
            transcript, state.record(None), state.custom_title, state.problem()
        )
        return self._titles.update(sid, state.summaries, state.leaves, self.cache.resident)


__all__ = ["PROFILE", "SOURCE", "ClaudeCodeSource", "project_of"]
