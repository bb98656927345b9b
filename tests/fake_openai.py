"""A small but real OpenAI-compatible server for backend tests.

A Starlette app served by a real uvicorn on 127.0.0.1 (a free port) in a background thread. Its
``behaviour`` scripts the next answers to ``POST /v1/chat/completions``; every request is
recorded, so tests can check what the client sent.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

Behaviour = Literal[
    "stream",  # the reply in chunks, a usage chunk, then [DONE]
    "unauthorized",  # 401 with an OpenAI-style error JSON
    "server_error",  # 500 with a plain-text body
    "stall",  # the first chunk, then nothing for `stall_seconds`
    "malformed",  # the first chunk, then a data line that is not JSON
    "no_done",  # the reply in chunks, then the connection closes without [DONE]
    "empty",  # the connection closes before any content or [DONE]
    "error_chunk",  # the first chunk, then an error object inside the stream
    "json",  # ignores stream=true and answers with one chat.completion object
]

UNAUTHORIZED_MESSAGE = "Incorrect API key provided: sk-wrong."
DEFAULT_REPLY = ("Hello", ",", " world", "! How", " can I", " help?")


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeOpenAI:
    """The scripted server; ``base_url`` is set once it listens."""

    behaviour: Behaviour = "stream"
    reply: tuple[str, ...] = DEFAULT_REPLY
    stall_seconds: float = 30.0
    base_url: str = ""
    requests: list[RecordedRequest] = field(default_factory=list)

    def reset(self) -> None:
        self.behaviour = "stream"
        self.reply = DEFAULT_REPLY
        self.stall_seconds = 30.0
        self.requests.clear()

    def app(self) -> Starlette:
        route = Route("/v1/chat/completions", self._completions, methods=["POST"])
        return Starlette(routes=[route])

    async def _completions(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(RecordedRequest(request.url.path, dict(request.headers), body))
        behaviour = self.behaviour
        if behaviour == "unauthorized":
            error = {"message": UNAUTHORIZED_MESSAGE, "type": "invalid_request_error"}
            return JSONResponse({"error": {**error, "code": "invalid_api_key"}}, 401)
        if behaviour == "server_error":
            return PlainTextResponse("Internal Server Error", 500)
        if behaviour == "json":
            message = {"role": "assistant", "content": "".join(self.reply)}
            return JSONResponse({"object": "chat.completion", "choices": [{"message": message}]})
        return StreamingResponse(self._events(behaviour), media_type="text/event-stream")

    async def _events(self, behaviour: Behaviour) -> AsyncIterator[bytes]:
        yield _data(_chunk({"role": "assistant", "content": ""}))
        yield b": keep-alive comment, which clients must skip\n\n"
        if behaviour == "empty":
            return
        pieces = self.reply if behaviour in ("stream", "no_done") else self.reply[:1]
        for piece in pieces:
            yield _data(_chunk({"content": piece}))
        if behaviour == "stall":
            await anyio.sleep(self.stall_seconds)
        elif behaviour == "malformed":
            yield b'data: {"choices": [{"delta": {"content": "trunc\n\n'
        elif behaviour == "error_chunk":
            yield _data({"error": {"message": "The model is overloaded."}})
        elif behaviour == "stream":
            yield _data({"object": "chat.completion.chunk", "choices": [], "usage": {"total": 9}})
            yield b"data: [DONE]\n\n"


def _chunk(delta: dict[str, str]) -> dict[str, object]:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}


def _data(payload: object) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def unused_port() -> int:
    """A port nothing listens on (for connection-refused tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def serve_fake_openai(start_timeout: float = 10.0) -> Iterator[FakeOpenAI]:
    """Run a ``FakeOpenAI`` on uvicorn in a thread for the duration of the block."""
    fake = FakeOpenAI()
    # Binding here and handing the socket to uvicorn avoids a race for a "free" port.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        fake.app(), loop="asyncio", lifespan="off", log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.01)
    fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
