"""``SessionListCache``: TTL + LRU + single flight + stale-while-revalidate, driven by stamps.

The caller takes the source stamp *before* calling :meth:`SessionListCache.get` (and before
any build starts), synchronously, so stamps are ordered like calls. An entry is served as a
hit while its stamp equals the current one and its TTL has not run out. An expired entry
whose stamp still matches is served at once (``stale``) while one rebuild runs in the
background, and so is an entry whose stamp ``stands_in`` for the current one (a change the
caller can show without a rebuild, e.g. a stream starting). Any other changed stamp or a cold
key waits — bounded — for the one rebuild of that key; a rebuild started before the caller's
stamp was taken cannot show what the caller must see, so the caller waits for the next one.
A rebuild whose value is ``same`` as the entry's keeps the old value, so what was derived
from it (bytes, ETags) stays valid and an unchanged poll still ends in a 304. A failing
rebuild serves the last good value as ``stale`` and is not retried by every request: for
``retry_after`` seconds the same stamp is served stale at once.

The clock is injected and read once per operation; ``time.monotonic`` is looked up at call
time so freezegun can move it."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

HIT, MISS, STALE = "hit", "miss", "stale"


class CacheTimeout(Exception):
    """A cold request waited ``build_wait`` seconds for the rebuild and got nothing."""


class BuildFailed(Exception):
    """A rebuild failed and there is no earlier value to serve."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class Lookup(NamedTuple, Generic[V]):
    value: V
    status: str
    build_seconds: float | None = None
    problem: str | None = None


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    stamp: Hashable
    built_at: float
    ttl: float
    ticket: int
    failed_stamp: Hashable | None = None
    failed_at: float = 0.0


@dataclass(slots=True)
class _Flight:
    ticket: int
    stamp: Hashable
    future: asyncio.Future[float]
    task: asyncio.Task[None] | None = None


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    stale: int = 0
    rebuilds: int = 0
    failures: int = 0
    not_modified: int = 0
    evictions: int = 0
    timeouts: int = 0
    samples: deque[float] = field(default_factory=lambda: deque(maxlen=1024))

    def percentiles(self) -> dict[str, float | None]:
        ordered = sorted(self.samples)

        def pick(q: float) -> float | None:
            if not ordered:
                return None
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

        return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


class SessionListCache(Generic[K, V]):
    def __init__(
        self,
        *,
        max_entries: int = 64,
        build_wait: float = 30.0,
        retry_after: float = 1.0,
        recoverable: tuple[type[Exception], ...] = (),
        same: Callable[[V, V], bool] | None = None,
        stands_in: Callable[[Hashable, Hashable], bool] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.max_entries = max_entries
        self.build_wait = build_wait
        self.retry_after = retry_after
        self.recoverable = recoverable
        self.same = same
        self.stands_in = stands_in
        self.stats = CacheStats()
        self._clock = clock
        self._entries: OrderedDict[K, _Entry[V]] = OrderedDict()
        self._flights: dict[K, _Flight] = {}
        self._tickets = itertools.count(1)
        self.last_problem: str | None = None

    def _now(self) -> float:
        return self._clock() if self._clock is not None else time.monotonic()

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, key: K) -> V | None:
        entry = self._entries.get(key)
        return None if entry is None else entry.value

    async def get(
        self, key: K, stamp: Hashable, ttl: float, build: Callable[[], Awaitable[V]]
    ) -> Lookup[V]:
        """The value for ``key`` as of ``stamp`` (see the module docstring for the rules)."""
        ticket = next(self._tickets)
        now = self._now()
        entry = self._entries.get(key)
        if entry is not None and entry.stamp == stamp:
            self._entries.move_to_end(key)
            if now - entry.built_at < entry.ttl:
                self.stats.hits += 1
                return Lookup(entry.value, HIT)
            if key not in self._flights:
                self._start(key, ticket, stamp, ttl, build)
            self.stats.stale += 1
            return Lookup(entry.value, STALE)
        if entry is None:
            return await self._wait(key, ticket, stamp, ttl, build, now + self.build_wait)
        failed = entry.failed_stamp == stamp and now - entry.failed_at < self.retry_after
        if failed:
            self.stats.stale += 1
            return Lookup(entry.value, STALE, problem=self.last_problem)
        if self.stands_in is not None and self.stands_in(entry.stamp, stamp):
            self._entries.move_to_end(key)
            if key not in self._flights:
                self._start(key, ticket, stamp, ttl, build)
            self.stats.stale += 1
            return Lookup(entry.value, STALE)
        return await self._wait(key, ticket, stamp, ttl, build, now + self.build_wait)

    async def _wait(
        self,
        key: K,
        ticket: int,
        stamp: Hashable,
        ttl: float,
        build: Callable[[], Awaitable[V]],
        deadline: float,
    ) -> Lookup[V]:
        while True:
            flight = self._flights.get(key) or self._start(key, ticket, stamp, ttl, build)
            try:
                seconds = await asyncio.wait_for(
                    asyncio.shield(flight.future), max(0.0, deadline - self._now())
                )
            except TimeoutError:
                self.stats.timeouts += 1
                raise CacheTimeout(f"no list within {self.build_wait:g} s") from None
            except self.recoverable as exc:
                return self._after_failure(key, stamp, exc)
            # A flight whose stamp predates ours may miss a change we must show: go again.
            if flight.ticket >= ticket or flight.stamp == stamp:
                entry = self._entries[key]
                self._entries.move_to_end(key)
                self.stats.misses += 1
                mine = flight.ticket == ticket
                return Lookup(entry.value, MISS, seconds if mine else None)

    def _after_failure(self, key: K, stamp: Hashable, exc: BaseException) -> Lookup[V]:
        entry = self._entries.get(key)
        if entry is None:
            raise BuildFailed(exc) from exc
        entry.failed_stamp, entry.failed_at = stamp, self._now()
        self.stats.stale += 1
        return Lookup(entry.value, STALE, problem=str(exc))

    def _start(
        self, key: K, ticket: int, stamp: Hashable, ttl: float, build: Callable[[], Awaitable[V]]
    ) -> _Flight:
        loop = asyncio.get_running_loop()
        flight = _Flight(ticket, stamp, loop.create_future())
        self._flights[key] = flight
        flight.task = loop.create_task(self._run(key, flight, ttl, build))
        return flight

    async def _run(
        self, key: K, flight: _Flight, ttl: float, build: Callable[[], Awaitable[V]]
    ) -> None:
        started = time.perf_counter()
        try:
            value = await build()
        except self.recoverable as exc:
            self.stats.failures += 1
            self.last_problem = str(exc)
            self._finish(key, flight, exc)
            return
        except asyncio.CancelledError:
            self._flights.pop(key, None)
            flight.future.cancel()
            raise
        except Exception as exc:  # noqa: BLE001 - handed on to every waiter, not swallowed
            # Not a named outcome: every waiter sees the real error (a bug, loudly).
            self._finish(key, flight, exc)
            return
        seconds = time.perf_counter() - started
        self.stats.rebuilds += 1
        self.stats.samples.append(seconds)
        self.last_problem = None
        current = self._entries.get(key)
        if current is None or current.ticket <= flight.ticket:
            if current is not None and self.same is not None and self.same(current.value, value):
                # Nothing changed: keep the old value (and so its bytes and ETags), renewed.
                value = current.value
            self._entries[key] = _Entry(value, flight.stamp, self._now(), ttl, flight.ticket)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
                self.stats.evictions += 1
        self._finish(key, flight, seconds)

    def _finish(self, key: K, flight: _Flight, outcome: float | BaseException) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if isinstance(outcome, BaseException):
            flight.future.set_exception(outcome)
            # Background refreshes have no waiter: retrieve so asyncio does not warn.
            flight.future.exception()
        else:
            flight.future.set_result(outcome)

    async def close(self) -> None:
        """Cancel rebuilds still running (at shutdown)."""
        tasks = [f.task for f in self._flights.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
