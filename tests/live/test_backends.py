from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator, Sequence

import httpx2
import pytest
from fake_openai import UNAUTHORIZED_MESSAGE, FakeOpenAI, serve_fake_openai, unused_port

from webui.live.backends import (
    Backend,
    BackendError,
    ChatMessage,
    DemoBackend,
    OpenAIBackend,
    chunk_text,
    demo_reply,
    make_backend,
)

QUESTION = [ChatMessage("user", "How does write-ahead logging work in SQLite?")]


async def collect(stream: AsyncIterator[str]) -> list[str]:
    return [token async for token in stream]


async def collect_until_error(stream: AsyncIterator[str]) -> tuple[list[str], BackendError]:
    tokens: list[str] = []
    with pytest.raises(BackendError) as caught:
        async for token in stream:
            tokens.append(token)
    return tokens, caught.value


# --- DemoBackend ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_demo_is_deterministic_for_a_seed_and_varies_with_the_question() -> None:
    def fast(seed: int) -> DemoBackend:
        return DemoBackend(tokens_per_second=math.inf, seed=seed)

    first = await collect(fast(7).stream(QUESTION))
    again = await collect(fast(7).stream(QUESTION))
    other_seed = await collect(fast(8).stream(QUESTION))
    other_question = [ChatMessage("user", "What should I cook tonight?")]
    other_reply = await collect(fast(7).stream(other_question))
    assert first == again
    assert first != other_seed
    assert first != other_reply


@pytest.mark.anyio
async def test_demo_answers_the_last_user_message() -> None:
    history = [
        ChatMessage("user", "An older question"),
        ChatMessage("assistant", "An older answer"),
        *QUESTION,
        ChatMessage("assistant", ""),
    ]
    fast = DemoBackend(tokens_per_second=math.inf)
    assert await collect(fast.stream(history)) == await collect(fast.stream(QUESTION))
    assert "write-ahead" in "".join(await collect(fast.stream(QUESTION)))


def test_demo_reply_is_a_plausible_length_and_reassembles_into_text() -> None:
    for seed in range(20):
        for text in ("", "hi", "Explain " * 40, "Why is the sky blue?"):
            tokens = demo_reply(text, seed)
            assert 60 <= len(tokens) <= 120
            assert all(token.strip() for token in tokens)
            assert "".join(tokens).endswith(("?", "."))


@pytest.mark.anyio
async def test_demo_max_tokens_cuts_the_reply() -> None:
    tokens = await collect(DemoBackend(tokens_per_second=math.inf, max_tokens=5).stream(QUESTION))
    assert tokens == demo_reply(QUESTION[0].content, 0)[:5]


@pytest.mark.anyio
async def test_demo_roughly_keeps_its_rate() -> None:
    rate = 400.0
    start = time.monotonic()
    tokens = await collect(DemoBackend(tokens_per_second=rate).stream(QUESTION))
    elapsed = time.monotonic() - start
    expected = (len(tokens) - 1) / rate
    # A lower bound holds on any machine; the upper one only catches "ignores the rate".
    assert elapsed >= expected * 0.8
    assert elapsed < expected * 5 + 1.0


def test_demo_sleeps_through_asyncio_sleep_looked_up_at_call_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays: list[float] = []

    async def fake_sleep(delay: float) -> None:
        delays.append(delay)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    tokens = asyncio.run(collect(DemoBackend(tokens_per_second=10.0).stream(QUESTION)))
    assert len(delays) == len(tokens) - 1
    # With no real time passing, each wait grows by one interval of 1/10 s.
    assert delays[-1] > delays[0]
    assert delays[-1] <= (len(tokens) - 1) / 10.0


@pytest.mark.parametrize("rate", [0.0, -1.0, math.nan])
def test_demo_rejects_a_rate_that_is_not_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="tokens_per_second"):
        DemoBackend(tokens_per_second=rate)


# --- OpenAIBackend against a real server --------------------------------------------------


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    with serve_fake_openai() as fake:
        yield fake


@pytest.fixture
def fake(fake_server: FakeOpenAI) -> FakeOpenAI:
    fake_server.reset()
    return fake_server


def openai_backend(
    fake: FakeOpenAI, *, api_key: str | None = "sk-test", timeout: float = 5.0
) -> OpenAIBackend:
    return OpenAIBackend(
        base_url=fake.base_url, model="test-model", api_key=api_key, timeout=timeout
    )


async def run_backend(backend: OpenAIBackend, history: Sequence[ChatMessage]) -> list[str]:
    try:
        return await collect(backend.stream(history))
    finally:
        await backend.aclose()


@pytest.mark.anyio
async def test_openai_streams_the_reply_and_sends_a_proper_request(fake: FakeOpenAI) -> None:
    history = [ChatMessage("system", "Be brief."), *QUESTION]
    tokens = await run_backend(openai_backend(fake), history)
    assert tokens == list(fake.reply)
    [request] = fake.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.body == {
        "model": "test-model",
        "messages": [{"role": m.role, "content": m.content} for m in history],
        "stream": True,
    }


@pytest.mark.anyio
async def test_openai_without_a_key_sends_no_authorization(fake: FakeOpenAI) -> None:
    await run_backend(openai_backend(fake, api_key=None), QUESTION)
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.anyio
async def test_openai_401_reports_status_and_the_servers_message(fake: FakeOpenAI) -> None:
    fake.behaviour = "unauthorized"
    with pytest.raises(BackendError) as caught:
        await run_backend(openai_backend(fake), QUESTION)
    assert "401" in str(caught.value)
    assert UNAUTHORIZED_MESSAGE in str(caught.value)


@pytest.mark.anyio
async def test_openai_500_reports_the_status(fake: FakeOpenAI) -> None:
    fake.behaviour = "server_error"
    with pytest.raises(BackendError, match="HTTP 500"):
        await run_backend(openai_backend(fake), QUESTION)


@pytest.mark.anyio
async def test_openai_stalled_stream_times_out_between_chunks(fake: FakeOpenAI) -> None:
    fake.behaviour = "stall"
    backend = openai_backend(fake, timeout=0.3)
    start = time.monotonic()
    tokens, error = await collect_until_error(backend.stream(QUESTION))
    await backend.aclose()
    assert tokens == [fake.reply[0]]
    assert "No data" in str(error)
    assert time.monotonic() - start < fake.stall_seconds / 2


@pytest.mark.anyio
async def test_openai_malformed_chunk_is_an_error(fake: FakeOpenAI) -> None:
    fake.behaviour = "malformed"
    backend = openai_backend(fake)
    tokens, error = await collect_until_error(backend.stream(QUESTION))
    await backend.aclose()
    assert tokens == [fake.reply[0]]
    assert "malformed" in str(error)


@pytest.mark.anyio
async def test_openai_error_inside_the_stream_is_reported(fake: FakeOpenAI) -> None:
    fake.behaviour = "error_chunk"
    backend = openai_backend(fake)
    _, error = await collect_until_error(backend.stream(QUESTION))
    await backend.aclose()
    assert "overloaded" in str(error)


@pytest.mark.anyio
async def test_openai_stream_without_done_keeps_what_came(fake: FakeOpenAI) -> None:
    fake.behaviour = "no_done"
    assert await run_backend(openai_backend(fake), QUESTION) == list(fake.reply)


@pytest.mark.anyio
async def test_openai_stream_ending_empty_without_done_is_an_error(fake: FakeOpenAI) -> None:
    fake.behaviour = "empty"
    with pytest.raises(BackendError, match="empty"):
        await run_backend(openai_backend(fake), QUESTION)


@pytest.mark.anyio
async def test_openai_accepts_a_non_streamed_json_answer(fake: FakeOpenAI) -> None:
    fake.behaviour = "json"
    assert await run_backend(openai_backend(fake), QUESTION) == ["".join(fake.reply)]


@pytest.mark.anyio
async def test_openai_connection_refused_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    backend = OpenAIBackend(base_url=url, model="m", api_key=None, timeout=5.0)
    with pytest.raises(BackendError, match="Cannot connect"):
        await run_backend(backend, QUESTION)


@pytest.mark.anyio
async def test_openai_leaves_a_client_passed_in_open(fake: FakeOpenAI) -> None:
    async with httpx2.AsyncClient() as client:
        backend = OpenAIBackend(base_url=fake.base_url, model="m", api_key=None, client=client)
        assert await run_backend(backend, QUESTION) == list(fake.reply)
        assert not client.is_closed


@pytest.mark.parametrize("url", ["127.0.0.1:9999/v1", "ftp://host/v1", "http:///v1"])
def test_openai_rejects_a_base_url_that_is_not_http(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        OpenAIBackend(base_url=url, model="m", api_key=None)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ('{"choices": [{"delta": {"content": "hi"}}]}', "hi"),
        ('{"choices": [{"delta": {"role": "assistant"}}]}', ""),
        ('{"choices": [{"delta": {"content": null}, "finish_reason": "stop"}]}', ""),
        ('{"choices": [], "usage": {"total_tokens": 3}}', ""),
    ],
)
def test_chunk_text_reads_delta_content(data: str, text: str) -> None:
    assert chunk_text(data) == text


@pytest.mark.parametrize(
    "data",
    [
        "{not json",
        "[1, 2]",
        '{"choices": {"delta": 1}}',
        '{"choices": [{"delta": {"content": 5}}]}',
    ],
)
def test_chunk_text_rejects_malformed_chunks(data: str) -> None:
    with pytest.raises(BackendError, match="malformed"):
        chunk_text(data)


# --- make_backend -----------------------------------------------------------------------------


def test_make_backend_builds_each_kind() -> None:
    def make(kind: str) -> Backend:
        url = "http://127.0.0.1:1/v1"
        return make_backend(kind, tokens_per_second=5.0, base_url=url, model="m", api_key=None)

    assert isinstance(make("demo"), DemoBackend)
    assert make("demo").name == "demo"
    assert isinstance(make("openai"), OpenAIBackend)
    assert make("openai").name == "openai"
    with pytest.raises(ValueError, match="unknown backend"):
        make("llama")


@pytest.mark.anyio
async def test_make_backend_treats_an_empty_key_as_none(fake: FakeOpenAI) -> None:
    backend = make_backend(
        "openai", tokens_per_second=1.0, base_url=fake.base_url, model="m", api_key=""
    )
    assert isinstance(backend, OpenAIBackend)
    await run_backend(backend, QUESTION)
    assert "authorization" not in fake.requests[0].headers
