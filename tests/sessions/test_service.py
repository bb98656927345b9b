"""The cache through HTTP: every commit shows on the next request, streams hold the list."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from clients import Client
from factory import AgentDB
from freezegun import freeze_time
from starlette.testclient import TestClient

from webui.api.context import AppContext


def ctx(client: TestClient) -> AppContext:
    context: AppContext = client.app.state.ctx  # type: ignore[attr-defined]
    return context


def rebuilds(client: TestClient) -> int:
    return ctx(client).lists.cache.stats.rebuilds


def get(client: TestClient, **params: Any) -> Any:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    return response


def rows(client: TestClient, **params: Any) -> dict[str, dict[str, Any]]:
    return {r["session_id"]: r for r in get(client, **params).json()["sessions"]}


def settled(client: TestClient, **params: Any) -> dict[str, dict[str, Any]]:
    """The rows once the background rebuild has landed (a hit), within a few seconds."""
    for _ in range(500):
        response = get(client, **params)
        if response.headers["x-cache"] == "hit":
            return {r["session_id"]: r for r in response.json()["sessions"]}
        time.sleep(0.01)
    raise AssertionError("the rebuild never landed")


def start_stream(client: TestClient, session_id: str, profile: str = "default") -> str:
    stream_id = f"s{abs(hash((session_id, profile))) % 10**12}"
    ctx(client).registry.start(
        stream_id=stream_id,
        profile=profile,
        session_id=session_id,
        pending_message="hi",
        message_count=2,
    )
    return stream_id


@pytest.fixture
def frozen() -> Any:
    with freeze_time("2026-11-22 12:00:00", real_asyncio=True) as clock:
        yield clock


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_every_kind_of_commit_shows_on_the_next_request(
    frozen: Any, agent_db: Any, make_client: Client, journal: str
) -> None:
    db: AgentDB = agent_db(journal=journal)
    first = db.session("cli", title="First", messages=2)
    client = make_client()
    assert get(client).headers["x-cache"] == "miss"
    assert get(client).headers["x-cache"] == "hit"

    second = db.session("cli", title="Second", messages=1)  # insert
    assert set(rows(client)) == {first, second}

    db.message(first, "user", "one more")  # a new message: count changes
    assert rows(client)[first]["message_count"] == 3

    db.update(first, title="Tirst")  # same length, same row count: content only
    assert rows(client)[first]["title"] == "Tirst"

    db.update(first, message_count=4)  # a counter, no size change
    assert rows(client)[first]["message_count"] == 4

    db.delete(second)
    assert set(rows(client)) == {first}
    assert get(client).headers["x-cache"] == "hit"


def test_replaced_file_shows_at_once(
    frozen: Any, agent_db: Any, agent_home: Path, make_client: Client, tmp_path: Path
) -> None:
    db: AgentDB = agent_db()
    old = db.session("cli", title="Old", messages=1)
    client = make_client()
    assert set(rows(client)) == {old}
    other = AgentDB_from(tmp_path / "restore", agent_db)
    new = other.session("cli", title="Restored", messages=1)
    other.checkpoint("TRUNCATE")
    other.close()
    db.close()
    for suffix in ("-wal", "-shm"):
        (agent_home / f"state.db{suffix}").unlink(missing_ok=True)
    shutil.copy(other.path, agent_home / "state.db.tmp")
    (agent_home / "state.db.tmp").replace(agent_home / "state.db")
    assert set(rows(client)) == {new}


def AgentDB_from(folder: Path, agent_db: Any) -> AgentDB:
    """A second database (another home) to restore over the first."""
    from factory import make_agent_db

    folder.mkdir()
    return make_agent_db(folder, "default")


def test_vacuum_and_checkpoint(frozen: Any, agent_db: Any, make_client: Client) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", title="A", messages=3)
    client = make_client()
    get(client)
    built = rebuilds(client)
    db.checkpoint("TRUNCATE")  # file stats only: at most one rebuild
    get(client)
    get(client)
    get(client)
    assert rebuilds(client) - built <= 1
    db.update(sid, title="B")
    db.conn.execute("VACUUM")
    assert rows(client)[sid]["title"] == "B"


def test_an_unchanged_exact_stamp_never_expires(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    agent_db().session("cli", messages=1)
    client = make_client()
    get(client)
    built = rebuilds(client)
    frozen.tick(600.0)  # far past the idle TTL: the stamp proves nothing changed
    assert get(client).headers["x-cache"] == "hit"
    assert rebuilds(client) == built


def test_idle_ttl_bounds_a_stamp_that_could_not_be_read(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db(journal="delete")
    sid = db.session("cli", title="A", messages=1)
    client = make_client(busy_timeout=0.2)
    ctx(client).lists.cache.retry_after = 0
    get(client)
    locker = sqlite3.connect(db.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the fingerprint answers busy: the stamp is not exact
    try:
        first = get(client)  # a new (busy) stamp: the rebuild fails, the last good list serves
        assert first.headers["x-cache"] == "stale"
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    db.update(sid, title="B")
    assert rows(client)[sid]["title"] == "B"
    stats = ctx(client).lists.cache.stats
    assert (stats.failures, stats.rebuilds) == (1, 2)


def test_per_token_writes_during_a_stream_do_not_rebuild(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db()
    sid = db.session("webui", title="Chat", messages=2)
    other = db.session("cli", title="Other", messages=1)
    client = make_client()
    get(client)
    stream = start_stream(client, sid)
    live = rows(client)  # at once: the held list stands in, overlaid, while it rebuilds
    assert live[sid]["is_streaming"] is True and live[sid]["active_stream_id"] == stream
    assert next(iter(live)) == sid  # runtime-active rows first
    settled(client)
    built = rebuilds(client)
    message = db.message(sid, "assistant", "t")
    for n in range(30):  # the agent writes token by token
        db.execute("UPDATE messages SET content = ? WHERE id = ?", ("t" * (n + 2), message))
        frozen.tick(1.0)
        ctx(client).registry.heartbeat(stream)  # as the turn does every second
        response = get(client)
        assert response.headers["x-cache"] == "hit", n
    assert rebuilds(client) == built
    ctx(client).registry.heartbeat(stream, message_count=3, last_activity_at=1.0e10)
    assert rows(client)[sid]["message_count"] == 3  # the live count, entry still held
    assert rebuilds(client) == built
    ctx(client).registry.finish(stream, status="done")
    # The end re-validates at once: the held list stands in while it rebuilds, showing the
    # ended stream's last count, no longer streaming; then the rebuilt list takes over.
    response = get(client)
    assert response.headers["x-cache"] == "stale"
    after = {r["session_id"]: r for r in response.json()["sessions"]}
    assert after[sid]["is_streaming"] is False and after[sid]["message_count"] == 3
    assert settled(client)[sid]["message_count"] == 3
    assert rebuilds(client) == built + 1
    assert set(after) == {sid, other}


def test_api_changes_and_settings_show_at_once_during_a_stream(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db()
    sid = db.session("webui", messages=2)
    other = db.session("cli", title="Other", messages=1)
    cron = db.session("cron", messages=1)
    client = make_client()
    start_stream(client, sid)
    get(client)
    client.patch(f"/api/sessions/{other}", json={"title": "Renamed"})
    assert rows(client)[other]["title"] == "Renamed"
    client.patch(f"/api/sessions/{other}", json={"pinned": True})
    assert rows(client)[other]["pinned"] is True
    client.patch("/api/settings", json={"show_cron": True})
    assert cron in rows(client)
    client.patch(f"/api/sessions/{other}", json={"archived": True})
    assert other not in rows(client)
    client.delete(f"/api/sessions/{cron}")
    assert cron not in rows(client)


def test_a_stream_in_one_profile_does_not_freeze_another(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    a: AgentDB = agent_db()
    b: AgentDB = agent_db("work")
    streaming = a.session("webui", messages=1)
    client = make_client()
    start_stream(client, streaming, "default")
    get(client, profile="work")
    new = b.session("cli", title="New in work", messages=1)
    assert new in rows(client, profile="work")
    # ... while the streaming profile's list holds steady against per-token commits.
    get(client)
    built = rebuilds(client)
    a.message(streaming, "assistant", "token")
    get(client)
    assert rebuilds(client) == built


def test_dead_stream_is_not_streaming(frozen: Any, agent_db: Any, make_client: Client) -> None:
    sid = agent_db().session("webui", messages=1)
    client = make_client()
    start_stream(client, sid)
    assert rows(client)[sid]["is_streaming"] is True
    frozen.tick(11)  # past stream_stale_after without a heartbeat: its process died
    row = rows(client)[sid]
    assert row["is_streaming"] is False and row["active_stream_id"] is None


def test_zero_message_session_shows_while_streaming(
    frozen: Any, agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db()
    fresh = db.session("webui", messages=0)
    client = make_client()
    assert fresh not in rows(client)
    start_stream(client, fresh)
    data = get(client).json()
    assert data["sessions"][0]["session_id"] == fresh and data["counts"]["webui"] == 1


def test_etag_changes_with_the_overlay(frozen: Any, agent_db: Any, make_client: Client) -> None:
    sid = agent_db().session("webui", messages=1)
    client = make_client()
    idle = get(client).headers["etag"]
    stream = start_stream(client, sid)
    streaming = get(client).headers["etag"]
    assert streaming != idle
    ctx(client).registry.heartbeat(stream, message_count=5)
    assert get(client).headers["etag"] != streaming
    response = client.get("/api/sessions", headers={"If-None-Match": get(client).headers["etag"]})
    assert response.status_code == 304


def test_fifty_concurrent_cold_requests_cause_one_rebuild(
    agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db()
    for n in range(200):
        db.session("cli", title=f"s{n}", messages=1)
    client = make_client()
    barrier = threading.Barrier(50)
    statuses: list[int] = []

    def poll() -> None:
        barrier.wait()
        statuses.append(client.get("/api/sessions").status_code)

    threads = [threading.Thread(target=poll) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 50
    assert rebuilds(client) == 1


def test_locked_database_serves_last_good_list_then_recovers(
    agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db(journal="delete")
    sid = db.session("cli", title="A", messages=1)
    client = make_client(busy_timeout=0.2)
    get(client)
    locker = sqlite3.connect(db.path, isolation_level=None)
    db.update(sid, title="B")
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = get(client)
        assert response.headers["x-cache"] == "stale"
        assert response.json()["sessions"][0]["title"] == "A"
        health = client.get("/api/health").json()
        assert health["status"] == "degraded" and "locked" in health["warnings"][0]
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    ctx(client).lists.cache.retry_after = 0
    assert rows(client)[sid]["title"] == "B"
    assert client.get("/api/health").json()["status"] == "ok"


def test_no_good_list_and_unreadable_database_is_503(agent_home: Path, make_client: Client) -> None:
    (agent_home / "state.db").write_bytes(b"this is not a database" * 100)
    client = make_client()
    response = client.get("/api/sessions")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "source_unavailable"


def test_an_unchanged_list_keeps_its_etag_across_refreshes(
    agent_db: Any, make_client: Client
) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", title="Same", messages=1)
    client = make_client()
    etag = get(client).headers["etag"]
    built = rebuilds(client)
    for _ in range(3):  # a commit that changes nothing listed: a rebuild, the same bytes
        db.update(sid, title="Same")
        response = client.get("/api/sessions", headers={"If-None-Match": etag})
        assert response.status_code == 304
    assert rebuilds(client) == built + 3
    assert ctx(client).lists.cache.stats.not_modified == 3
