"""Endpoints of the live runtime: change events, chat turns and their token streams."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import orjson
from sse_starlette.sse import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webui.agentdb.home import check_session_id, state_db_path
from webui.agentdb.reader import SourceUnavailable, read_messages
from webui.api.bodies import json_response, read_json_object
from webui.api.common import ctx_of, read_only, request_profile, session_row
from webui.errors import ApiError, bad_param, not_found
from webui.live.turns import MAX_MESSAGE_CHARS, SessionMissing, StreamEvent
from webui.state.registry import StreamConflict
from webui.state.webuidb import StreamRecord

PING_SECONDS = 15
FOLLOW_POLL = 0.1
SHUTDOWN_GRACE = 1.0

T = TypeVar("T")


async def until_shutdown(source: AsyncIterator[T], shutdown: anyio.Event) -> AsyncIterator[T]:
    """Items of ``source`` until the server shuts down; then the stream ends cleanly.

    uvicorn waits for open responses before it shuts the app down, so an endless SSE stream
    must notice the shutdown itself (sse-starlette sets ``shutdown``) and finish its body.
    """
    stop = asyncio.ensure_future(shutdown.wait())
    try:
        while True:
            step = asyncio.ensure_future(anext(source))
            await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await step
                return
            try:
                yield step.result()
            except StopAsyncIteration:
                return
    finally:
        stop.cancel()


def sse_response(events: AsyncIterator[dict[str, Any]], shutdown: anyio.Event) -> Response:
    return EventSourceResponse(
        events,
        ping=PING_SECONDS,
        headers={"Cache-Control": "no-cache"},
        shutdown_event=shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE,
    )


async def session_events(request: Request) -> Response:
    """``sessions_changed`` events as Server-Sent Events, with keep-alive pings."""
    ctx = ctx_of(request)

    shutdown = anyio.Event()

    async def stream() -> AsyncIterator[dict[str, Any]]:
        async with ctx.events.subscribe() as events:
            yield {"event": "ready", "data": "{}"}
            async for event in until_shutdown(aiter(events), shutdown):
                yield {
                    "event": "sessions_changed",
                    "data": event.as_json().decode(),
                    "id": str(event.version),
                }

    return sse_response(stream(), shutdown)


async def post_message(request: Request) -> Response:
    ctx = ctx_of(request)
    profile = request_profile(request, ctx, claude=True)
    session_id = check_session_id(request.path_params["session_id"])
    refused = read_only(profile)
    if refused is not None:
        raise refused
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    unknown = sorted(set(body) - {"content"})
    if unknown:
        raise bad_param(unknown[0], f"unknown field {unknown[0]!r}")
    content = body.get("content")
    if not isinstance(content, str) or not content.strip():
        raise bad_param("content", "content must be a non-empty string")
    if len(content) > MAX_MESSAGE_CHARS:
        raise bad_param("content", f"content must be at most {MAX_MESSAGE_CHARS} characters")
    await session_row(ctx, profile, session_id)
    try:
        stream_id = await ctx.turns.start(profile, session_id, content)
    except StreamConflict as exc:
        raise ApiError(409, "already_streaming", str(exc), "session_id") from None
    except SessionMissing:
        raise not_found("unknown_session", f"no session {session_id!r}", "session_id") from None
    return json_response({"stream_id": stream_id, "session_id": session_id}, status=202)


def _sse(event: StreamEvent) -> dict[str, Any]:
    return {"event": event.event, "data": orjson.dumps(event.data).decode()}


async def _assistant_text(request: Request, record: StreamRecord) -> str:
    """The reply so far of a stream, read from its assistant message in state.db."""
    ctx = ctx_of(request)
    if record.assistant_message_id is None:
        return ""
    path = state_db_path(ctx.home, record.profile)
    after = record.assistant_message_id - 1
    try:
        found = await anyio.to_thread.run_sync(
            lambda: read_messages(
                path,
                record.session_id,
                after=after,
                limit=1,
                busy_timeout=ctx.settings.busy_timeout,
            )
        )
    except SourceUnavailable:
        return ""
    return (found[0].content or "") if found else ""


async def _follow_elsewhere(request: Request, stream_id: str) -> AsyncIterator[StreamEvent]:
    """A turn run by another process: follow its assistant message in state.db."""
    ctx = ctx_of(request)
    sent = 0
    while True:
        record = await anyio.to_thread.run_sync(ctx.registry.get, stream_id)
        if record is None:
            return
        text = await _assistant_text(request, record)
        if len(text) > sent:
            yield StreamEvent("token", {"text": text[sent:]})
            sent = len(text)
        now = ctx.db.now()
        if record.ended_at is not None or not ctx.registry.is_live(record, now):
            if record.error:
                yield StreamEvent("error", {"message": record.error, "status": record.status})
            else:
                done = record.ended_at is not None
                status = record.status if done else "lost"
                yield StreamEvent(
                    "end", {"message_id": record.assistant_message_id, "status": status}
                )
            return
        await asyncio.sleep(FOLLOW_POLL)


async def stream_tokens(request: Request) -> Response:
    ctx = ctx_of(request)
    stream_id = request.path_params["stream_id"]
    if not (stream_id.isalnum() and len(stream_id) <= 64):
        raise bad_param("stream_id", "not a valid stream id")
    turn = ctx.turns.turns.get(stream_id)
    if turn is None and await anyio.to_thread.run_sync(ctx.registry.get, stream_id) is None:
        raise not_found("unknown_stream", f"no stream {stream_id!r}", "stream_id")
    source = ctx.turns.follow(turn) if turn is not None else _follow_elsewhere(request, stream_id)

    shutdown = anyio.Event()

    async def events() -> AsyncIterator[dict[str, Any]]:
        async for event in until_shutdown(source, shutdown):
            yield _sse(event)

    return sse_response(events(), shutdown)


async def cancel_stream(request: Request) -> Response:
    ctx = ctx_of(request)
    stream_id = request.path_params["stream_id"]
    if not (stream_id.isalnum() and len(stream_id) <= 64):
        raise bad_param("stream_id", "not a valid stream id")
    if await anyio.to_thread.run_sync(ctx.registry.get, stream_id) is None:
        raise not_found("unknown_stream", f"no stream {stream_id!r}", "stream_id")
    cancelled = await ctx.turns.cancel(stream_id)
    return json_response({"stream_id": stream_id, "cancelled": cancelled})


LIVE_ROUTES = [
    Route("/api/sessions/events", session_events, methods=["GET"]),
    Route("/api/sessions/{session_id}/messages", post_message, methods=["POST"]),
    Route("/api/streams/{stream_id}", stream_tokens, methods=["GET"]),
    Route("/api/streams/{stream_id}/cancel", cancel_stream, methods=["POST"]),
]
