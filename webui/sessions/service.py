"""The session-list service: stamps, the cache, the runtime overlay and the response page."""

from __future__ import annotations

import dataclasses
import itertools
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import NamedTuple

import anyio.to_thread

from webui.agentdb.home import list_profiles, state_db_path
from webui.agentdb.reader import SourceUnavailable
from webui.claudecode.source import PROFILE as CLAUDE_PROFILE
from webui.claudecode.source import ClaudeCodeSource
from webui.files import file_stat
from webui.sessions.built import (
    BuiltList,
    Page,
    build_list,
    page_version,
    render_page,
    same_list,
)
from webui.sessions.cache import BuildFailed, CacheTimeout, Lookup, SessionListCache
from webui.sessions.deltas import History, delta_page
from webui.sessions.engine import IndexEngine
from webui.sessions.overlay import Overlay, build_overlay
from webui.sessions.query import ListFlags, ListKey, ListQuery
from webui.sessions.stamp import ProfilePart, ProfileSource, SourceStamp
from webui.sessions.tick import TickMemo
from webui.state.prefs import PreferenceStore
from webui.state.registry import LiveStream, StreamRegistry
from webui.state.webuidb import Snapshot, WebuiDB

_NONE: frozenset[str] = frozenset()
_NO_OVERLAY = Overlay()


class ListResponse(NamedTuple):
    page: Page
    status: str
    build_seconds: float | None
    problem: str | None


def _stands_in(old: Hashable, new: Hashable) -> bool:
    """A list may stand in while it rebuilds when only streams started or ended: the overlay
    shows a started stream at once, and an ended one with its last count and activity."""
    return isinstance(old, SourceStamp) and isinstance(new, SourceStamp) and old.stands_in_for(new)


class SessionLists:
    def __init__(
        self,
        *,
        home: Path,
        db: WebuiDB,
        registry: StreamRegistry,
        prefs: PreferenceStore,
        idle_ttl: float,
        streaming_ttl: float,
        busy_timeout: float,
        cache_entries: int,
        build_wait: float,
        incremental: bool = True,
        claude: ClaudeCodeSource | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.home = home
        self.db = db
        self.registry = registry
        self.prefs = prefs
        self.idle_ttl = idle_ttl
        self.streaming_ttl = streaming_ttl
        self.busy_timeout = busy_timeout
        self.cache: SessionListCache[ListKey, BuiltList] = SessionListCache(
            max_entries=cache_entries,
            build_wait=build_wait,
            recoverable=(SourceUnavailable,),
            same=same_list,
            stands_in=_stands_in,
            clock=clock,
        )
        self._clock = clock
        self._sources: dict[str, ProfileSource] = {}
        self._other_counts: dict[tuple[str, ListFlags], tuple[float, int]] = {}
        self.problems: dict[str, str] = {}
        self.tick = TickMemo()
        self.incremental = incremental
        # Other session sources, by scope name: in every list's scope (they belong to no
        # profile), each with an index of its own.
        self.others: dict[str, ClaudeCodeSource] = {}
        if claude is not None and claude.enabled:
            self.others[CLAUDE_PROFILE] = claude
        self.engine = IndexEngine(
            home=home,
            busy_timeout=busy_timeout,
            profile_state=db.read_profile_state,
            others=self.others,
            max_views=cache_entries,
        )
        self.history = History(max_keys=cache_entries)
        self.deltas_sent = 0
        self.full_answers = 0  # polls with ``since`` answered with the whole page
        # Versions name built lists: unique in this process, never reused by a restart.
        self._version_prefix = secrets.token_hex(3)
        self._serial = itertools.count(1)

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def close(self) -> None:
        for source in self._sources.values():
            source.close()
        self.engine.close()

    def _source(self, profile: str) -> ProfileSource:
        source = self._sources.get(profile)
        if source is None:
            source = ProfileSource(profile, state_db_path(self.home, profile))
            self._sources[profile] = source
        return source

    def stamp(
        self, key: ListKey, live: tuple[LiveStream, ...], snapshot: Snapshot
    ) -> tuple[SourceStamp, float]:
        """The stamp of ``key``'s sources now, and the TTL that applies to it.

        An exact stamp (no stream live in scope, every fingerprint read) proves the sources
        unchanged while it matches, so its entry never expires: an idle poll never rebuilds.
        The idle TTL bounds trust in a stamp that could not be read in full (a locked
        database); the streaming TTL bounds how long per-token commits are held back.
        """
        parts = tuple(self._part(profile, live) for profile in key.profiles)
        others = tuple(
            (name, self.tick.get(("source", name), source.stamp))
            for name, source in self.others.items()
        )
        stamp = SourceStamp(parts, self.prefs.stat, snapshot.structure_version, (), others)
        if stamp.streaming:
            return stamp, self.streaming_ttl
        return stamp, math.inf if stamp.exact else self.idle_ttl

    def _part(self, profile: str, live: tuple[LiveStream, ...]) -> ProfilePart:
        ids = frozenset(s.stream_id for s in live if s.profile == profile) if live else _NONE
        source = self._source(profile)
        return self.tick.get((profile, ids), lambda: source.part(ids))

    def snapshot(self) -> Snapshot:
        """``webui.db``'s journal version and open streams, shared within one loop tick."""
        return self.tick.get("snapshot", self.db.snapshot)

    def _check_files(self, key: ListKey) -> None:
        """A ``state.db`` that was there and is gone (a restore in progress, a mistake), or
        that is not a file, is a problem to report, not an empty list: the last good list
        is served until the file is back. Missing from the start, it is an empty list."""
        for profile in key.profiles:
            path = state_db_path(self.home, profile)
            stat = file_stat(path)
            if stat is not None and not stat.is_file:
                raise SourceUnavailable(path, "unreadable", "it is not a regular file")
            source = self._sources.get(profile)
            if stat is None and source is not None and source.probe.generation > 0:
                raise SourceUnavailable(
                    path, "missing", "the file was removed; serving the last good list"
                )

    def _builder(self, key: ListKey, stamp: SourceStamp) -> Callable[[], Awaitable[BuiltList]]:
        async def build() -> BuiltList:
            wall = time.time()

            def run() -> BuiltList:
                self._check_files(key)
                if not self.incremental:
                    built = self.build_full(key, wall)
                else:
                    built = self.engine.build(key, stamp, wall)
                built.version = f"{self._version_prefix}.{next(self._serial)}"
                return built

            return await anyio.to_thread.run_sync(run)

        return build

    def build_full(self, key: ListKey, wall: float) -> BuiltList:
        """The list of ``key`` built from scratch: the reference the index is held to."""
        return build_list(
            key,
            home=self.home,
            busy_timeout=self.busy_timeout,
            profile_state=self.db.read_profile_state,
            wall_time=wall,
            others={name: source.read_all for name, source in self.others.items()},
        )

    def index_stats(self) -> dict[str, int]:
        """What the incremental engine and the deltas did, for ``/api/health``."""
        return {
            **self.engine.stats(),
            "deltas_sent": self.deltas_sent,
            "full_answers_to_since": self.full_answers,
        }

    async def lookup(
        self, key: ListKey, live: tuple[LiveStream, ...], snapshot: Snapshot
    ) -> Lookup[BuiltList]:
        stamp, ttl = self.stamp(key, live, snapshot)
        try:
            result = await self.cache.get(key, stamp, ttl, self._builder(key, stamp))
        except BuildFailed as exc:  # no good list at all: still reported in health
            for profile in key.profiles:
                self.problems[profile] = str(exc)
            raise
        for profile in key.profiles:
            if result.problem:
                self.problems[profile] = result.problem
            else:
                self.problems.pop(profile, None)
        return result

    def _overlay(
        self, built: BuiltList, key: ListKey, live: tuple[LiveStream, ...], snapshot: Snapshot
    ) -> Overlay:
        ended = (
            self.registry.ended_since(built.built_at, key.profiles, snapshot)
            if snapshot.ended_streams
            else ()
        )
        if not live and not ended:
            return _NO_OVERLAY
        return build_overlay(
            built.position, built.rows, built.search, built.empty, live, ended, built.pinned_count
        )

    async def current(self, key: ListKey) -> tuple[BuiltList, Overlay]:
        """The list of ``key`` as it is now, and the live overlay to lay over it."""
        snapshot = self.snapshot()
        live = self.registry.live(key.profiles, snapshot)
        built = (await self.lookup(key, live, snapshot)).value
        return built, self._overlay(built, key, live, snapshot)

    async def total(self, key: ListKey) -> int:
        """How many rows of its own the list of ``key`` has now (profile counts,
        other_profiles): rows of the other sources, which every list shows, are not counted."""
        if self.others and key.flags.show_claude_code:
            key = dataclasses.replace(
                key, flags=dataclasses.replace(key.flags, show_claude_code=False)
            )
        built, overlay = await self.current(key)
        return len(built.rows) - len(overlay.replaced) + len(overlay.added)

    async def other_profiles(self, query: ListQuery) -> int:
        """Rows in the other profiles' lists with the same flags: a hint for the picker.

        Counting means stamping every other profile, so the count is kept for the idle TTL
        rather than paid on every poll; the list's own rows are always exact.
        """
        if query.key.all_profiles:
            return 0
        memo_key, now = (query.profile, query.key.flags), self._now()
        known = self._other_counts.get(memo_key)
        if known is not None and now - known[0] < self.idle_ttl:
            return known[1]
        total = 0
        for profile in list_profiles(self.home):
            if profile not in query.key.profiles:
                try:
                    total += await self.total(ListKey((profile,), False, query.key.flags))
                except (BuildFailed, CacheTimeout):
                    continue  # unreadable (reported in health): it must not fail this list
        if len(self._other_counts) > 256:
            self._other_counts.clear()
        self._other_counts[memo_key] = (now, total)
        return total

    async def respond(self, query: ListQuery) -> ListResponse:
        snapshot = self.snapshot()
        live = self.registry.live(query.key.profiles, snapshot)
        result = await self.lookup(query.key, live, snapshot)
        built = result.value
        overlay = self._overlay(built, query.key, live, snapshot)
        others = await self.other_profiles(query)
        page = render_page(built, query, overlay, others)
        self.history.remember(query.key, page_version(built, overlay), built, overlay)
        if query.since is not None:
            page = self._since(built, overlay, query, page, others)
        return ListResponse(page, result.status, result.build_seconds, result.problem)

    def _since(
        self, built: BuiltList, overlay: Overlay, query: ListQuery, page: Page, others: int
    ) -> Page:
        """A delta from the version the client holds, when it is remembered and smaller;
        else the page, marked as a full answer."""
        assert query.since is not None
        held = self.history.get(query.key, query.since)
        if held is not None:
            delta = delta_page(built, overlay, query, held, page, others)
            if delta is not None:
                self.deltas_sent += 1
                return delta
        self.full_answers += 1
        return Page(page.body[:-1] + b',"delta":false}', page.etag, page.total, page.etag_bytes)
