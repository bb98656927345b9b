"""Chat turns: the user's message into state.db, the backend's reply streamed and written.

The reply is written as the agent writes it: one assistant message whose content grows with
every token (each write its own ``BEGIN IMMEDIATE`` commit). The stream registry in
``webui.db`` makes the turn visible to every server process; heartbeats carry the live message
count and activity so the list overlay can show them while its cache entry is held.
A client that connects late gets the text so far, then the rest; on another process it
follows the assistant message in state.db.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import anyio.to_thread

from webui.agentdb.writer import AgentWriter, DatabaseBusy
from webui.agentdb.writers import WriterPool
from webui.live.backends import Backend, BackendError, ChatMessage
from webui.live.events import EventBroker
from webui.state.registry import StreamRegistry
from webui.state.webuidb import WebuiDBError

MAX_MESSAGE_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class StreamEvent:
    event: str  # "token", "end" or "error"
    data: dict[str, object]


@dataclass
class Turn:
    stream_id: str
    profile: str
    session_id: str
    text: list[str] = field(default_factory=list)
    outcome: StreamEvent | None = None
    message_id: int | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task[None] | None = None


class SessionMissing(Exception):
    pass


class TurnManager:
    def __init__(
        self,
        *,
        writers: WriterPool,
        registry: StreamRegistry,
        events: EventBroker,
        backend: Backend,
        heartbeat_interval: float,
    ) -> None:
        self.writers = writers
        self.registry = registry
        self.events = events
        self.backend = backend
        self.heartbeat_interval = heartbeat_interval
        self.turns: dict[str, Turn] = {}

    async def start(self, profile: str, session_id: str, content: str) -> str:
        """Write the user's message, register the stream and run the turn in the background."""
        writer = await anyio.to_thread.run_sync(self.writers.get, profile)
        if not await anyio.to_thread.run_sync(writer.session_exists, session_id):
            raise SessionMissing(session_id)
        stream_id = secrets.token_hex(8)
        history = await anyio.to_thread.run_sync(lambda: writer.history(session_id))
        await anyio.to_thread.run_sync(
            lambda: self.registry.start(
                stream_id=stream_id,
                profile=profile,
                session_id=session_id,
                pending_message=content[:500],
                message_count=len(history),
            )
        )
        try:
            await anyio.to_thread.run_sync(
                lambda: writer.append_message(
                    session_id, role="user", content=content, now=time.time()
                )
            )
        except BaseException:
            await anyio.to_thread.run_sync(
                lambda: self.registry.finish(stream_id, status="error", error="not written")
            )
            raise
        turn = Turn(stream_id, profile, session_id)
        self.turns[stream_id] = turn
        self.events.publish(profile, "stream_started")
        chat = [ChatMessage(role, text) for role, text in history]
        chat.append(ChatMessage("user", content))
        turn.task = asyncio.create_task(self._run(turn, writer, chat))
        return stream_id

    async def _run(self, turn: Turn, writer: AgentWriter, chat: list[ChatMessage]) -> None:
        beat = asyncio.create_task(self._heartbeat(turn, writer))
        status, error = "done", None
        try:
            async for chunk in self.backend.stream(chat):
                await self._token(turn, writer, chunk)
        except BackendError as exc:
            status, error = "error", str(exc)
        except DatabaseBusy as exc:
            status, error = "error", f"state.db stayed locked: {exc}"
        except asyncio.CancelledError:
            status = "cancelled"
        finally:
            beat.cancel()
            # A heartbeat that failed (state.db locked) must not keep the turn from ending.
            await asyncio.gather(beat, return_exceptions=True)
            await self._finish(turn, writer, status, error)

    async def _token(self, turn: Turn, writer: AgentWriter, chunk: str) -> None:
        turn.text.append(chunk)
        content, now = "".join(turn.text), time.time()
        if turn.message_id is None:
            turn.message_id = await anyio.to_thread.run_sync(
                lambda: writer.append_message(
                    turn.session_id, role="assistant", content=content, now=now
                )
            )
            await self._beat(turn, writer, clear_pending=True)
        else:
            message_id = turn.message_id
            await anyio.to_thread.run_sync(
                lambda: writer.set_message_content(
                    turn.session_id, message_id, content=content, now=now
                )
            )
        async with turn.changed:
            turn.changed.notify_all()

    async def _beat(self, turn: Turn, writer: AgentWriter, *, clear_pending: bool = False) -> None:
        count = await anyio.to_thread.run_sync(lambda: writer.message_count(turn.session_id))
        # webui.db locked by another process: the reply goes on (it is written to state.db)
        # and the next heartbeat tries again.
        with contextlib.suppress(WebuiDBError):
            await anyio.to_thread.run_sync(
                lambda: self.registry.heartbeat(
                    turn.stream_id,
                    message_count=count,
                    last_activity_at=time.time(),
                    assistant_message_id=turn.message_id,
                    clear_pending=clear_pending,
                )
            )

    async def _heartbeat(self, turn: Turn, writer: AgentWriter) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self._beat(turn, writer)
            record = await anyio.to_thread.run_sync(self.registry.get, turn.stream_id)
            if record is not None and record.status == "cancelling" and turn.task is not None:
                turn.task.cancel()  # another process asked to stop it

    async def _finish(
        self, turn: Turn, writer: AgentWriter, status: str, error: str | None
    ) -> None:
        if turn.message_id is not None:
            message_id, content = turn.message_id, "".join(turn.text)
            reason = {"done": "stop", "cancelled": "cancelled"}.get(status, "error")
            await anyio.to_thread.run_sync(
                lambda: writer.set_message_content(
                    turn.session_id,
                    message_id,
                    content=content,
                    now=time.time(),
                    finish_reason=reason,
                )
            )
        # If webui.db stays locked the registry keeps the stream open, but without heartbeats
        # it stops counting as live within stream_stale_after; the reply is in state.db.
        with contextlib.suppress(WebuiDBError):
            await anyio.to_thread.run_sync(
                lambda: self.registry.finish(turn.stream_id, status=status, error=error)
            )
        if error is not None:
            turn.outcome = StreamEvent("error", {"message": error, "status": status})
        else:
            turn.outcome = StreamEvent("end", {"message_id": turn.message_id, "status": status})
        self.events.publish(turn.profile, "stream_ended")
        async with turn.changed:
            turn.changed.notify_all()

    async def cancel(self, stream_id: str) -> bool:
        """Stop a turn here, or ask the process running it; False if it is not running."""
        turn = self.turns.get(stream_id)
        if turn is not None and turn.task is not None and turn.outcome is None:
            turn.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(turn.task)
            return True
        return await anyio.to_thread.run_sync(self.registry.request_cancel, stream_id)

    async def follow(self, turn: Turn) -> AsyncIterator[StreamEvent]:
        """The turn's text so far, then each new chunk, then its end (same process)."""
        sent = 0
        while True:
            async with turn.changed:
                if sent == len(turn.text) and turn.outcome is None:
                    await turn.changed.wait()
            if sent < len(turn.text):
                text = "".join(turn.text[sent:])
                sent = len(turn.text)
                yield StreamEvent("token", {"text": text})
            elif turn.outcome is not None:
                yield turn.outcome
                return

    async def close(self) -> None:
        """Cancel running turns (shutdown): what was written stays, streams end as cancelled."""
        tasks = [t.task for t in self.turns.values() if t.task is not None and not t.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
