"""The list rules of one profile, on plain records (the SQLite side is in agentdb/test_reader)."""

from __future__ import annotations

from typing import Any

from webui.records import SessionRecord
from webui.sessions.kinds import source_kind, source_label
from webui.sessions.overlay import base_sort_key
from webui.sessions.query import ListFlags
from webui.sessions.rules import build_profile_listing, chains
from webui.state.webuidb import Override

T0 = 1_763_800_000.0


def rec(id: str, source: str = "cli", **kw: Any) -> SessionRecord:
    values: dict[str, Any] = dict(
        id=id,
        source=source,
        title=None,
        model="m",
        model_config=None,
        parent_session_id=None,
        started_at=T0,
        ended_at=None,
        end_reason=None,
        message_count=2,
        input_tokens=0,
        output_tokens=0,
        estimated_cost_usd=None,
        archived=False,
        pinned=False,
        hidden=False,
        session_key=None,
        chat_id=None,
        thread_id=None,
        last_activity_at=None,
        last_message_at=T0 + 10,
        preview="hello there",
    )
    values.update(kw)
    return SessionRecord(**values)


def ids(records: list[SessionRecord], flags: ListFlags | None = None, **kw: Any) -> list[str]:
    listing = build_profile_listing(
        "default",
        records,
        flags or ListFlags(),
        kw.get("overrides", {}),
        kw.get("tombstones", frozenset()),
    )
    return sorted(item.row["session_id"] for item in listing.rows)


def test_source_kinds_and_labels() -> None:
    assert source_kind("webui") == "webui"
    assert {source_kind(s) for s in ("cli", "tui", "acp", "desktop")} == {"cli"}
    assert {source_kind(s) for s in ("telegram", "slack", "email", "sms")} == {"messaging"}
    assert source_kind("api_server") == "api"
    assert {source_kind(s) for s in ("kanban", "tool", "oneshot")} == {"internal"}
    assert source_kind("myplugin", has_chat=True) == "messaging"
    assert source_kind("myplugin") == "other"
    assert source_label("telegram") == "Telegram"
    assert source_label("api_server") == "API"
    assert source_label("homeassistant") == "Home Assistant"


def test_gates_hide_their_kinds() -> None:
    records = [rec("a", "cli"), rec("b", "cron"), rec("c", "webhook"), rec("d", "webui")]
    assert ids(records) == ["a", "d"]
    assert ids(records, ListFlags(show_cli=False)) == ["d"]
    everything = ListFlags(show_cron=True, show_webhook=True)
    assert ids(records, everything) == ["a", "b", "c", "d"]


def test_internal_and_subagents_hidden() -> None:
    records = [
        rec("a", "kanban"),
        rec("b", "subagent"),
        rec("c", "cli", model_config='{"_delegate_from": "x"}'),
        rec("d", "cli"),
    ]
    assert ids(records) == ["d"]


def test_sidebar_source_and_counts() -> None:
    records = [rec("a", "cli"), rec("b", "webui"), rec("c", "telegram"), rec("d", "cron")]
    listing = build_profile_listing(
        "default", records, ListFlags(sidebar_source="webui"), {}, frozenset()
    )
    assert [r.row["session_id"] for r in listing.rows] == ["b"]
    # Counts stay the same whatever the tab, so the tabs can show them.
    assert listing.counts == {
        "webui": 1,
        "cli": 1,
        "messaging": 1,
        "cron": 1,
        "webhook": 0,
        "claude-code": 0,
        "archived": 0,
    }


def test_claude_code_rows_are_gated_counted_and_say_where_they_ran() -> None:
    records = [
        rec("a", "cli"),
        rec("u-1", "claude-code", cwd="/home/ada/code/webui", git_branch="main"),
    ]
    shown = build_profile_listing("claude-code", records, ListFlags(), {}, frozenset())
    row = next(r.row for r in shown.rows if r.row["session_id"] == "u-1")
    assert row["source_kind"] == "claude-code" and row["source_label"] == "Claude Code"
    assert row.get("project") == "webui" and row.get("git_branch") == "main"
    assert "project" not in next(r.row for r in shown.rows if r.row["session_id"] == "a")
    gated = build_profile_listing(
        "claude-code", records, ListFlags(show_claude_code=False), {}, frozenset()
    )
    assert [r.row["session_id"] for r in gated.rows] == ["a"]
    assert gated.counts["claude-code"] == 1  # counted even when hidden, like every gate
    cli_tab = build_profile_listing(
        "claude-code", records, ListFlags(sidebar_source="cli"), {}, frozenset()
    )
    assert [r.row["session_id"] for r in cli_tab.rows] == ["a"]


def test_zero_message_sessions_are_left_out_but_kept_for_the_overlay() -> None:
    records = [rec("a"), rec("b", message_count=0, last_message_at=None)]
    listing = build_profile_listing("default", records, ListFlags(), {}, frozenset())
    assert [r.row["session_id"] for r in listing.rows] == ["a"]
    assert [r.row["session_id"] for r in listing.empty] == ["b"]


def test_compression_chain_collapses_to_newest_segment() -> None:
    records = [
        rec("s1", title="Plan", end_reason="compression", started_at=T0, message_count=40),
        rec(
            "s2",
            title="Plan #2",
            parent_session_id="s1",
            end_reason="compression",
            started_at=T0 + 100,
            message_count=30,
        ),
        rec(
            "s3",
            title="Plan #3",
            parent_session_id="s2",
            started_at=T0 + 200,
            message_count=5,
            last_message_at=T0 + 300,
        ),
    ]
    listing = build_profile_listing("default", records, ListFlags(), {}, frozenset())
    assert len(listing.rows) == 1
    row = listing.rows[0].row
    assert (row["session_id"], row["title"], row["message_count"]) == ("s3", "Plan #3", 5)
    assert row["created_at"] == T0
    assert row["last_message_at"] == T0 + 300


def test_branches_and_non_compression_children_keep_their_own_rows() -> None:
    records = [
        rec("p", end_reason="compression"),
        rec("b", parent_session_id="p", model_config='{"_branched_from": "p"}'),
        rec("q", end_reason="branched"),
        rec("c", parent_session_id="q"),
    ]
    assert ids(records) == ["b", "c", "p", "q"]


def test_chain_cycles_do_not_hang() -> None:
    records = [
        rec("a", parent_session_id="b", end_reason="compression"),
        rec("b", parent_session_id="a", end_reason="compression"),
    ]
    assert len(chains(records)) <= 2


def test_messaging_deduplicated_unless_history_shown() -> None:
    records = [
        rec("old", "telegram", session_key="tg:1", last_message_at=T0 + 1),
        rec("new", "telegram", session_key="tg:1", last_message_at=T0 + 9),
        rec("x1", "slack", chat_id="C1", thread_id="t", last_message_at=T0 + 1),
        rec("x2", "slack", chat_id="C1", thread_id="t", last_message_at=T0 + 2),
        rec("y", "slack", chat_id="C1", thread_id="other"),
    ]
    assert ids(records) == ["new", "x2", "y"]
    assert ids(records, ListFlags(show_messaging_history=True)) == ["new", "old", "x1", "x2", "y"]


def test_archived_hidden_and_tombstoned() -> None:
    records = [rec("a", archived=True), rec("h", hidden=True), rec("t"), rec("n")]
    assert ids(records, tombstones=frozenset({"t"})) == ["n"]
    assert ids(records, ListFlags(include_archived=True), tombstones=frozenset({"t"})) == ["a", "n"]
    assert ids(records, ListFlags(exclude_hidden=False), tombstones=frozenset({"t"})) == ["h", "n"]


def test_overrides_win_over_the_agent() -> None:
    records = [rec("a", title="Agent title", archived=True), rec("b", pinned=True)]
    overrides = {"a": Override(title="Mine", archived=False), "b": Override(pinned=False)}
    listing = build_profile_listing("default", records, ListFlags(), overrides, frozenset())
    rows = {r.row["session_id"]: r.row for r in listing.rows}
    assert rows["a"]["title"] == "Mine" and rows["a"]["archived"] is False
    assert rows["b"]["pinned"] is False


def test_override_on_an_earlier_segment_follows_the_chain() -> None:
    records = [
        rec("s1", end_reason="compression"),
        rec("s2", parent_session_id="s1"),
    ]
    listing = build_profile_listing(
        "default", records, ListFlags(), {"s1": Override(pinned=True)}, frozenset()
    )
    assert listing.rows[0].row["session_id"] == "s2" and listing.rows[0].pinned


def test_titles_fall_back_to_preview_then_untitled() -> None:
    long = "  word " * 30
    records = [rec("a", title="T"), rec("b", preview=long), rec("c", preview=None)]
    rows = {
        r.row["session_id"]: r.row["title"]
        for r in build_profile_listing("p", records, ListFlags(), {}, frozenset()).rows
    }
    assert rows["a"] == "T"
    assert len(rows["b"]) == 60 and rows["b"].startswith("word word")
    assert rows["c"] == "Untitled"


def test_order_pinned_then_first_non_empty_activity_then_id() -> None:
    records = [
        # last_message_at is older than updated_at: the first non-empty wins, not the largest.
        rec("first_non_empty", last_message_at=T0 + 5, last_activity_at=T0 + 500),
        rec("updated_only", last_message_at=None, last_activity_at=T0 + 50, message_count=1),
        rec("created_only", last_message_at=None, started_at=T0 + 40, message_count=1),
        rec("tie_b", last_message_at=T0 + 30),
        rec("tie_a", last_message_at=T0 + 30),
        rec("no_time", last_message_at=None, started_at=None, message_count=1),
        rec("pinned_old", pinned=True, last_message_at=T0 + 1),
    ]
    listing = build_profile_listing("p", records, ListFlags(), {}, frozenset())
    order = [r.row["session_id"] for r in sorted(listing.rows, key=base_sort_key)]
    assert order == [
        "pinned_old",
        "updated_only",
        "created_only",
        "tie_a",
        "tie_b",
        "first_non_empty",
        "no_time",
    ]
