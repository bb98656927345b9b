"""The runtime overlay on a built list: live streams in front, lately ended ones in place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from factory import AgentDB

from webui.sessions.built import BuiltList, build_list, render_page
from webui.sessions.overlay import build_overlay
from webui.sessions.query import ListFlags, ListKey, ListQuery
from webui.state.registry import LiveStream
from webui.state.webuidb import Override

KEY = ListKey(("default",), False, ListFlags())


def built(home: Path, pinned: frozenset[str] | set[str] = frozenset()) -> BuiltList:
    overrides = {sid: Override(pinned=True) for sid in pinned}
    return build_list(
        KEY,
        home=home,
        busy_timeout=1.0,
        profile_state=lambda profile: (overrides, frozenset()),
        wall_time=1000.0,
    )


def page(
    lst: BuiltList, live: tuple[LiveStream, ...] = (), ended: tuple[LiveStream, ...] = ()
) -> Any:
    overlay = build_overlay(
        lst.position, lst.rows, lst.search, lst.empty, live, ended, lst.pinned_count
    )
    body = render_page(lst, ListQuery(KEY, "default"), overlay, 0).body
    return json.loads(body)


def stream(sid: str, *, ended_at: float | None = None, count: int = 9) -> LiveStream:
    return LiveStream(
        stream_id=f"s-{sid}",
        profile="default",
        session_id=sid,
        started_at=1000.0,
        message_count=count,
        last_activity_at=2000.0,
        ended_at=ended_at,
    )


def ids(data: Any) -> list[str]:
    return [r["session_id"] for r in data["sessions"]]


def test_a_live_stream_goes_first_and_an_ended_one_heads_the_unpinned_rows(
    agent_home: Path, agent_db: Callable[..., AgentDB]
) -> None:
    db = agent_db()
    old = db.session("cli", id="old", started_at=100.0, messages=1)
    mid = db.session("cli", id="mid", started_at=200.0, messages=1)
    new = db.session("cli", id="new", started_at=300.0, messages=1)
    pin = db.session("cli", id="pin", started_at=50.0, messages=1)
    lst = built(agent_home, pinned={pin})
    assert ids(page(lst)) == [pin, new, mid, old]
    ended = page(lst, ended=(stream(old, ended_at=1500.0),))
    assert ids(ended) == [pin, old, new, mid]
    row = ended["sessions"][1]
    assert (row["is_streaming"], row["message_count"], row["last_message_at"]) == (False, 9, 2000.0)
    both = page(lst, live=(stream(mid),), ended=(stream(old, ended_at=1500.0),))
    assert ids(both) == [mid, pin, old, new]
    assert both["sessions"][0]["is_streaming"] is True
    assert both["total"] == 4


def test_an_ended_stream_on_a_pinned_row_stays_in_the_pinned_group(
    agent_home: Path, agent_db: Callable[..., AgentDB]
) -> None:
    db = agent_db()
    a = db.session("cli", id="a", started_at=300.0, messages=1)
    b = db.session("cli", id="b", started_at=200.0, messages=1)
    c = db.session("cli", id="c", started_at=100.0, messages=1)
    lst = built(agent_home, pinned={a, b})
    assert ids(page(lst, ended=(stream(b, ended_at=1500.0),))) == [b, a, c]


def test_a_new_chat_that_ended_shows_and_counts_before_the_rebuild(
    agent_home: Path, agent_db: Callable[..., AgentDB]
) -> None:
    db = agent_db()
    other = db.session("cli", id="other", started_at=100.0, messages=1)
    fresh = db.session("webui", id="fresh", started_at=200.0, messages=0)
    lst = built(agent_home)
    assert ids(page(lst)) == [other]
    data = page(lst, ended=(stream(fresh, ended_at=1500.0, count=2),))
    assert ids(data) == [fresh, other]
    assert data["counts"]["webui"] == 1 and data["total"] == 2


def test_a_live_stream_wins_over_an_ended_one_on_the_same_session(
    agent_home: Path, agent_db: Callable[..., AgentDB]
) -> None:
    db = agent_db()
    sid = db.session("webui", id="chat", messages=2)
    lst = built(agent_home)
    data = page(lst, live=(stream(sid),), ended=(stream(sid, ended_at=1500.0),))
    assert ids(data) == [sid] and data["sessions"][0]["is_streaming"] is True


def test_a_search_sees_moved_rows_too(agent_home: Path, agent_db: Callable[..., AgentDB]) -> None:
    db = agent_db()
    db.session("cli", id="x", title="apples", started_at=300.0, messages=1)
    y = db.session("cli", id="y", title="pears", started_at=100.0, messages=1)
    lst = built(agent_home)
    overlay = build_overlay(
        lst.position, lst.rows, lst.search, lst.empty, (), (stream(y, ended_at=1500.0),), 0
    )
    body = render_page(lst, ListQuery(KEY, "default", q="pear"), overlay, 0).body
    data = json.loads(body)
    assert ids(data) == [y] and data["sessions"][0]["message_count"] == 9
