"""A minimal Server-Sent Events reader over an httpx2 streaming response."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2


async def sse_events(response: httpx2.Response) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` for every dispatched event; comments and pings are skipped."""
    event, data = "message", list[str]()
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
