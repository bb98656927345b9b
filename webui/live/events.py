"""In-process pub/sub of ``sessions_changed`` events for Server-Sent Events subscribers.

Publishers never wait: every subscription keeps its own bounded buffer. Events for one
(profile, reason) that pile up within the coalescing window reach a subscriber once, with the
latest version, so a burst of commits becomes one refetch in the browser. A subscriber that falls
so far behind that its buffer fills loses the buffer and gets a single ``("*", "overflow")``
event instead: the browser refetches everything, which is what it would do after a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson

ALL_PROFILES = "*"
OVERFLOW = "overflow"


@dataclass(frozen=True)
class ChangeEvent:
    """Something a session list shows may have changed in ``profile`` (``"*"``: in all)."""

    profile: str
    reason: str
    version: int

    def as_json(self) -> bytes:
        return orjson.dumps(
            {"profile": self.profile, "reason": self.reason, "version": self.version}
        )


@dataclass(frozen=True)
class _Key:
    profile: str
    reason: str


class Subscription:
    """One subscriber's events, as an async iterator in version order; ends when closed."""

    def __init__(self, coalesce_seconds: float, queue_size: int) -> None:
        self._coalesce = coalesce_seconds
        self._size = queue_size
        # Insertion order is version order: a replaced key is re-inserted at the end.
        self._pending: dict[_Key, ChangeEvent] = {}
        self._ready: deque[ChangeEvent] = deque()
        self._since = 0.0  # monotonic time the oldest pending event arrived
        self._wake = asyncio.Event()
        self._closed = asyncio.Event()

    def put(self, event: ChangeEvent, now: float) -> None:
        key = _Key(event.profile, event.reason)
        buffered = len(self._pending) + len(self._ready)
        if key not in self._pending and buffered >= self._size:
            # Whatever was buffered is superseded by "refetch everything".
            self._pending.clear()
            self._ready.clear()
            event = ChangeEvent(ALL_PROFILES, OVERFLOW, event.version)
            key = _Key(event.profile, event.reason)
        if not self._pending:
            self._since = now
        self._pending.pop(key, None)
        self._pending[key] = event
        self._wake.set()

    def close(self) -> None:
        self._closed.set()
        self._wake.set()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> ChangeEvent:
        while not self._ready:
            if self.closed:
                raise StopAsyncIteration
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            await self._hold()
            self._ready.extend(self._pending.values())
            self._pending.clear()
        if self.closed:
            raise StopAsyncIteration
        return self._ready.popleft()

    async def _hold(self) -> None:
        """Wait out the coalescing window of the oldest pending event (or until closed)."""
        delay = self._since + self._coalesce - time.monotonic()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), delay)


class EventBroker:
    """Fans published changes out to every open subscription; one per app."""

    def __init__(self, *, coalesce_seconds: float = 0.05, queue_size: int = 256) -> None:
        if coalesce_seconds < 0:
            raise ValueError("coalesce_seconds must not be negative")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self._coalesce = coalesce_seconds
        self._queue_size = queue_size
        self._version = 0
        self._subscriptions: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    @property
    def version(self) -> int:
        """The version of the latest published event (0 before the first)."""
        return self._version

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the event loop that worker threads hand their events to."""
        self._loop = loop

    def publish(self, profile: str, reason: str) -> int:
        """Publish from the event loop's thread; returns the event's version."""
        self._version += 1
        event = ChangeEvent(profile, reason, self._version)
        now = time.monotonic()
        for subscription in self._subscriptions:
            subscription.put(event, now)
        return self._version

    def publish_threadsafe(self, profile: str, reason: str) -> None:
        """Publish from a worker thread: the event is handed to the loop given to ``start``."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("EventBroker.start() was not called")
        try:
            loop.call_soon_threadsafe(self.publish, profile, reason)
        except RuntimeError:
            # A turn finishing while the server shuts down: nobody is left to tell.
            if not loop.is_closed():
                raise

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[ChangeEvent]]:
        """A subscription to every event published from now on, until the block exits."""
        subscription = Subscription(self._coalesce, self._queue_size)
        if self._closed:
            subscription.close()
        else:
            self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            subscription.close()

    def close(self) -> None:
        """End every subscription (their iterators stop) and refuse new ones: shutdown."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.close()
        self._subscriptions.clear()
