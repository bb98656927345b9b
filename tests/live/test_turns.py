"""The live runtime against real uvicorn servers: turns, registry, overlay, change events."""

from __future__ import annotations

import queue
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from factory import AgentDB
from fake_openai import serve_fake_openai
from servers import Server, run_server

pytestmark = pytest.mark.server


def read_sse(response: httpx2.Response) -> Iterator[tuple[str, Any]]:
    """(event, data) pairs of a Server-Sent Events response, as they arrive."""
    event, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield event, orjson.loads(data)
            event, data = "message", ""


def stream_reply(server: Server, stream_id: str) -> tuple[str, list[tuple[str, Any]]]:
    events: list[tuple[str, Any]] = []
    with server.client() as client, client.stream("GET", f"/api/streams/{stream_id}") as resp:
        assert resp.status_code == 200
        for event, data in read_sse(resp):
            events.append((event, data))
            if event in ("end", "error"):
                break
    text = "".join(d["text"] for e, d in events if e == "token")
    return text, events


def start_turn(server: Server, session_id: str, content: str = "Tell me about caches") -> str:
    with server.client() as client:
        response = client.post(f"/api/sessions/{session_id}/messages", json={"content": content})
    assert response.status_code == 202, response.text
    stream_id: str = response.json()["stream_id"]
    return stream_id


def new_chat(server: Server, title: str = "Live chat") -> str:
    with server.client() as client:
        response = client.post("/api/sessions", json={"title": title})
    assert response.status_code == 201, response.text
    session_id: str = response.json()["session_id"]
    return session_id


def list_rows(server: Server, **params: Any) -> list[dict[str, Any]]:
    with server.client() as client:
        response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["sessions"]
    return rows


def messages_in_db(path: Path, session_id: str) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT role, content FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
        ).fetchall()
        count = conn.execute("SELECT message_count FROM sessions WHERE id = ?", (session_id,))
        assert count.fetchone()[0] == len(rows)
        return [(str(r), str(c)) for r, c in rows]
    finally:
        conn.close()


@pytest.fixture
def agent(agent_db: Any) -> AgentDB:
    """The agent's own writer on the default profile, with one older CLI chat."""
    db: AgentDB = agent_db()
    db.session("cli", title="An older CLI chat", messages=3)
    return db


@pytest.fixture
def home(agent: AgentDB, agent_home: Path) -> Path:
    return agent_home


def test_a_demo_turn_streams_and_the_list_shows_it(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "40") as server:
        sid = new_chat(server)
        stream_id = start_turn(server, sid)
        first = list_rows(server)[0]
        assert first["session_id"] == sid and first["is_streaming"] is True
        assert first["active_stream_id"] == stream_id
        text, events = stream_reply(server, stream_id)
        assert len([e for e in events if e[0] == "token"]) > 5
        assert events[-1] == ("end", {"message_id": events[-1][1]["message_id"], "status": "done"})
        row = next(r for r in list_rows(server) if r["session_id"] == sid)
        assert row["is_streaming"] is False and row["message_count"] == 2
        stored = messages_in_db(home / "state.db", sid)
        assert stored == [("user", "Tell me about caches"), ("assistant", text)]
        # A late client gets the whole reply at once, then the end.
        late_text, late = stream_reply(server, stream_id)
        assert late_text == text and late[-1][0] == "end"


def test_second_turn_while_streaming_is_409_and_cancel_keeps_the_text(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "5") as server:
        sid = new_chat(server)
        stream_id = start_turn(server, sid)
        with server.client() as client:
            again = client.post(f"/api/sessions/{sid}/messages", json={"content": "more"})
            assert again.status_code == 409
            assert again.json()["error"]["code"] == "already_streaming"
            time.sleep(1.0)
            cancelled = client.post(f"/api/streams/{stream_id}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
        text, events = stream_reply(server, stream_id)
        assert events[-1][0] == "end" and events[-1][1]["status"] == "cancelled"
        stored = messages_in_db(home / "state.db", sid)
        assert stored[-1] == ("assistant", text) and text
        assert list_rows(server)[0]["is_streaming"] is False


def test_killed_server_loses_no_committed_message(home: Path) -> None:
    args = ("--demo-tokens-per-second", "5", "--heartbeat-interval", "0.3",
            "--stream-stale-after", "1.5")  # fmt: skip
    with run_server(home, *args) as server:
        sid = new_chat(server)
        start_turn(server, sid)
        time.sleep(1.2)
        server.stop(signal.SIGKILL)
    stored = messages_in_db(home / "state.db", sid)
    assert stored[0] == ("user", "Tell me about caches")
    assert stored[1][0] == "assistant" and stored[1][1]
    with run_server(home, *args) as server:
        time.sleep(1.6)  # past the heartbeat bound
        row = next(r for r in list_rows(server) if r["session_id"] == sid)
        assert row["is_streaming"] is False and row["message_count"] == 2
        # And the session takes a new turn (the dead stream does not block it).
        stream_id = start_turn(server, sid, "again")
        stream_reply(server, stream_id)


def test_two_servers_on_one_home_agree(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "5") as a, run_server(home) as b:
        sid = new_chat(a)
        list_rows(b)
        stream_id = start_turn(a, sid)
        row = list_rows(b)[0]
        assert row["session_id"] == sid and row["is_streaming"] is True
        assert row["active_stream_id"] == stream_id
        # The other process can follow the reply and stop it too.
        with b.client() as client:
            assert client.post(f"/api/streams/{stream_id}/cancel").json()["cancelled"] is True
        _text, events = stream_reply(b, stream_id)
        assert events[-1][0] == "end"
        with b.client() as client:
            client.patch(f"/api/sessions/{sid}", json={"title": "Renamed on B"})
            client.patch("/api/settings", json={"show_cli": False})
        rows = list_rows(a)
        assert [r["title"] for r in rows] == ["Renamed on B"]  # the CLI chat is hidden now


def test_two_uvicorn_workers_serve_the_same_lists(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "5", workers=2) as server:
        sid = new_chat(server)
        start_turn(server, sid)
        for _ in range(20):  # whichever worker answers, the stream shows
            row = list_rows(server)[0]
            assert row["session_id"] == sid and row["is_streaming"] is True


@contextmanager
def subscribe(server: Server) -> Iterator[queue.Queue[tuple[float, Any]]]:
    """Collect ``sessions_changed`` events in a thread: (arrival time, data)."""
    received: queue.Queue[tuple[float, Any]] = queue.Queue()
    ready = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with httpx2.Client(base_url=server.url, timeout=None) as client:  # noqa: SIM117
            with client.stream("GET", "/api/sessions/events") as response:
                try:
                    for event, data in read_sse(response):
                        if event == "ready":
                            ready.set()
                        elif event == "sessions_changed":
                            received.put((time.monotonic(), data))
                        if stop.is_set():
                            return
                except httpx2.TransportError:
                    return  # the server went away: the test decides what that means

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield received
    finally:
        stop.set()


def test_external_commit_reaches_a_subscriber_within_a_second(home: Path, agent: AgentDB) -> None:
    with run_server(home) as server, subscribe(server) as events:
        list_rows(server)
        for _ in range(3):
            committed = time.monotonic()
            agent.session("telegram", title=f"From the gateway {committed}", messages=1)
            arrived, data = events.get(timeout=1.0)
            assert data["profile"] == "default" and data["reason"] == "commit"
            assert arrived - committed < 1.0
            time.sleep(0.2)


def test_the_servers_own_reads_cause_no_events(home: Path) -> None:
    with run_server(home) as server, subscribe(server) as events:
        deadline = time.monotonic() + 2.0
        with server.client() as client:
            while time.monotonic() < deadline:
                assert client.get("/api/sessions", params={"show_cron": "1"}).status_code == 200
                client.get("/api/profiles")
                time.sleep(0.02)
        with pytest.raises(queue.Empty):
            events.get(timeout=0.5)


def test_openai_backend_streams_and_reports_errors(home: Path) -> None:
    with serve_fake_openai() as fake:
        args = ("--backend", "openai", "--openai-base-url", fake.base_url, "--openai-model", "m1")
        with run_server(home, *args, env={"WEBUI_OPENAI_API_KEY": "sk-test"}) as server:
            sid = new_chat(server)
            text, events = stream_reply(server, start_turn(server, sid, "Hello there"))
            assert text == "".join(fake.reply) and events[-1][0] == "end"
            sent = fake.requests[-1]
            assert sent.headers["authorization"] == "Bearer sk-test"
            assert (
                sent.body["model"] == "m1" and sent.body["messages"][-1]["content"] == "Hello there"
            )
            fake.behaviour = "unauthorized"
            text, events = stream_reply(server, start_turn(server, sid, "Again"))
            assert events[-1][0] == "error" and "401" in events[-1][1]["message"]
            assert list_rows(server)[0]["is_streaming"] is False


def test_sigterm_ends_streams_and_exits_cleanly(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "2") as server, subscribe(server):
        sid = new_chat(server)
        start_turn(server, sid)
        time.sleep(0.5)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert server.stop(signal.SIGTERM, timeout=20) in (0, -signal.SIGTERM)
        output = server.output()
        assert "Traceback" not in output and "ERROR" not in output, output


def test_a_streaming_turn_announces_start_and_end_not_every_token(home: Path) -> None:
    with run_server(home, "--demo-tokens-per-second", "40") as server, subscribe(server) as events:
        sid = new_chat(server)
        stream_id = start_turn(server, sid)
        stream_reply(server, stream_id)
        time.sleep(0.5)  # let the watcher see the last commits
        seen = []
        while not events.empty():
            seen.append(events.get()[1]["reason"])
        assert "stream_started" in seen and "stream_ended" in seen
        assert seen.count("commit") <= 2, seen  # the session's creation, at most
