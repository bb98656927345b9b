"""Agent backends: where a chat turn's reply comes from, as a stream of text chunks.

``demo`` generates a plausible reply at a set rate, so the whole UI can be seen and tested
without a model; ``openai`` streams from any OpenAI-compatible ``/chat/completions`` endpoint.
Every failure a user could meet surfaces as a ``BackendError`` whose message is fit to show.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx2
import orjson


@dataclass(frozen=True)
class ChatMessage:
    """One message of the conversation sent to a backend."""

    role: str
    content: str


class BackendError(Exception):
    """The backend could not produce (the rest of) a reply; the message is fit to show the user."""


class Backend(Protocol):
    name: str

    def stream(self, history: Sequence[ChatMessage]) -> AsyncIterator[str]:
        """Yield the reply to ``history`` as text chunks; raise ``BackendError`` on failure."""
        ...


# --- demo ------------------------------------------------------------------------------------

_OPENERS = (
    "You asked about {topic}, so here is a short answer.",
    "Good question about {topic}.",
    "Let's look at {topic} step by step.",
    "Here is how I would approach {topic}.",
    "Thinking about {topic}, a few things stand out.",
)
# Each body sentence stays at or under twelve words, which keeps a reply within ~60-120 tokens.
_SENTENCES = (
    "The first thing to settle is what you actually want to optimise.",
    "Start with the simplest version that works, then measure it.",
    "Most of the time the bottleneck is not where you expect.",
    "Write down the assumptions, because they are easy to forget later.",
    "A small experiment will tell you more than a long debate.",
    "Keep the moving parts few and name each of them clearly.",
    "If something fails, make it fail loudly and early.",
    "Check the edge cases: empty input, huge input, and bad input.",
    "Good defaults matter more than a long list of options.",
    "Once it works, write a test that pins the behaviour down.",
    "It helps to separate the pure logic from the input and output.",
    "Be careful with time zones, encodings and file permissions.",
    "Caching is useful, but only with a clear invalidation rule.",
    "Prefer boring, well understood tools for the critical path.",
    "Document the one decision a newcomer would not guess.",
    "Finally, ask whether the problem needs solving at all.",
)
_CLOSERS = (
    "Want me to go deeper on any of these points?",
    "Tell me if you would like a worked example.",
    "I hope that helps; ask away if anything is unclear.",
    "Shall I sketch some code for it?",
)
_TOKEN = re.compile(r"\s*\S+")
_TOPIC_WORDS = 8
_MIN_TOKENS = 60
_MAX_TARGET = 105


def _last_user_text(history: Sequence[ChatMessage]) -> str:
    for message in reversed(history):
        if message.role == "user":
            return message.content
    return ""


def _topic(text: str) -> str:
    words = text.split()
    if not words:
        return "this"
    cut = " ".join(words[:_TOPIC_WORDS])
    return f"“{cut}…”" if len(words) > _TOPIC_WORDS else f"“{cut}”"


def demo_reply(text: str, seed: int) -> list[str]:
    """The demo reply to ``text`` as tokens (words with their leading whitespace).

    A pure function of the message and the seed: the same question gets the same answer.
    """
    # crc32, not hash(): str hashes are salted per process, and the reply must be reproducible.
    rng = random.Random(seed * 1_000_003 + zlib.crc32(text.encode("utf-8")))
    target = rng.randint(_MIN_TOKENS, _MAX_TARGET)
    closer = rng.choice(_CLOSERS)
    parts = [rng.choice(_OPENERS).format(topic=_topic(text))]
    count = len(_TOKEN.findall(parts[0])) + len(_TOKEN.findall(closer))
    paragraph: list[str] = []
    for sentence in rng.sample(_SENTENCES, len(_SENTENCES)):
        if count >= target:
            break
        paragraph.append(sentence)
        count += len(_TOKEN.findall(sentence))
        if len(paragraph) == 3:
            parts.append(" ".join(paragraph))
            paragraph = []
    parts.extend([" ".join(paragraph)] if paragraph else [])
    parts.append(closer)
    return _TOKEN.findall("\n\n".join(parts))


class DemoBackend:
    """A built-in backend: a generated reply, paced at ``tokens_per_second``."""

    def __init__(
        self, *, tokens_per_second: float = 20.0, seed: int = 0, max_tokens: int | None = None
    ) -> None:
        if not tokens_per_second > 0:
            raise ValueError(f"tokens_per_second must be positive, got {tokens_per_second!r}")
        if max_tokens is not None and max_tokens < 0:
            raise ValueError(f"max_tokens must not be negative, got {max_tokens!r}")
        self.name = "demo"
        self._interval = 0.0 if math.isinf(tokens_per_second) else 1.0 / tokens_per_second
        self._seed = seed
        self._max_tokens = max_tokens

    async def stream(self, history: Sequence[ChatMessage]) -> AsyncIterator[str]:
        tokens = demo_reply(_last_user_text(history), self._seed)
        if self._max_tokens is not None:
            tokens = tokens[: self._max_tokens]
        # Pace against a schedule rather than sleeping a fixed interval, so the time the
        # consumer spends per token does not slow the overall rate down.
        start = time.monotonic()
        for index, token in enumerate(tokens):
            if index:
                await asyncio.sleep(max(0.0, start + index * self._interval - time.monotonic()))
            yield token

    async def aclose(self) -> None:
        """Nothing to release; present so callers can close any backend alike."""


# --- OpenAI-compatible -----------------------------------------------------------------------

_SNIPPET = 200


def _error_message(payload: Any) -> str | None:
    """The human message inside an error body, in the shapes OpenAI-compatible servers use."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return str(error["message"])
    for candidate in (error, payload.get("message"), payload.get("detail")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _body_detail(body: bytes) -> str | None:
    try:
        return _error_message(orjson.loads(body))
    except orjson.JSONDecodeError:
        pass
    text = body.decode("utf-8", "replace").strip()
    # A short plain-text body says what went wrong; an HTML error page would only be noise.
    if not text or text.startswith("<"):
        return None
    return text.splitlines()[0][:_SNIPPET]


def _malformed(data: str) -> BackendError:
    return BackendError(f"The model server sent a malformed chunk: {data[:_SNIPPET]!r}")


def _sse_data(line: str) -> str | None:
    """The payload of an SSE ``data:`` line; None for blank lines, comments and other fields."""
    if not line.startswith("data:"):
        return None
    data = line[5:]
    return data[1:] if data.startswith(" ") else data


def chunk_text(data: str) -> str:
    """The text in one streamed chunk's ``choices[0].delta.content`` ("" when it carries none).

    OpenAI-compatible servers put one JSON object on each ``data:`` line. Chunks without
    choices (usage reports, keep-alives) carry no text; an ``error`` object ends the turn.
    """
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _malformed(data) from exc
    if not isinstance(chunk, dict):
        raise _malformed(data)
    if "error" in chunk:
        detail = _error_message(chunk) or "no details"
        raise BackendError(f"The model server reported an error: {detail}")
    choices = chunk.get("choices")
    if not choices:
        return ""
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise _malformed(data)
    delta = choices[0].get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else 0
    if content is None:
        return ""
    if not isinstance(content, str):
        raise _malformed(data)
    return content


def _whole_reply(body: bytes) -> str:
    """The reply of a server that ignored ``stream=true`` and answered with one JSON object."""
    try:
        payload = orjson.loads(body)
        content = payload["choices"][0]["message"]["content"]
    except (orjson.JSONDecodeError, LookupError, TypeError) as exc:
        raise _malformed(body.decode("utf-8", "replace")) from exc
    if not isinstance(content, str):
        raise _malformed(body.decode("utf-8", "replace"))
    return content


class OpenAIBackend:
    """Streams replies from an OpenAI-compatible ``POST {base_url}/chat/completions``."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        timeout: float = 60.0,
        client: httpx2.AsyncClient | None = None,
    ) -> None:
        url = httpx2.URL(base_url.rstrip("/") + "/chat/completions")
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        self.name = "openai"
        self._base_url = base_url.rstrip("/")
        self._url = url
        self._model = model
        self._api_key = api_key
        # One timeout for connect, write and each read: a stalled stream fails after `timeout`
        # seconds without a byte, however long the whole reply takes.
        self._timeout = httpx2.Timeout(timeout)
        self._owns_client = client is None
        self._client = client if client is not None else httpx2.AsyncClient(timeout=self._timeout)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _payload(self, history: Sequence[ChatMessage]) -> dict[str, object]:
        messages = [{"role": m.role, "content": m.content} for m in history]
        return {"model": self._model, "messages": messages, "stream": True}

    async def stream(self, history: Sequence[ChatMessage]) -> AsyncIterator[str]:
        try:
            async with self._client.stream(
                "POST",
                self._url,
                json=self._payload(history),
                headers=self._headers(),
                timeout=self._timeout,
            ) as response:
                if not response.is_success:
                    raise await self._status_error(response)
                async for text in self._texts(response):
                    yield text
        except httpx2.TransportError as exc:
            raise self._transport_error(exc) from exc

    async def _texts(self, response: httpx2.Response) -> AsyncIterator[str]:
        if response.headers.get("content-type", "").startswith("application/json"):
            yield _whole_reply(await response.aread())
            return
        received = False
        async for line in response.aiter_lines():
            data = _sse_data(line)
            if data is None:
                continue
            if data.strip() == "[DONE]":
                return
            text = chunk_text(data)
            if text:
                received = True
                yield text
        # Some servers close the stream without [DONE]; what arrived is still the reply.
        if not received:
            raise BackendError(f"The model server at {self._base_url} ended the reply empty.")

    async def _status_error(self, response: httpx2.Response) -> BackendError:
        detail = _body_detail(await response.aread())
        status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        message = f"The model server at {self._base_url} answered {status}"
        return BackendError(f"{message}: {detail}" if detail else message)

    def _transport_error(self, exc: httpx2.TransportError) -> BackendError:
        where = f"the model server at {self._base_url}"
        if isinstance(exc, httpx2.ConnectTimeout):
            return BackendError(f"Timed out connecting to {where}.")
        if isinstance(exc, httpx2.ConnectError):
            return BackendError(f"Cannot connect to {where}: {str(exc) or 'connection refused'}.")
        if isinstance(exc, httpx2.ReadTimeout):
            return BackendError(f"No data from {where} for {self._timeout.read} s; gave up.")
        if isinstance(exc, httpx2.TimeoutException):
            return BackendError(f"Timed out talking to {where}.")
        return BackendError(f"The connection to {where} failed: {str(exc) or type(exc).__name__}.")

    async def aclose(self) -> None:
        """Close the HTTP client if this backend made it; a client passed in is the caller's."""
        if self._owns_client:
            await self._client.aclose()


def make_backend(
    kind: str, *, tokens_per_second: float, base_url: str, model: str, api_key: str | None
) -> Backend:
    """The backend named by the ``backend`` setting: ``demo`` or ``openai``."""
    if kind == "demo":
        return DemoBackend(tokens_per_second=tokens_per_second)
    if kind == "openai":
        # An empty key from the settings file means "no key", not "Bearer " with nothing after.
        return OpenAIBackend(base_url=base_url, model=model, api_key=api_key or None)
    raise ValueError(f"unknown backend {kind!r}: expected 'demo' or 'openai'")
