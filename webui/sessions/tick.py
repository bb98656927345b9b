"""Reads shared by every request handled before the event loop moves on.

Under load, many polls are handled back to back, each taking the same source reads (file
stats, ``PRAGMA data_version``). A read taken while handling one request is at least as new as
every request whose handling was already queued: those requests arrived before it was taken.
So a value stored here is shared until the loop reaches a clear callback scheduled (FIFO) when
the value was stored — every handle that runs before that callback was queued before the read,
every one queued after runs after the clear. No request is ever answered from a read older
than its own arrival: a commit made before a poll was sent always shows in that poll, and
that holds for this process's own writes too, so nothing needs clearing by hand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import TypeVar, cast

T = TypeVar("T")


class TickMemo:
    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}
        # Bumped by every clear: equal before and after some work means no clear ran in
        # between, so whatever the work read from here is still shared now.
        self.generation = 0

    def _clear(self) -> None:
        self._values.clear()
        self.generation += 1

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        values = self._values
        if key in values:
            return cast(T, values[key])
        value = compute()
        self.put(key, value)
        return value

    def peek(self, key: Hashable) -> object | None:
        return self._values.get(key)

    def put(self, key: Hashable, value: object) -> None:
        """Share ``value`` until the clear; only for values made from reads shared here."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop, no queue to reason about: nothing is shared
            return
        if not self._values:
            loop.call_soon(self._clear)
        self._values[key] = value
