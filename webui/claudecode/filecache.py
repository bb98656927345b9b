"""Parsed transcripts, one entry per file, validated by (inode, size, mtime_ns).

A transcript only grows: a file that grew under the same inode, with the bytes before the
last complete line as they were (``check``), is read on from that line — the work of an
append is the appended bytes. A file that shrank, changed inode, or changed without growing
is parsed again from the start. (Only the first and the last 64 bytes read are compared: a
rewrite in place that keeps both, and the inode, and grows the file, is not seen.)
Concurrent callers for one file share one parse; the parsed states are bounded by a byte
budget, least recently used evicted first.
"""

from __future__ import annotations

import copy
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from webui.claudecode.lines import complete_lines
from webui.claudecode.transcript import CHECK_BYTES, MAX_LINE_BYTES, TranscriptState
from webui.files import FileStat


@dataclass(slots=True)
class CacheCounters:
    """What the cache did, for the benchmark and the tests (parses are counted, not timed)."""

    hits: int = 0  # asked with the stat it holds: no read at all
    shared: int = 0  # waited for another caller's parse of the same file
    full_parses: int = 0
    append_parses: int = 0
    unchanged: int = 0  # the stat moved but no new complete line was there
    bytes_parsed: int = 0
    lines_parsed: int = 0
    evictions: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class _Entry:
    stat: FileStat
    state: TranscriptState
    cost: int


def _stat_of(fd: int) -> FileStat:
    st = os.fstat(fd)
    return FileStat(st.st_mtime_ns, st.st_size, st.st_ino, True)


def read_on(
    handle: BinaryIO, state: TranscriptState, end: int, *, max_line: int = MAX_LINE_BYTES
) -> int:
    """Parse the complete lines of ``[state.offset, end)`` into ``state``; the bytes read."""
    start = state.offset
    for raw, stop in complete_lines(handle, start, end, max_line=max_line):
        state.add(raw, stop)
    if state.offset > start:
        begin = max(0, state.offset - CHECK_BYTES)
        state.check = os.pread(handle.fileno(), state.offset - begin, begin)
        if len(state.head) < CHECK_BYTES:
            state.head = os.pread(handle.fileno(), min(CHECK_BYTES, state.offset), 0)
    return end - start


def parse_file(
    path: str | Path, session_id: str, *, max_line: int = MAX_LINE_BYTES
) -> TranscriptState:
    """A transcript parsed from scratch, with no cache: the reference the cache is held to."""
    state = TranscriptState(session_id)
    with open(path, "rb") as fh:
        read_on(fh, state, os.fstat(fh.fileno()).st_size, max_line=max_line)
    return state


class FileCache:
    def __init__(self, budget_bytes: int, *, max_line: int = MAX_LINE_BYTES) -> None:
        self.budget = budget_bytes
        self.max_line = max_line
        self.counters = CacheCounters()
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, Future[None]] = {}
        self._held = 0

    def get(self, path: str, session_id: str, stat: FileStat) -> TranscriptState:
        """The parsed state of ``path`` as of ``stat`` (or newer); OSError if unreadable.

        The state returned is shared: callers only read it."""
        while True:
            with self._lock:
                entry = self._entries.get(path)
                if entry is not None and entry.stat == stat:
                    self._entries.move_to_end(path)
                    self.counters.hits += 1
                    return entry.state
                waiting = self._inflight.get(path)
                if waiting is None:
                    mine: Future[None] = Future()
                    self._inflight[path] = mine
            if waiting is not None:
                # Someone is parsing this file: share their work, then look again (their
                # parse may have opened the file before it reached ``stat``).
                waiting.exception()
                with self._lock:
                    self.counters.shared += 1
                    entry = self._entries.get(path)
                    if (
                        entry is not None
                        and entry.state.session_id == session_id
                        and (entry.stat == stat or _newer(entry.stat, stat))
                    ):
                        return entry.state
                continue
            try:
                fresh = self._parse(path, session_id, entry)
            except BaseException as exc:
                with self._lock:
                    del self._inflight[path]
                mine.set_exception(exc)
                raise
            with self._lock:
                self._store(path, fresh)
                del self._inflight[path]
            mine.set_result(None)
            return fresh.state

    def _parse(self, path: str, session_id: str, base: _Entry | None) -> _Entry:
        with open(path, "rb") as fh:
            now = _stat_of(fh.fileno())
            if base is not None and base.state.session_id == session_id and base.stat == now:
                return base  # asked with an older stat: what we hold is already this file
            state = self._continuable(fh.fileno(), base, now)
            if state is None:
                state = TranscriptState(session_id)
                self.counters.full_parses += 1
            else:
                self.counters.append_parses += 1
            before_lines = state.lines
            read = read_on(fh, state, now.size, max_line=self.max_line)
        self.counters.bytes_parsed += read
        self.counters.lines_parsed += state.lines - before_lines
        if state.lines == before_lines and base is not None and state is not base.state:
            self.counters.unchanged += 1
        return _Entry(now, state, state.cost())

    def _continuable(self, fd: int, base: _Entry | None, now: FileStat) -> TranscriptState | None:
        """A copy of ``base``'s state to read on from, or None: the file must be read anew."""
        if base is None or base.stat.ino != now.ino or now.size <= base.stat.size:
            return None
        state = base.state
        if state.offset > now.size:
            return None
        start = max(0, state.offset - CHECK_BYTES)
        if (
            os.pread(fd, state.offset - start, start) != state.check
            or os.pread(fd, len(state.head), 0) != state.head
        ):
            return None  # rewritten in place: what we parsed is no longer there
        # Readers may hold the old state: the parse goes on in a copy. The leaves only ever
        # grow, so the copy shares them (membership tests are all anyone makes of them) and
        # an append costs its own bytes, not a copy of every uuid.
        fresh = copy.copy(state)
        fresh.summaries = dict(state.summaries)
        return fresh

    def _store(self, path: str, entry: _Entry) -> None:
        old = self._entries.pop(path, None)
        if old is not None:
            self._held -= old.cost
        self._entries[path] = entry
        self._held += entry.cost
        while self._held > self.budget and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._held -= evicted.cost
            self.counters.evictions += 1

    def drop(self, path: str) -> None:
        with self._lock:
            old = self._entries.pop(path, None)
            if old is not None:
                self._held -= old.cost

    def resident(self) -> Iterator[tuple[str, set[int]]]:
        """``(session id, leaves)`` of every state held now (a snapshot)."""
        with self._lock:
            held = [(e.state.session_id, e.state.leaves) for e in self._entries.values()]
        return iter(held)

    @property
    def held_bytes(self) -> int:
        return self._held

    def __len__(self) -> int:
        return len(self._entries)


def _newer(held: FileStat, asked: FileStat) -> bool:
    """The held stat is a later state of the same file than the one asked about."""
    return held.ino == asked.ino and held.size >= asked.size and held.mtime_ns >= asked.mtime_ns
