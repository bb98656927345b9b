"""The cache contract: TTL, LRU, stamps, single flight, stale-while-revalidate, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from webui.sessions.cache import HIT, MISS, STALE, BuildFailed, CacheTimeout, SessionListCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Boom(Exception):
    pass


def make(clock: Clock, **kwargs: object) -> SessionListCache[str, str]:
    return SessionListCache(clock=clock, recoverable=(Boom,), **kwargs)  # type: ignore[arg-type]


class Builder:
    """Counts builds; each returns ``value-N``; can be gated to make a build slow."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    def __call__(self) -> Callable[[], Awaitable[str]]:
        async def build() -> str:
            self.calls += 1
            n = self.calls
            if self.gate is not None:
                await self.gate.wait()
            if self.fail:
                raise Boom("database is locked")
            return f"value-{n}"

        return build


def run(coro: Awaitable[object]) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


def test_cold_miss_then_hit_within_ttl() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock)
        first = await cache.get("k", "s1", 2.5, builder())
        assert (first.value, first.status) == ("value-1", MISS)
        assert first.build_seconds is not None
        clock.now += 2.4
        second = await cache.get("k", "s1", 2.5, builder())
        assert (second.value, second.status) == ("value-1", HIT)
        assert builder.calls == 1
        assert (cache.stats.hits, cache.stats.misses, cache.stats.rebuilds) == (1, 1, 1)

    run(scenario())


def test_changed_stamp_waits_for_a_rebuild() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock)
        await cache.get("k", "s1", 2.5, builder())
        changed = await cache.get("k", "s2", 2.5, builder())
        assert (changed.value, changed.status) == ("value-2", MISS)

    run(scenario())


def test_expired_entry_is_served_stale_while_one_rebuild_runs() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock)
        await cache.get("k", "s1", 2.5, builder())
        clock.now += 3
        builder.gate = asyncio.Event()
        stale = [await cache.get("k", "s1", 2.5, builder()) for _ in range(5)]
        assert {(r.value, r.status) for r in stale} == {("value-1", STALE)}
        await asyncio.sleep(0)
        assert builder.calls == 2  # five stale serves, one background rebuild
        builder.gate.set()
        await asyncio.sleep(0.01)
        fresh = await cache.get("k", "s1", 2.5, builder())
        assert (fresh.value, fresh.status) == ("value-2", HIT)

    run(scenario())


def test_ttl_is_per_entry() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock)
        await cache.get("k", "streaming", 45.0, builder())
        clock.now += 44
        assert (await cache.get("k", "streaming", 45.0, builder())).status == HIT
        clock.now += 2
        assert (await cache.get("k", "streaming", 45.0, builder())).status == STALE

    run(scenario())


def test_fifty_concurrent_cold_requests_share_one_rebuild() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        builder.gate = asyncio.Event()
        cache = make(clock)
        tasks = [asyncio.create_task(cache.get("k", "s1", 2.5, builder())) for _ in range(50)]
        await asyncio.sleep(0.01)
        builder.gate.set()
        results = await asyncio.gather(*tasks)
        assert builder.calls == 1
        assert {r.value for r in results} == {"value-1"}
        assert cache.stats.rebuilds == 1

    run(scenario())


def test_a_build_overtaken_by_a_change_is_not_served_to_later_requests() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        builder.gate = asyncio.Event()
        cache = make(clock)
        early = asyncio.create_task(cache.get("k", "before", 2.5, builder()))
        await asyncio.sleep(0)
        # A commit lands while the first build runs: later requests carry a new stamp.
        late = asyncio.create_task(cache.get("k", "after", 2.5, builder()))
        await asyncio.sleep(0)
        builder.gate.set()
        first, second = await asyncio.gather(early, late)
        assert first.value == "value-1"
        assert second.value == "value-2"
        assert builder.calls == 2
        again = await cache.get("k", "after", 2.5, builder())
        assert (again.value, again.status) == ("value-2", HIT)
        assert (await cache.get("k", "before", 2.5, builder())).value == "value-3"

    run(scenario())


def test_lru_bound_evicts_least_recently_used() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock, max_entries=2)
        await cache.get("a", "s", 2.5, builder())
        await cache.get("b", "s", 2.5, builder())
        await cache.get("a", "s", 2.5, builder())  # a is now the most recent
        await cache.get("c", "s", 2.5, builder())
        assert cache.peek("b") is None
        assert cache.peek("a") == "value-1"
        assert len(cache) == 2
        assert cache.stats.evictions == 1

    run(scenario())


def test_failed_rebuild_serves_last_good_value_as_stale() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock, retry_after=1.0)
        await cache.get("k", "s1", 2.5, builder())
        builder.fail = True
        result = await cache.get("k", "s2", 2.5, builder())
        assert (result.value, result.status) == ("value-1", STALE)
        assert result.problem is not None and "locked" in result.problem
        # Within retry_after the same stamp is answered stale at once, no new build.
        again = await cache.get("k", "s2", 2.5, builder())
        assert again.status == STALE and builder.calls == 2
        clock.now += 1.5
        builder.fail = False
        recovered = await cache.get("k", "s2", 2.5, builder())
        assert (recovered.value, recovered.status) == ("value-3", MISS)
        assert cache.stats.failures == 1

    run(scenario())


def test_failed_cold_build_raises_build_failed() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        builder.fail = True
        cache = make(clock)
        with pytest.raises(BuildFailed):
            await cache.get("k", "s1", 2.5, builder())

    run(scenario())


def test_cold_wait_is_bounded() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        builder.gate = asyncio.Event()
        cache = SessionListCache[str, str](build_wait=0.05)  # real monotonic clock
        with pytest.raises(CacheTimeout):
            await cache.get("k", "s1", 2.5, builder())
        assert cache.stats.timeouts == 1
        builder.gate.set()
        await cache.close()
        del clock

    run(scenario())


def test_unexpected_errors_reach_every_waiter() -> None:
    async def scenario() -> None:
        cache = make(Clock())

        async def broken() -> str:
            raise RuntimeError("bug")

        with pytest.raises(RuntimeError, match="bug"):
            await cache.get("k", "s1", 2.5, broken)

    run(scenario())


def test_rebuild_percentiles_are_reported() -> None:
    async def scenario() -> None:
        clock, builder = Clock(), Builder()
        cache = make(clock)
        for stamp in range(10):
            await cache.get("k", stamp, 2.5, builder())
        p = cache.stats.percentiles()
        assert p["p50_ms"] is not None and p["p99_ms"] is not None
        assert p["p50_ms"] <= p["p99_ms"]

    run(scenario())


def test_a_refresh_that_changes_nothing_keeps_the_old_value() -> None:
    async def scenario() -> None:
        clock = Clock()
        cache: SessionListCache[str, list[int]] = SessionListCache(
            clock=clock, same=lambda old, new: old == new
        )
        first = (await cache.get("k", "s", 1.0, _const([1, 2]))).value
        clock.now += 2
        await cache.get("k", "s", 1.0, _const([1, 2]))  # stale; refresh in the background
        await asyncio.sleep(0.01)
        assert cache.peek("k") is first  # equal content: the very same object is kept
        assert (await cache.get("k", "s2", 1.0, _const([3]))).value == [3]

    run(scenario())


def _const(value: list[int]) -> Callable[[], Awaitable[list[int]]]:
    async def build() -> list[int]:
        return list(value)

    return build
