"""Faults against real files and a real server: nothing lost, never a 500, never a hang.

Every case runs ``python -m webui serve`` on loopback over a real home and breaks something
under it — the agent's ``state.db`` (missing, deleted, replaced, truncated, corrupt, a folder,
locked, busy, checkpointed), ``settings.json``, ``webui.db`` or the home's ``webui/`` folder.
The list must answer with the last good rows (``X-Cache: stale``) or a clear 503 JSON error
within the busy timeout, ``/api/health`` must name the problem, and everything must come back
by itself once the file is good again.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from factory import AgentDB, make_agent_db
from servers import Server, run_server

pytestmark = pytest.mark.server

BUSY = 0.5  # the servers' --busy-timeout here: short, so the tests are quick
# A response may take the busy timeout plus this (a loaded test machine, the HTTP round trip).
SLACK = 1.5
FAST = ("--busy-timeout", str(BUSY))


# -- helpers ---------------------------------------------------------------------------------


def timed_get(client: httpx2.Client, path: str, **params: Any) -> httpx2.Response:
    """A GET that must answer in time, and never with a 500."""
    started = time.monotonic()
    response = client.get(path, params=params)
    elapsed = time.monotonic() - started
    assert elapsed < BUSY + SLACK, f"{path} took {elapsed:.2f} s"
    assert response.status_code < 500 or response.status_code == 503, response.text
    return response


def list_or_503(client: httpx2.Client, **params: Any) -> httpx2.Response:
    """The list: 200 with rows, or a 503 whose JSON error says the source is unavailable."""
    response = timed_get(client, "/api/sessions", **params)
    if response.status_code == 503:
        error = response.json()["error"]
        assert error["code"] == "source_unavailable" and error["message"], error
    else:
        assert response.status_code == 200, response.text
    return response


def titles(response: httpx2.Response) -> set[str]:
    return {row["title"] for row in response.json()["sessions"]}


def health(client: httpx2.Client) -> dict[str, Any]:
    response = timed_get(client, "/api/health")
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.05)


def fresh_titles(client: httpx2.Client, expected: set[str]) -> None:
    """The list shows ``expected`` (not stale) and health is ok again, within seconds."""

    def recovered() -> bool:
        response = list_or_503(client)
        return (
            response.status_code == 200
            and response.headers["x-cache"] != "stale"
            and titles(response) == expected
            and health(client)["status"] == "ok"
        )

    eventually(recovered)


def no_traceback(server: Server) -> None:
    output = server.output()
    assert "Traceback" not in output and "Exception in ASGI" not in output, output


def copy_of(db: AgentDB, target: Path) -> Path:
    """A consistent copy of the database (its WAL checkpointed into the main file first)."""
    if db.journal_mode == "wal":
        db.checkpoint("TRUNCATE")
    shutil.copyfile(db.path, target)
    return target


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def agent(agent_db: Any) -> AgentDB:
    db: AgentDB = agent_db()
    db.session("cli", title="First", messages=2)
    db.session("telegram", title="Second", messages=2)
    return db


GOOD = {"First", "Second"}


# -- state.db --------------------------------------------------------------------------------


def test_state_db_missing_at_start_is_an_empty_list_until_it_appears(agent_home: Path) -> None:
    with run_server(agent_home, *FAST) as server, server.client() as client:
        response = list_or_503(client)
        assert response.status_code == 200 and response.json()["sessions"] == []
        assert health(client)["status"] == "ok"  # no agent database yet is not a fault
        db = make_agent_db(agent_home)
        try:
            db.session("cli", title="Arrived", messages=1)
            fresh_titles(client, {"Arrived"})
        finally:
            db.close()
        no_traceback(server)


def test_state_db_deleted_mid_run_serves_the_last_good_list_then_recovers(
    agent: AgentDB, agent_home: Path, tmp_path: Path
) -> None:
    backup = copy_of(agent, tmp_path / "backup.db")
    with run_server(agent_home, *FAST) as server, server.client() as client:
        assert titles(list_or_503(client)) == GOOD
        agent.close()
        remove_db(agent.path)
        response = list_or_503(client)
        assert response.status_code == 200 and response.headers["x-cache"] == "stale"
        assert titles(response) == GOOD  # not an empty sidebar while a restore is under way
        report = health(client)
        assert report["status"] == "degraded" and "removed" in report["source_problems"]["default"]
        # A list never asked before has no last good answer: a clear 503.
        assert list_or_503(client, include_archived=1).status_code == 503
        shutil.copyfile(backup, agent.path)
        fresh_titles(client, GOOD)
        no_traceback(server)


def test_state_db_replaced_by_another_database_and_restored(
    agent: AgentDB, agent_home: Path, tmp_path: Path
) -> None:
    original = copy_of(agent, tmp_path / "original.db")
    other = make_agent_db(tmp_path / "elsewhere")
    other.session("cli", title="Another home", messages=1)
    replacement = copy_of(other, tmp_path / "replacement.db")
    other.close()
    with run_server(agent_home, *FAST) as server, server.client() as client:
        assert titles(list_or_503(client)) == GOOD
        agent.close()
        for source in (replacement, original):
            remove_db(agent.path)  # the old -wal must not be replayed into the new file
            shutil.copyfile(source, agent_home / "state.db.tmp")
            os.replace(agent_home / "state.db.tmp", agent.path)
            expected = {"Another home"} if source == replacement else GOOD
            response = list_or_503(client)  # the very next request, no waiting
            assert response.status_code == 200 and titles(response) == expected
            assert health(client)["status"] == "ok"
        no_traceback(server)


def _truncate(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 3)


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00not a database at all\xff" * 512)


def _folder(path: Path) -> None:
    remove_db(path)
    path.mkdir()


@pytest.mark.parametrize(
    ("break_it", "reason"),
    [(_truncate, "corrupt"), (_garbage, "corrupt"), (_folder, "not a regular file")],
    ids=["truncated", "garbage", "a-folder"],
)
def test_a_broken_state_db_serves_the_last_good_list_then_recovers(
    agent: AgentDB,
    agent_home: Path,
    tmp_path: Path,
    break_it: Callable[[Path], None],
    reason: str,
) -> None:
    backup = copy_of(agent, tmp_path / "backup.db")
    agent.close()
    with run_server(agent_home, *FAST) as server, server.client() as client:
        assert titles(list_or_503(client)) == GOOD
        break_it(agent.path)
        for _ in range(3):  # repeatedly: no request ever gets a 500 or waits
            response = list_or_503(client)
            assert response.status_code == 200 and response.headers["x-cache"] == "stale"
            assert titles(response) == GOOD
        report = health(client)
        assert report["status"] == "degraded"
        assert reason in report["source_problems"]["default"], report
        assert list_or_503(client, show_cron=1).status_code == 503  # nothing good to serve
        single = timed_get(client, f"/api/sessions/{response.json()['sessions'][0]['session_id']}")
        assert single.status_code == 503 and single.json()["error"]["code"] == "source_unavailable"
        if agent.path.is_dir():
            agent.path.rmdir()
        shutil.copyfile(backup, agent_home / "state.db.tmp")
        os.replace(agent_home / "state.db.tmp", agent.path)
        fresh_titles(client, GOOD)
        assert list_or_503(client, show_cron=1).status_code == 200
        no_traceback(server)


def test_a_broken_profile_never_fails_another_profiles_list(
    agent: AgentDB, agent_home: Path
) -> None:
    """The list counts the other profiles' rows (``other_profiles``): one that cannot be read
    is left out of the count and reported, not turned into a 503 for this list."""
    (agent_home / "profiles" / "work").mkdir(parents=True)
    _garbage(agent_home / "profiles" / "work" / "state.db")
    with run_server(agent_home, *FAST) as server, server.client() as client:
        response = list_or_503(client)
        assert response.status_code == 200 and titles(response) == GOOD
        assert response.json()["counts"]["other_profiles"] == 0
        assert list_or_503(client, profile="work").status_code == 503
        profiles = timed_get(client, "/api/profiles").json()["profiles"]
        assert [(p["name"], p["session_count"]) for p in profiles] == [
            ("default", 2),
            ("work", None),
        ]
        assert "corrupt" in health(client)["source_problems"]["work"]
        no_traceback(server)


def _exclusive_writer(path: Path) -> sqlite3.Connection:
    """A connection of "the agent" holding ``BEGIN EXCLUSIVE`` with a change pending."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("UPDATE sessions SET title = 'Renamed under the lock' WHERE title = 'First'")
    return conn


@pytest.mark.parametrize("journal", ["delete", "wal"])
def test_an_exclusive_lock_never_hangs_a_request_past_the_busy_timeout(
    agent_db: Any, agent_home: Path, journal: str
) -> None:
    """DELETE mode: the lock shuts readers out, so the last good list is served (stale) and
    health says locked. WAL mode: readers go on reading the last commit, nothing degrades."""
    db: AgentDB = agent_db(journal=journal)
    db.session("cli", title="First", messages=2)
    db.session("telegram", title="Second", messages=2)
    with run_server(agent_home, *FAST) as server, server.client() as client:
        assert titles(list_or_503(client)) == GOOD
        locker = _exclusive_writer(db.path)
        statuses: list[str] = []
        try:
            held_until = time.monotonic() + 4.0  # eight busy timeouts
            while time.monotonic() < held_until:
                response = list_or_503(client)
                if response.status_code == 200:
                    assert titles(response) == GOOD
                    statuses.append(response.headers["x-cache"])
                else:
                    statuses.append("503")
                timed_get(client, "/api/profiles")
                time.sleep(0.05)
            report = health(client)
            cold = list_or_503(client, show_webhook=1)
            if journal == "delete":
                assert report["status"] == "degraded"
                assert "locked" in report["source_problems"]["default"]
                assert cold.status_code == 503  # nothing good to serve: a clear 503
            else:
                assert report["status"] == "ok" and cold.status_code == 200
        finally:
            locker.execute("COMMIT")
            locker.close()
        assert "503" not in statuses, statuses
        assert ("stale" in statuses) == (journal == "delete"), statuses
        fresh_titles(client, {"Renamed under the lock", "Second"})
        no_traceback(server)


def test_a_delete_journal_database_under_a_busy_writer(agent_db: Any, agent_home: Path) -> None:
    db: AgentDB = agent_db(journal="delete")
    first = db.session("cli", title="Busy", messages=1)
    stop = threading.Event()
    written: list[int] = []

    def agent_at_work() -> None:
        # The agent commits message after message, each holding the write lock a moment.
        writer = sqlite3.connect(db.path, isolation_level=None, timeout=5)
        try:
            while not stop.is_set():
                writer.execute("BEGIN IMMEDIATE")
                writer.execute(
                    "INSERT INTO messages (session_id, role, content, timestamp) "
                    "VALUES (?, 'user', 'more', ?)",
                    (first, 1_763_900_000 + len(written)),
                )
                writer.execute(
                    "UPDATE sessions SET message_count = message_count + 1 WHERE id = ?",
                    (first,),
                )
                time.sleep(0.02)
                writer.execute("COMMIT")
                written.append(1)
                time.sleep(0.005)
        finally:
            writer.close()

    with run_server(agent_home, *FAST) as server, server.client() as client:
        list_or_503(client)
        thread = threading.Thread(target=agent_at_work)
        thread.start()
        try:
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                response = list_or_503(client)
                assert response.status_code == 200, response.text
        finally:
            stop.set()
            thread.join()
        assert len(written) > 20

        def caught_up() -> bool:
            rows = list_or_503(client).json()["sessions"]
            return bool(rows[0]["message_count"] == 1 + len(written))

        eventually(caught_up)
        no_traceback(server)


def test_a_wal_checkpoint_truncate_changes_nothing_listed(agent: AgentDB, agent_home: Path) -> None:
    with run_server(agent_home, *FAST) as server, server.client() as client:
        first = list_or_503(client)
        etag = first.headers["etag"]
        agent.checkpoint("TRUNCATE")
        assert (
            not Path(f"{agent.path}-wal").exists() or Path(f"{agent.path}-wal").stat().st_size == 0
        )
        for _ in range(3):
            again = client.get("/api/sessions", headers={"If-None-Match": etag})
            assert again.status_code == 304
        agent.session("cli", title="After the checkpoint", messages=1)
        fresh_titles(client, {*GOOD, "After the checkpoint"})
        no_traceback(server)


# -- settings.json ---------------------------------------------------------------------------


def test_a_corrupt_or_half_written_settings_file_keeps_the_last_good_settings(
    agent_db: Any, agent_home: Path
) -> None:
    db: AgentDB = agent_db()
    db.session("cli", title="Terminal", messages=1)
    db.session("cron", title="Nightly", messages=1)
    path = agent_home / "webui" / "settings.json"
    with run_server(agent_home, *FAST) as server, server.client() as client:
        assert client.patch("/api/settings", json={"show_cron": True}).status_code == 200
        assert titles(list_or_503(client)) == {"Terminal", "Nightly"}
        for broken in (b'{"show_cron": fal', b"", b'{"show_cron": "yes"}', b"[1, 2]", b"\xff\xfe"):
            path.write_bytes(broken)
            settings = timed_get(client, "/api/settings")
            assert settings.status_code == 200 and settings.json()["show_cron"] is True
            assert titles(list_or_503(client)) == {"Terminal", "Nightly"}
            report = health(client)
            assert report["status"] == "degraded" and "settings.json" in report["settings_problem"]
        path.write_text('{"show_cron": false}')  # a good hand edit: picked up, no restart
        fresh_titles(client, {"Terminal"})
        assert health(client)["settings_problem"] is None
        no_traceback(server)


# -- webui.db and the webui/ folder ------------------------------------------------------------


def test_webui_db_locked_by_another_process_refuses_changes_clearly_and_loses_nothing(
    agent: AgentDB, agent_home: Path
) -> None:
    with run_server(agent_home, *FAST) as server, server.client() as client:
        rows = list_or_503(client).json()["sessions"]
        first, second = (r["session_id"] for r in rows)
        assert client.patch(f"/api/sessions/{first}", json={"pinned": True}).status_code == 200
        count_before = _message_count(agent, second)
        locker = sqlite3.connect(agent_home / "webui" / "webui.db", isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        try:
            for method, path, body in (
                ("PATCH", f"/api/sessions/{second}", {"title": "Renamed"}),
                ("DELETE", f"/api/sessions/{second}", None),
                ("POST", f"/api/sessions/{second}/restore", None),
                ("POST", f"/api/sessions/{second}/messages", {"content": "hello"}),
            ):
                started = time.monotonic()
                response = client.request(method, path, json=body)
                assert time.monotonic() - started < BUSY + SLACK
                assert response.status_code == 503, (method, path, response.text)
                assert response.json()["error"]["code"] == "webui_db_unavailable"
            listed = list_or_503(client)
            assert listed.status_code == 200 and listed.json()["sessions"][0]["pinned"] is True
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        # Nothing half done: the refused turn wrote no user message.
        assert _message_count(agent, second) == count_before
        renamed = client.patch(f"/api/sessions/{second}", json={"title": "Renamed"})
        assert renamed.status_code == 200
        after = {r["session_id"]: r for r in list_or_503(client).json()["sessions"]}
        assert after[first]["pinned"] is True and after[second]["title"] == "Renamed"
        no_traceback(server)


def _message_count(db: AgentDB, session_id: str) -> int:
    row = db.conn.execute("SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,))
    return int(row.fetchone()[0])


def test_a_turn_outlives_webui_db_locked_mid_reply(agent: AgentDB, agent_home: Path) -> None:
    args = (*FAST, "--demo-tokens-per-second", "30", "--heartbeat-interval", "0.2")
    with run_server(agent_home, *args) as server, server.client() as client:
        created = client.post("/api/sessions", json={"title": "Through the lock"})
        session_id = created.json()["session_id"]
        turn = client.post(f"/api/sessions/{session_id}/messages", json={"content": "Go on"})
        assert turn.status_code == 202
        stream_id = turn.json()["stream_id"]
        locker = sqlite3.connect(agent_home / "webui" / "webui.db", isolation_level=None)
        events: list[tuple[str, Any]] = []
        try:
            with client.stream("GET", f"/api/streams/{stream_id}", timeout=30) as response:
                for event, data in read_sse(response):
                    events.append((event, data))
                    if len(events) == 3:
                        locker.execute("BEGIN IMMEDIATE")  # heartbeats now fail for a while
                    if len(events) == 20 and locker.in_transaction:
                        locker.execute("ROLLBACK")
                    if event in ("end", "error"):
                        break
        finally:
            if locker.in_transaction:
                locker.execute("ROLLBACK")
            locker.close()
        assert events[-1][0] == "end" and events[-1][1]["status"] == "done", events[-3:]
        text = "".join(d["text"] for e, d in events if e == "token")
        stored = agent.conn.execute(
            "SELECT role, content FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
        ).fetchall()
        assert stored == [("user", "Go on"), ("assistant", text)]

        def not_streaming() -> bool:
            row = timed_get(client, f"/api/sessions/{session_id}").json()
            return row["is_streaming"] is False

        eventually(not_streaming)
        no_traceback(server)


def _webui_is_a_file(home: Path) -> None:
    (home / "webui").write_text("this is a file where the web UI's folder should be\n")


def _webui_db_is_a_folder(home: Path) -> None:
    (home / "webui" / "webui.db").mkdir(parents=True)


@pytest.mark.parametrize(
    ("break_it", "settings_status"),
    [(_webui_is_a_file, 503), (_webui_db_is_a_folder, 200)],
    ids=["webui-is-a-file", "db-is-a-folder"],
)
def test_an_unusable_webui_folder_starts_read_only(
    agent: AgentDB, agent_home: Path, break_it: Callable[[Path], None], settings_status: int
) -> None:
    """The server starts anyway: lists served read-only, every change a clear 503, the
    problem in health. Preferences live in their own file: saved when the folder allows."""
    break_it(agent_home)
    sessions_before = agent.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    with run_server(agent_home, *FAST) as server, server.client() as client:
        listed = list_or_503(client)
        assert listed.status_code == 200 and titles(listed) == GOOD
        sid = listed.json()["sessions"][0]["session_id"]
        assert timed_get(client, f"/api/sessions/{sid}").status_code == 200
        assert timed_get(client, f"/api/sessions/{sid}/messages").status_code == 200
        assert timed_get(client, "/api/profiles").status_code == 200
        report = health(client)
        assert report["status"] == "degraded" and report["read_only"] is True
        assert "webui.db cannot be written" in report["webui_db_problem"]
        for method, path, body in (
            ("POST", "/api/sessions", {"title": "New"}),
            ("PATCH", f"/api/sessions/{sid}", {"pinned": True}),
            ("DELETE", f"/api/sessions/{sid}", None),
            ("POST", f"/api/sessions/{sid}/restore", None),
            ("POST", f"/api/sessions/{sid}/messages", {"content": "hi"}),
        ):
            response = client.request(method, path, json=body)
            assert response.status_code == 503, (method, path, response.text)
            error = response.json()["error"]
            assert error["code"] == "webui_db_unavailable" and "read-only" in error["message"]
        settings = client.patch("/api/settings", json={"show_cron": True})
        assert settings.status_code == settings_status, settings.text
        if settings_status == 503:
            assert settings.json()["error"]["code"] == "settings_not_writable"
        assert titles(list_or_503(client)) == GOOD  # still served after all of that
        no_traceback(server)
    after = agent.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]
    assert after == sessions_before  # nothing was half created


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_webui_folder_keeps_its_overrides_visible(
    agent: AgentDB, agent_home: Path
) -> None:
    with run_server(agent_home, *FAST) as server, server.client() as client:
        rows = list_or_503(client).json()["sessions"]
        gone = rows[0]["session_id"]
        assert client.delete(f"/api/sessions/{gone}").status_code == 200
    folder = agent_home / "webui"
    folder.chmod(0o555)
    try:
        with run_server(agent_home, *FAST) as server, server.client() as client:
            listed = list_or_503(client).json()["sessions"]
            assert gone not in {r["session_id"] for r in listed}  # the tombstone still holds
            assert health(client)["read_only"] is True
            assert client.post(f"/api/sessions/{gone}/restore").status_code == 503
    finally:
        folder.chmod(0o755)


# -- shutdown --------------------------------------------------------------------------------


def read_sse(response: httpx2.Response) -> Iterator[tuple[str, Any]]:
    event, data = "message", ""
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif line == "" and data:
            yield event, orjson.loads(data)
            event, data = "message", ""


def test_sigterm_ends_open_event_and_token_streams(agent: AgentDB, agent_home: Path) -> None:
    """tests/live/test_turns.py checks the exit and the log; here, that open SSE responses end
    (the clients see their streams close) instead of holding the shutdown up."""
    with run_server(agent_home, "--demo-tokens-per-second", "2") as server:
        with server.client() as client:
            session_id = client.post("/api/sessions", json={"title": "Shut down"}).json()[
                "session_id"
            ]
            turn = client.post(f"/api/sessions/{session_id}/messages", json={"content": "Hi"})
            stream_id = turn.json()["stream_id"]
        ended: dict[str, float] = {}
        opened = threading.Barrier(3)

        def follow(name: str, path: str) -> None:
            with (
                server.client() as client,
                client.stream("GET", path, timeout=30) as response,
            ):
                assert response.status_code == 200
                opened.wait(10)
                try:
                    for _ in response.iter_lines():
                        pass
                except httpx2.TransportError:
                    pass
            ended[name] = time.monotonic()

        threads = [
            threading.Thread(target=follow, args=("events", "/api/sessions/events")),
            threading.Thread(target=follow, args=("tokens", f"/api/streams/{stream_id}")),
        ]
        for thread in threads:
            thread.start()
        opened.wait(10)
        time.sleep(0.3)
        signalled = time.monotonic()
        assert server.stop(signal.SIGTERM, timeout=20) in (0, -signal.SIGTERM)
        for thread in threads:
            thread.join(10)
            assert not thread.is_alive()
        assert set(ended) == {"events", "tokens"}
        assert all(at - signalled < 5 for at in ended.values()), ended
        output = server.output()
        assert "Traceback" not in output and "ERROR" not in output, output
    # The reply so far was kept, and the turn was closed as cancelled.
    stored = agent.conn.execute(
        "SELECT role FROM messages WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    assert stored[0] == ("user",)
