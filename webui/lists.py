"""The session-list service: stamps, the cache, the runtime overlay and the response page."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from webui.cache import Lookup, SessionListCache
from webui.overlay import LiveStream, Overlay, build_overlay
from webui.prefs import PreferenceStore
from webui.profiles import list_profiles, state_db_path
from webui.query import ListKey, ListQuery
from webui.runtime import StreamRegistry
from webui.sessionlist import BuiltList, Page, build_list, render_page
from webui.stamp import ContentProbe, SourceStamp, profile_part
from webui.store import SourceUnavailable
from webui.webuidb import WebuiDB


@dataclass(frozen=True, slots=True)
class ListResponse:
    page: Page
    status: str
    build_seconds: float | None
    problem: str | None


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
            clock=clock,
        )
        self._probes: dict[str, ContentProbe] = {}
        self.problems: dict[str, str] = {}

    def close(self) -> None:
        for probe in self._probes.values():
            probe.close()

    def _probe(self, profile: str) -> ContentProbe:
        probe = self._probes.get(profile)
        if probe is None:
            probe = self._probes[profile] = ContentProbe(state_db_path(self.home, profile))
        return probe

    def stamp(self, key: ListKey, live: tuple[LiveStream, ...]) -> tuple[SourceStamp, float]:
        """The stamp of ``key``'s sources now, and the TTL that applies to it."""
        journal = self.db.snapshot().journal_version
        parts = tuple(
            profile_part(
                profile,
                state_db_path(self.home, profile),
                self._probe(profile),
                frozenset(s.stream_id for s in live if s.profile == profile),
            )
            for profile in key.profiles
        )
        stamp = SourceStamp(parts, self.prefs.stat, journal, ())
        return stamp, self.streaming_ttl if stamp.streaming else self.idle_ttl

    def _builder(self, key: ListKey) -> Callable[[], Awaitable[BuiltList]]:
        async def build() -> BuiltList:
            wall = time.time()
            return await anyio.to_thread.run_sync(
                lambda: build_list(
                    key,
                    home=self.home,
                    busy_timeout=self.busy_timeout,
                    profile_state=self.db.read_profile_state,
                    wall_time=wall,
                )
            )

        return build

    async def lookup(self, key: ListKey, live: tuple[LiveStream, ...]) -> Lookup[BuiltList]:
        stamp, ttl = self.stamp(key, live)
        result = await self.cache.get(key, stamp, ttl, self._builder(key))
        for profile in key.profiles:
            if result.problem:
                self.problems[profile] = result.problem
            else:
                self.problems.pop(profile, None)
        return result

    async def total(self, key: ListKey) -> int:
        """How many rows the list of ``key`` has now (profile counts, other_profiles)."""
        live = self.registry.live(key.profiles)
        built = (await self.lookup(key, live)).value
        overlay = build_overlay(built.position, built.rows, built.search, built.empty, live)
        return len(built.rows) - len(overlay.replaced) + len(overlay.active)

    async def other_profiles(self, query: ListQuery) -> int:
        if query.key.all_profiles:
            return 0
        total = 0
        for profile in list_profiles(self.home):
            if profile not in query.key.profiles:
                total += await self.total(ListKey((profile,), False, query.key.flags))
        return total

    async def respond(self, query: ListQuery) -> ListResponse:
        live = self.registry.live(query.key.profiles)
        result = await self.lookup(query.key, live)
        built = result.value
        overlay = (
            build_overlay(built.position, built.rows, built.search, built.empty, live)
            if live
            else Overlay()
        )
        page = render_page(built, query, overlay, await self.other_profiles(query))
        return ListResponse(page, result.status, result.build_seconds, result.problem)
