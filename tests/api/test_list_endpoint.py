"""The poll's hot path: reads shared within one loop tick, and the memo of validated queries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clients import Client
from factory import AgentDB, make_agent_db

from webui.api.app import create_app
from webui.config import load_settings
from webui.sessions.tick import TickMemo


def test_a_read_is_shared_by_handles_queued_before_it_and_no_later_one() -> None:
    reads = iter(range(1, 10))
    seen: dict[str, int] = {}

    async def main() -> None:
        memo = TickMemo()
        loop = asyncio.get_running_loop()

        def record(name: str) -> None:
            seen[name] = memo.get("k", lambda: next(reads))

        def first() -> None:
            record("first")  # the read
            record("first again")  # shared within the handle
            loop.call_soon(record, "queued after the read")

        loop.call_soon(first)
        loop.call_soon(record, "queued before the read")
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert seen == {
        "first": 1,
        "first again": 1,
        "queued before the read": 1,  # it arrived before the read was taken: shares it
        "queued after the read": 2,  # it may have arrived after: a fresh read
    }


def test_without_a_running_loop_nothing_is_shared() -> None:
    memo = TickMemo()
    values = iter(range(10))
    assert [memo.get("k", lambda: next(values)) for _ in range(3)] == [0, 1, 2]


def test_a_profile_created_after_a_404_is_found(agent_home: Path, make_client: Client) -> None:
    client = make_client()
    assert client.get("/api/sessions", params={"profile": "work"}).status_code == 404
    make_agent_db(agent_home, "work").session("cli", title="at work", messages=1)
    response = client.get("/api/sessions", params={"profile": "work"})
    assert response.status_code == 200
    assert [r["title"] for r in response.json()["sessions"]] == ["at work"]


def test_a_removed_profile_is_404_again(agent_home: Path, make_client: Client) -> None:
    path = agent_home / "profiles" / "gone" / "state.db"
    gone = make_agent_db(agent_home, "gone")
    gone.session("cli", messages=1)
    gone.conn.close()
    client = make_client()
    assert client.get("/api/sessions", params={"profile": "gone"}).status_code == 200
    for name in ("state.db", "state.db-wal", "state.db-shm"):
        (path.parent / name).unlink(missing_ok=True)
    path.parent.rmdir()
    assert client.get("/api/sessions", params={"profile": "gone"}).status_code == 404


def test_the_same_query_follows_settings_and_the_profile_cookie(
    agent_db: Callable[..., AgentDB], agent_home: Path, make_client: Client
) -> None:
    db = agent_db()
    db.session("cli", title="terminal", messages=1)
    db.session("webui", title="browser", messages=1)
    agent_db("work").session("webui", title="work chat", messages=1)
    client = make_client()

    def titles() -> set[str]:
        response = client.get("/api/sessions")
        assert response.status_code == 200
        return {r["title"] for r in response.json()["sessions"]}

    assert titles() == {"terminal", "browser"}
    assert client.patch("/api/settings", json={"show_cli": False}).status_code == 200
    assert titles() == {"browser"}
    assert client.post("/api/profile/switch", json={"profile": "work"}).status_code == 200
    assert titles() == {"work chat"}


def test_bad_parameters_are_still_rejected_every_time(make_client: Client) -> None:
    client = make_client()
    for _ in range(2):
        response = client.get("/api/sessions", params={"limit": "many"})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "limit"


async def _poll(app: Any) -> tuple[int, bytes]:
    """One ``GET /api/sessions`` straight through the ASGI app: status and body."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/sessions", "raw_path": b"/api/sessions",
        "query_string": b"", "root_path": "", "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1), "server": ("testserver", 80), "app": app, "state": {},
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_polls_in_one_tick_share_one_lookup_and_a_later_poll_sees_a_commit(
    agent_db: Callable[..., AgentDB], agent_home: Path
) -> None:
    db = agent_db()
    sid = db.session("cli", title="Before", messages=1)
    settings = load_settings(overrides={"home": agent_home, "watch": False, "claude_home": ""})
    app = create_app(settings)

    async def main() -> None:
        async with app.router.lifespan_context(app):
            lists = app.state.ctx.lists
            await _poll(app)  # built
            lookups = 0
            respond = lists.respond

            async def counted(query: Any) -> Any:
                nonlocal lookups
                lookups += 1
                return await respond(query)

            lists.respond = counted
            first, second = await asyncio.gather(_poll(app), _poll(app))  # one tick
            assert lookups == 1 and first == second and first[0] == 200
            db.update(sid, title="After")  # committed before the next poll is sent
            status, body = await _poll(app)
            assert lookups == 2 and status == 200 and b'"After"' in body

    asyncio.run(main())
