"""The change-event broker: order, versions, coalescing, overflow, shutdown, worker threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import orjson
import pytest

from webui.live.events import ChangeEvent, EventBroker

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def triples(events: list[ChangeEvent]) -> list[tuple[str, str, int]]:
    return [(e.profile, e.reason, e.version) for e in events]


async def take(events: AsyncIterator[ChangeEvent], count: int) -> list[ChangeEvent]:
    """The next ``count`` events, failing the test instead of hanging."""
    async with asyncio.timeout(2):
        return [await anext(events) for _ in range(count)]


async def settle() -> None:
    """Let every ready task run up to its next real wait."""
    for _ in range(5):
        await asyncio.sleep(0)


def test_as_json() -> None:
    event = ChangeEvent("work", "renamed", 7)
    assert orjson.loads(event.as_json()) == {"profile": "work", "reason": "renamed", "version": 7}


def test_versions_strictly_increase_from_one() -> None:
    broker = EventBroker()
    assert broker.version == 0
    assert [broker.publish("default", "commit") for _ in range(3)] == [1, 2, 3]
    assert broker.publish("*", "settings") == 4
    assert broker.version == 4


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="coalesce_seconds"):
        EventBroker(coalesce_seconds=-1)
    with pytest.raises(ValueError, match="queue_size"):
        EventBroker(queue_size=0)


async def test_events_after_subscribing_arrive_in_order() -> None:
    broker = EventBroker(coalesce_seconds=0)
    broker.publish("default", "commit")  # before subscribing: not delivered
    async with broker.subscribe() as events:
        broker.publish("default", "created")
        broker.publish("work", "renamed")
        broker.publish("*", "settings")
        assert triples(await take(events, 3)) == [
            ("default", "created", 2),
            ("work", "renamed", 3),
            ("*", "settings", 4),
        ]


async def test_every_subscriber_gets_every_event() -> None:
    broker = EventBroker(coalesce_seconds=0)
    async with broker.subscribe() as first, broker.subscribe() as second:
        assert broker.subscribers == 2
        broker.publish("default", "pinned")
        assert triples(await take(first, 1)) == triples(await take(second, 1))
    assert broker.subscribers == 0


async def test_same_key_is_coalesced_to_the_latest_version_in_order() -> None:
    broker = EventBroker(coalesce_seconds=0.05)
    async with broker.subscribe() as events:
        broker.publish("default", "commit")
        broker.publish("work", "commit")
        broker.publish("default", "commit")
        broker.publish("default", "archived")
        assert triples(await take(events, 3)) == [
            ("work", "commit", 2),
            ("default", "commit", 3),
            ("default", "archived", 4),
        ]


async def test_events_within_the_window_are_held_and_merged() -> None:
    broker = EventBroker(coalesce_seconds=0.3)
    async with broker.subscribe() as events:
        waiting = asyncio.create_task(take(events, 1))
        await settle()
        broker.publish("default", "commit")
        await settle()  # the subscriber woke up and is holding the window open
        broker.publish("default", "commit")
        broker.publish("default", "commit")
        assert triples(await waiting) == [("default", "commit", 3)]


async def test_no_window_delivers_each_event_once_read() -> None:
    broker = EventBroker(coalesce_seconds=0)
    async with broker.subscribe() as events:
        for version in (1, 2, 3):
            broker.publish("default", "commit")
            assert triples(await take(events, 1)) == [("default", "commit", version)]


async def test_a_slow_subscriber_overflows_once_and_continues() -> None:
    broker = EventBroker(coalesce_seconds=0, queue_size=4)
    async with broker.subscribe() as fast, broker.subscribe() as slow:
        for n in range(1, 11):
            assert broker.publish(f"p{n}", "commit") == n  # never waits for the slow one
            assert triples(await take(fast, 1)) == [(f"p{n}", "commit", n)]
        # p1-p4 filled the buffer, p5 overflowed it, p6-p8 filled it, p9 overflowed again.
        assert triples(await take(slow, 2)) == [("*", "overflow", 9), ("p10", "commit", 10)]
        broker.publish("default", "commit")
        assert triples(await take(slow, 1)) == [("default", "commit", 11)]


async def test_close_ends_every_subscription() -> None:
    broker = EventBroker(coalesce_seconds=0.3)
    received: list[ChangeEvent] = []

    async def listen() -> None:
        async with broker.subscribe() as events:
            async for event in events:
                received.append(event)

    listeners = [asyncio.create_task(listen()) for _ in range(3)]
    await settle()
    assert broker.subscribers == 3
    broker.publish("default", "commit")  # pending in its window when the server stops
    await settle()
    broker.close()
    async with asyncio.timeout(0.2):
        await asyncio.gather(*listeners)
    assert received == []
    assert broker.subscribers == 0


async def test_subscribing_after_close_ends_at_once() -> None:
    broker = EventBroker()
    broker.close()
    async with broker.subscribe() as events:
        assert broker.subscribers == 0
        assert [event async for event in events] == []
    assert broker.publish("default", "commit") == 1


async def test_leaving_the_block_unsubscribes() -> None:
    broker = EventBroker(coalesce_seconds=0)
    async with broker.subscribe() as events:
        assert broker.subscribers == 1
    assert broker.subscribers == 0
    broker.publish("default", "commit")
    assert [event async for event in events] == []


async def test_publish_threadsafe_from_worker_threads() -> None:
    broker = EventBroker(coalesce_seconds=0)
    broker.start(asyncio.get_running_loop())
    threads, per_thread = 4, 25

    def work(worker: int) -> None:
        for n in range(per_thread):
            broker.publish_threadsafe(f"t{worker}", f"r{n}")

    async with broker.subscribe() as events:
        pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
        for thread in pool:
            thread.start()
        got = await take(events, threads * per_thread)
        for thread in pool:
            thread.join()
    versions = [e.version for e in got]
    assert versions == list(range(1, threads * per_thread + 1))
    for worker in range(threads):
        mine = [e.reason for e in got if e.profile == f"t{worker}"]
        assert mine == [f"r{n}" for n in range(per_thread)]


def test_publish_threadsafe_needs_start_and_is_quiet_after_the_loop_closed() -> None:
    broker = EventBroker()
    with pytest.raises(RuntimeError, match="start"):
        broker.publish_threadsafe("default", "commit")
    loop = asyncio.new_event_loop()
    broker.start(loop)
    loop.close()
    broker.publish_threadsafe("default", "stream_ended")  # shutdown race: dropped
    assert broker.version == 0
