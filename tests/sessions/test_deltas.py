"""Deltas: the rows a client holds, brought up to date, or the full page when in doubt."""

from __future__ import annotations

from typing import Any

import orjson
from clients import Client
from factory import AgentDB
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from webui.sessions.deltas import diff


def apply(held: list[dict[str, Any]], answer: dict[str, Any]) -> list[dict[str, Any]]:
    """What the sidebar does with a delta (see the README): drop, then insert in order."""
    gone = {tuple(k) for k in answer["removed"]}
    gone |= {(u["row"]["profile"], u["row"]["session_id"]) for u in answer["upserted"]}
    rows = [r for r in held if (r["profile"], r["session_id"]) not in gone]
    for item in answer["upserted"]:
        rows.insert(item["index"], item["row"])
    return rows[: min(answer["limit"], answer["total"])]


def _row(key: int, rev: int) -> bytes:
    return orjson.dumps({"profile": "p", "session_id": f"s{key}", "rev": rev})


@given(
    old=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2)), unique_by=lambda t: t[0]),
    new=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 2)), unique_by=lambda t: t[0]),
)
def test_a_diff_applied_by_key_gives_the_new_window_or_is_refused(
    old: list[tuple[int, int]], new: list[tuple[int, int]]
) -> None:
    old_rows = [_row(k, r) for k, r in old]
    new_rows = [_row(k, r) for k, r in new]
    found = diff(old_rows, new_rows)
    if found is None:
        return  # the full page goes instead
    upserted, removed = found
    answer = {
        "removed": [["p", orjson.loads(r)["session_id"]] for r in removed],
        "upserted": [{"index": i, "row": orjson.loads(r)} for i, r in upserted],
        "limit": len(new_rows) + 1,
        "total": len(new_rows),
    }
    held = [orjson.loads(r) for r in old_rows]
    assert apply(held, answer) == [orjson.loads(r) for r in new_rows]


def test_an_unchanged_order_of_unchanged_rows_always_gives_a_delta() -> None:
    old = [_row(k, 0) for k in range(10)]
    new = [_row(99, 0), *old[:3], _row(3, 1), *old[4:8]]
    found = diff(old, new)
    assert found is not None
    upserted, removed = found
    assert [i for i, _ in upserted] == [0, 4]
    assert {orjson.loads(r)["session_id"] for r in removed} == {"s3", "s8", "s9"}


def _poll(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/sessions", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_poll_with_since_gets_what_changed_and_applies_to_the_fresh_page(
    client: TestClient, agent_db: Any
) -> None:
    db: AgentDB = agent_db()
    ids = [db.session("cli", messages=2) for _ in range(30)]
    first = _poll(client, limit=20)
    assert "version" in first and "delta" not in first  # old clients: the page as before
    db.message(ids[5], "user", "newer")
    db.update(ids[7], title="Renamed seven")
    db.delete(ids[29])
    answer = _poll(client, since=first["version"], have=20, limit=20)
    assert answer["delta"] is True and answer["since"] == first["version"]
    fresh = _poll(client, limit=20)
    assert apply(first["sessions"], answer) == fresh["sessions"]
    assert answer["version"] == fresh["version"] and answer["total"] == fresh["total"]
    assert len(answer["upserted"]) <= 3
    upserted = {(u["row"]["profile"], u["row"]["session_id"]) for u in answer["upserted"]}
    assert not upserted & {tuple(k) for k in answer["removed"]}  # a changed row is named once


def test_an_unknown_or_forgotten_version_gets_the_full_page_marked(client: TestClient) -> None:
    answer = _poll(client, since="nope.1", have=10)
    assert answer["delta"] is False and answer["sessions"] == [] and "version" in answer


def test_no_change_is_still_a_304_with_since(client: TestClient, agent_db: Any) -> None:
    db: AgentDB = agent_db()
    for _ in range(3):
        db.session("cli", messages=2)
    response = client.get("/api/sessions")
    version, etag = response.json()["version"], response.headers["etag"]
    # The client holds fewer rows than its page (the list is short): still the page's tag.
    again = client.get(
        "/api/sessions", params={"since": version, "have": 3}, headers={"If-None-Match": etag}
    )
    assert again.status_code == 304


def test_since_is_validated(make_client: Client) -> None:
    client = make_client()
    for bad in ("", "a b", "x" * 65, "<script>"):
        response = client.get("/api/sessions", params={"since": bad})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "since"
    response = client.get("/api/sessions", params={"since": "v.1", "have": "0"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "have"


def test_a_delta_answer_is_smaller_than_the_page(client: TestClient, agent_db: Any) -> None:
    db: AgentDB = agent_db()
    ids = [db.session("cli", messages=2) for _ in range(200)]
    first = client.get("/api/sessions", params={"limit": 200})
    db.message(ids[50], "user", "one more")
    delta = client.get("/api/sessions", params={"since": first.json()["version"], "have": 200})
    assert delta.json()["delta"] is True
    assert len(delta.content) * 20 < len(first.content)
