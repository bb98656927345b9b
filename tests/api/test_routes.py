"""The HTTP API of the foundation, through the app, on real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clients import Client
from factory import AgentDB
from starlette.testclient import TestClient

from webui.agentdb.schema import SCHEMA_VERSIONS

ROW_FIELDS = {
    "session_id", "title", "profile", "source", "source_kind", "source_label", "created_at",
    "updated_at", "last_message_at", "message_count", "model", "parent_session_id", "ended_at",
    "end_reason", "pinned", "archived", "input_tokens", "output_tokens", "estimated_cost_usd",
    "is_streaming", "active_stream_id", "has_pending_user_message", "pending_started_at",
}  # fmt: skip


def sessions(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def listed(client: TestClient, **params: Any) -> list[str]:
    return [row["session_id"] for row in sessions(client, **params)["sessions"]]


def error_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_empty_home_is_an_empty_list(client: TestClient) -> None:
    data = sessions(client)
    assert data["sessions"] == [] and data["total"] == 0 and data["next_offset"] is None
    assert data["profile"] == "default" and data["all_profiles"] is False
    assert set(data["counts"]) == {
        "webui", "cli", "messaging", "cron", "webhook", "claude-code", "archived",
        "other_profiles",
    }  # fmt: skip


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("upgraded", [False, True])
def test_every_schema_version_and_journal_mode(
    agent_db: Any, make_client: Client, version: int, journal: str, upgraded: bool
) -> None:
    if upgraded and version == 11:
        pytest.skip("v11 is the base layout: nothing to upgrade")
    db: AgentDB = agent_db(version=version, journal=journal, upgraded=upgraded)
    titled = db.session("cli", title="Titled chat", messages=3)
    untitled = db.session("telegram", messages=[("user", "What is the weather in Oslo today?")])
    db.session("cli", messages=0)
    client = make_client()
    data = sessions(client)
    rows = {row["session_id"]: row for row in data["sessions"]}
    assert set(rows) == {titled, untitled}
    assert set(rows[titled]) == ROW_FIELDS
    assert rows[titled]["title"] == "Titled chat" and rows[titled]["message_count"] == 3
    assert rows[untitled]["title"] == "What is the weather in Oslo today?"
    assert rows[untitled]["source_kind"] == "messaging"
    assert rows[untitled]["source_label"] == "Telegram"
    assert data["counts"]["cli"] == 1 and data["counts"]["messaging"] == 1
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == journal


def test_reader_never_writes_the_agent_database(agent_db: Any, make_client: Client) -> None:
    db: AgentDB = agent_db(journal="delete")
    db.session("cli", messages=2)
    path = db.path
    before = path.read_bytes()
    indexes = db.conn.execute("SELECT name FROM sqlite_master WHERE type='index'").fetchall()
    client = make_client()
    sessions(client)
    client.get(f"/api/sessions/{listed(client)[0]}/messages")
    assert path.read_bytes() == before
    assert (
        db.conn.execute("SELECT name FROM sqlite_master WHERE type='index'").fetchall() == indexes
    )
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_missing_index_still_lists(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    db.execute("DROP INDEX IF EXISTS idx_messages_session")
    a = db.session("cli", title="A", messages=2)
    b = db.session("cli", messages=[("user", "preview without the index")])
    rows = {r["session_id"]: r for r in sessions(client)["sessions"]}
    assert rows[a]["last_message_at"] is not None
    assert rows[b]["title"] == "preview without the index"


def test_bad_timestamps_sort_last_and_never_raise(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    good = db.session("cli", title="good", messages=1)
    bad = db.session("cli", title="bad", messages=1)
    db.execute("UPDATE messages SET timestamp = 'yesterday' WHERE session_id = ?", (bad,))
    db.execute(
        "UPDATE sessions SET started_at = 'soon', last_activity_at = 'never' WHERE id = ?", (bad,)
    )
    assert listed(client) == [good, bad]


def test_etag_304_and_new_tag_after_commit(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    db.session("cli", messages=2)
    first = client.get("/api/sessions")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/api/sessions", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    db.session("cli", messages=1)
    changed = client.get("/api/sessions", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"include_archived": "perhaps"}, "include_archived"),
        ({"limit": "0"}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"sidebar_source": "tv"}, "sidebar_source"),
        ({"profile": "../../etc"}, "profile"),
    ],
)
def test_bad_parameters_are_400(client: TestClient, params: dict[str, str], param: str) -> None:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 400
    assert error_of(response)["param"] == param


def test_unknown_profile_is_404(client: TestClient) -> None:
    response = client.get("/api/sessions", params={"profile": "nobody"})
    assert response.status_code == 404
    assert error_of(response) == {
        "code": "unknown_profile",
        "message": "no profile named 'nobody'",
        "param": "profile",
    }


def test_paging_and_search(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    made = [db.session("cli", title=f"Chat {n:02d}", messages=1) for n in range(12)]
    newest_first = list(reversed(made))
    page = sessions(client, limit=5, offset=5)
    assert [r["session_id"] for r in page["sessions"]] == newest_first[5:10]
    assert (page["total"], page["next_offset"]) == (12, 10)
    assert sessions(client, limit=5, offset=10)["next_offset"] is None
    found = sessions(client, q="CHAT 1")
    assert {r["title"] for r in found["sessions"]} == {"Chat 10", "Chat 11"}
    assert found["total"] == 2
    by_id = sessions(client, q=made[3][-6:])
    assert [r["session_id"] for r in by_id["sessions"]] == [made[3]]


def test_session_row_and_messages(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", title="Hello", messages=5)
    row = client.get(f"/api/sessions/{sid}").json()
    assert row["session_id"] == sid and set(row) == ROW_FIELDS
    first = client.get(f"/api/sessions/{sid}/messages", params={"limit": 3}).json()
    assert len(first["messages"]) == 3 and first["next_after"] == first["messages"][-1]["id"]
    rest = client.get(f"/api/sessions/{sid}/messages", params={"after": first["next_after"]}).json()
    assert len(rest["messages"]) == 2 and rest["next_after"] is None
    assert client.get("/api/sessions/nope_123").status_code == 404
    assert client.get("/api/sessions/bad%20id").status_code == 400


def test_create_rename_pin_archive_delete_restore(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", title="Original", messages=2)
    other = db.session("cli", title="Other", messages=2)
    created = client.post("/api/sessions", json={"title": "New chat"})
    assert created.status_code == 201 and created.json()["source"] == "webui"

    renamed = client.patch(f"/api/sessions/{sid}", json={"title": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["title"] == "Renamed"
    assert sessions(client)["sessions"][1]["title"] == "Renamed"

    client.patch(f"/api/sessions/{sid}", json={"pinned": True})
    assert listed(client)[0] == sid and sessions(client)["sessions"][0]["pinned"] is True

    client.patch(f"/api/sessions/{other}", json={"archived": True})
    assert other not in listed(client)
    assert other in listed(client, include_archived=1)
    assert sessions(client)["counts"]["archived"] == 1

    assert client.delete(f"/api/sessions/{sid}").json()["deleted"] is True
    assert sid not in listed(client)
    restored = client.post(f"/api/sessions/{sid}/restore")
    assert restored.status_code == 200 and sid in listed(client)
    # The agent's data is untouched by all of it.
    title = db.conn.execute("SELECT title FROM sessions WHERE id = ?", (sid,)).fetchone()[0]
    assert title == "Original"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"pinned": "yes"}, "pinned"),
        ({"colour": "red"}, "colour"),
        ({}, "body"),
    ],
)
def test_patch_validation(
    agent_db: Any, client: TestClient, body: dict[str, Any], param: str
) -> None:
    sid = agent_db().session("cli", messages=1)
    response = client.patch(f"/api/sessions/{sid}", json=body)
    assert response.status_code == 400 and error_of(response)["param"] == param


def test_bodies_must_be_json_objects(agent_db: Any, client: TestClient) -> None:
    sid = agent_db().session("cli", messages=1)
    assert client.patch(f"/api/sessions/{sid}", content=b"{nope").status_code == 400
    assert client.patch(f"/api/sessions/{sid}", content=b"[1]").status_code == 400
    wrong_type = client.patch(
        f"/api/sessions/{sid}", content=b"title=x", headers={"content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415


def test_settings_round_trip_validation_and_hand_edits(
    agent_home: Path, agent_db: Any, client: TestClient
) -> None:
    db: AgentDB = agent_db()
    cron = db.session("cron", messages=1)
    assert client.get("/api/settings").json()["show_cron"] is False
    assert cron not in listed(client)
    assert client.patch("/api/settings", json={"show_cron": True}).json()["show_cron"] is True
    assert cron in listed(client)
    for body, param in (({"show_cron": "1"}, "show_cron"), ({"colour": 1}, "colour")):
        response = client.patch("/api/settings", json=body)
        assert response.status_code == 400 and error_of(response)["param"] == param
    path = agent_home / "webui" / "settings.json"
    path.write_text(json.dumps({"show_cron": False}))
    assert cron not in listed(client)
    path.write_text("{ half written")
    health = client.get("/api/health").json()
    assert health["status"] == "degraded" and "settings.json" in health["settings_problem"]
    assert client.get("/api/settings").json()["show_cron"] is False  # last good kept
    assert cron not in listed(client)


def test_profiles_switch_cookie_and_all_profiles(agent_db: Any, client: TestClient) -> None:
    default: AgentDB = agent_db()
    work: AgentDB = agent_db("work", journal="delete")
    d = default.session("cli", messages=1)
    w1 = work.session("cli", messages=1)
    w2 = work.session("webui", messages=1)
    profiles = client.get("/api/profiles").json()
    assert profiles["profiles"] == [
        {"name": "default", "session_count": 1, "is_active": True},
        {"name": "work", "session_count": 2, "is_active": False},
    ]
    assert sessions(client)["counts"]["other_profiles"] == 2
    switched = client.post("/api/profile/switch", json={"profile": "work"})
    assert switched.status_code == 200 and "webui_profile=work" in switched.headers["set-cookie"]
    assert set(listed(client)) == {w1, w2}
    assert client.post("/api/profile/switch", json={"profile": "ghost"}).status_code == 404
    both = sessions(client, all_profiles=1)
    assert {(r["profile"], r["session_id"]) for r in both["sessions"]} == {
        ("default", d), ("work", w1), ("work", w2),
    }  # fmt: skip


def test_health_reports_cache_statistics(agent_db: Any, client: TestClient) -> None:
    agent_db().session("cli", messages=1)
    sessions(client)
    sessions(client)
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    cache = health["cache"]
    assert cache["misses"] >= 1 and cache["hits"] >= 1 and cache["rebuilds"] >= 1
    assert cache["rebuild_time"]["p50_ms"] is not None


def test_unknown_routes_and_methods_are_json_errors(client: TestClient) -> None:
    assert error_of(client.get("/api/nothing"))["code"] == "not_found"
    response = client.put("/api/settings", json={})
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_health_reports_what_the_index_did(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    for n in range(8):
        db.session("cli", title=f"Chat {n}", messages=1)
    before = client.get("/api/health").json()["cache"]["index"]
    assert before["refreshes"] == 0 and before["views"] == 0
    held = sessions(client)
    index = client.get("/api/health").json()["cache"]["index"]
    assert index["profiles"] >= 1 and index["views"] >= 1 and index["refreshes"] >= 1
    assert (index["deltas_sent"], index["full_answers_to_since"]) == (0, 0)

    db.session("cli", title="Newest", messages=1)  # a delta of one row, not the page of nine
    delta = sessions(client, since=held["version"], have=held["total"])
    assert delta["delta"] is True
    sessions(client, since="forgotten.1", have=5)
    after = client.get("/api/health").json()["cache"]["index"]
    assert after["refreshes"] > index["refreshes"] and after["records_read"] >= 1
    assert (after["deltas_sent"], after["full_answers_to_since"]) == (1, 1)


def test_health_reports_what_the_list_endpoint_compressed(
    client: TestClient, agent_db: Any
) -> None:
    db: AgentDB = agent_db()
    for _ in range(20):
        db.session("cli", messages=2)
    client.get("/api/sessions", headers={"Accept-Encoding": "gzip"})
    client.get("/api/sessions", headers={"Accept-Encoding": "gzip"})
    compression = client.get("/api/health").json()["cache"]["compression"]
    assert compression["compressions"] == {"gzip": 1}  # once per page and coding
    assert 0 < compression["bytes_out"] < compression["bytes_in"]
