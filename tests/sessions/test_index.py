"""The incremental index and its views against the from-scratch build, over random real writes.

A hypothesis state machine plays the agent on a real ``state.db`` (every schema version, WAL
and DELETE) and the web UI on a real ``webui.db``: new sessions of every source, appended
messages, titles, archive / hide / pin, ends, compression continuations, branches, subagent
children, messaging conversations, cron runs, deletions, ``replace_messages``, VACUUM, WAL
checkpoints and the file replaced; web UI renames, pins, archives, tombstones and restores;
and new views made mid-way (a settings toggle). After every step each view, refreshed through
``ChangeReader`` → ``ProfileIndex`` → ``View``, must cut the same pages, byte for byte, as
``build_list`` from scratch (the oracle), and at the end a fresh engine on the same home must
reach the same lists as the long-running one.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from claudecode.jsonl import Session, append, conversation, summary
from factory import AgentDB, agent_db_path, make_agent_db
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from webui.agentdb import schema as agentschema
from webui.agentdb.changes import ChangeReader
from webui.agentdb.reader import table_columns
from webui.claudecode.source import PROFILE as CLAUDE
from webui.claudecode.source import ClaudeCodeSource
from webui.sessions.built import BuiltList, build_list, render_page
from webui.sessions.index import ProfileIndex
from webui.sessions.overlay import Overlay
from webui.sessions.query import ListFlags, ListKey, ListQuery
from webui.sessions.views import View
from webui.state.webuidb import WebuiDB

PROFILES = ("default", "work")
SOURCES = ("cli", "tui", "webui", "telegram", "slack", "cron", "webhook", "api_server", "tool")
END_REASONS = ("compression", "branched", "cli_close", "session_reset", "idle")
FLAG_SETS = (
    ListFlags(),
    ListFlags(
        include_archived=True,
        exclude_hidden=False,
        show_cron=True,
        show_webhook=True,
        show_messaging_history=True,
    ),
    ListFlags(sidebar_source="cli"),
    ListFlags(sidebar_source="webui", include_archived=True),
    ListFlags(show_cli=False, show_messaging_history=True),
)
WALL = 1_763_900_000.0
EXAMPLES = 14  # per schema version and journal mode: 112 random sequences in all


def _keys() -> list[ListKey]:
    keys = [ListKey((p,), False, flags) for p in PROFILES for flags in FLAG_SETS[:3]]
    keys += [ListKey(PROFILES, True, flags) for flags in FLAG_SETS[1::2]]
    return keys


def _pages(built: BuiltList, key: ListKey) -> list[bytes]:
    """What clients would see: two pages and a search, plus what the overlay reads."""
    pages = []
    for offset, limit, q in ((0, 500, None), (1, 2, None), (0, 500, "a")):
        query = ListQuery(key, key.profiles[0], limit=limit, offset=offset, q=q)
        pages.append(render_page(built, query, Overlay(), 0).body.rsplit(b',"server_time"', 1)[0])
    positions = sorted((k, built.position[k]) for k in built.position)
    extra = {
        "positions": positions,
        "empty": sorted(built.empty),
        "tips": sorted(built.tips.items()),
        "pinned": built.pinned_count,
    }
    pages.append(json.dumps(extra, sort_keys=True).encode())
    return pages


class Engine:
    """The incremental path of ``SessionLists`` without the async cache around it: the
    profiles' ``state.db`` files and a Claude Code folder, in every key's scope."""

    def __init__(self, home: Path, db: WebuiDB) -> None:
        self.home, self.db = home, db
        self.readers = {p: ChangeReader(agent_db_path(home, p), 5.0) for p in PROFILES}
        self.claude = ClaudeCodeSource(home / "claude", 1 << 24)
        self.indexes = {p: ProfileIndex(p) for p in (*PROFILES, CLAUDE)}
        self.views: dict[ListKey, View] = {}

    def refresh(self) -> None:
        for profile in (*PROFILES, CLAUDE):
            if profile == CLAUDE:
                changes = self.claude.read_changes()
            else:
                changes = self.readers[profile].read()
            overrides, tombstones = self.db.read_profile_state(profile)
            self.indexes[profile].apply(changes, overrides, tombstones)

    def built(self, key: ListKey) -> BuiltList:
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View(key, (*key.profiles, CLAUDE))
            view.derive(self.indexes)
        else:
            view.catch_up(self.indexes)
        return view.snapshot(WALL)

    def close(self) -> None:
        for reader in self.readers.values():
            reader.close()


class IndexMachine(RuleBasedStateMachine):
    sessions = Bundle("sessions")
    transcripts = Bundle("transcripts")

    def __init__(self, version: int, journal: str, tmp: Path) -> None:
        super().__init__()
        self.version, self.journal = version, journal
        self.home = tmp / f"home-{len(list(tmp.iterdir()))}"
        self.home.mkdir()
        self.agents: dict[str, AgentDB] = {
            p: make_agent_db(self.home, p, version=version, journal=journal) for p in PROFILES
        }
        self.columns = table_columns(self.agents["default"].conn, "sessions")
        self.webui = WebuiDB(self.home / "webui" / "webui.db", busy_timeout=5.0)
        self.engine = Engine(self.home, self.webui)
        self.keys = _keys()
        self.clock = 1_763_800_000.0
        self.serial = 0

    def _tick(self) -> float:
        self.clock += 30.0
        return self.clock

    def _cols(self, **columns: object) -> dict[str, object]:
        return {k: v for k, v in columns.items() if k in self.columns}

    def _new_id(self) -> str:
        self.serial += 1
        return f"20251122_{self.serial:06d}_{self.serial:06x}"

    def _create(
        self, profile: str, source: str, messages: int, parent: str | None = None, **cols: Any
    ) -> str:
        agent = self.agents[profile]
        start = self._tick()
        sid = self._new_id()
        pairs = [("user" if i % 2 == 0 else "assistant", f"msg {sid} {i}") for i in range(messages)]
        with agentschema.write_transaction(agent.conn):
            agentschema.insert_session(
                agent.conn,
                id=sid,
                source=source,
                started_at=start,
                parent_session_id=parent,
                **self._cols(**cols),
            )
            for i, (role, content) in enumerate(pairs):
                agentschema.insert_message(
                    agent.conn, session_id=sid, role=role, content=content, timestamp=start + i + 1
                )
        return sid

    # -- the agent -------------------------------------------------------------------------

    @initialize(target=sessions)
    def seed(self) -> Any:
        ids = [self._create(p, s, 2) for p in PROFILES for s in ("cli", "webui", "telegram")]
        return multiple(*ids)

    @rule(
        target=sessions,
        profile=st.sampled_from(PROFILES),
        source=st.sampled_from(SOURCES),
        messages=st.integers(0, 3),
        title=st.none() | st.sampled_from(["Alpha", "beta plan", "Gamma", "a"]),
        chat=st.none() | st.sampled_from(["c1", "c2"]),
    )
    def new_session(
        self, profile: str, source: str, messages: int, title: str | None, chat: str | None
    ) -> str:
        extra: dict[str, Any] = {}
        if title is not None:
            extra["title"] = f"{title} {self.serial}"
        if chat is not None and source in ("telegram", "slack"):
            extra.update(session_key=f"agent:{source}:{chat}", chat_id=chat)
        return self._create(profile, source, messages, **extra)

    def _profile_of(self, sid: str) -> str | None:
        for profile, agent in self.agents.items():
            if agent.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone():
                return profile
        return None

    @rule(sid=sessions, role=st.sampled_from(["user", "assistant", "tool"]))
    def append_message(self, sid: str, role: str) -> None:
        profile = self._profile_of(sid)
        if profile is not None:
            self.agents[profile].message(sid, role, f"more {self.serial}", self._tick())

    @rule(sid=sessions, title=st.none() | st.sampled_from(["Renamed", "zeta", "Alpha x"]))
    def set_title(self, sid: str, title: str | None) -> None:
        profile = self._profile_of(sid)
        if profile is not None:
            value = None if title is None else f"{title} {sid[-4:]}"
            self.agents[profile].update(sid, title=value)

    @rule(sid=sessions, flag=st.sampled_from(["archived", "hidden", "pinned"]), on=st.booleans())
    def agent_flag(self, sid: str, flag: str, on: bool) -> None:
        profile = self._profile_of(sid)
        if profile is not None and flag in self.columns:
            self.agents[profile].update(sid, **{flag: int(on)})

    @rule(sid=sessions, reason=st.sampled_from(END_REASONS))
    def end(self, sid: str, reason: str) -> None:
        profile = self._profile_of(sid)
        if profile is not None:
            self.agents[profile].update(sid, ended_at=self._tick(), end_reason=reason)

    @rule(target=sessions, sid=sessions, kind=st.sampled_from(["compress", "branch", "delegate"]))
    def child(self, sid: str, kind: str) -> str:
        profile = self._profile_of(sid)
        if profile is None:
            return sid
        source = (
            self.agents[profile]
            .conn.execute("SELECT source FROM sessions WHERE id = ?", (sid,))
            .fetchone()[0]
        )
        if kind == "compress":
            self.agents[profile].update(sid, ended_at=self._tick(), end_reason="compression")
            title = (
                self.agents[profile]
                .conn.execute("SELECT title FROM sessions WHERE id = ?", (sid,))
                .fetchone()[0]
            )
            extra = {"title": f"{title} #{self.serial + 2}"} if title else {}
            return self._create(profile, source, 1, parent=sid, **extra)
        marker = "_branched_from" if kind == "branch" else "_delegate_from"
        config = json.dumps({marker: sid})
        child_source = "subagent" if kind == "delegate" else source
        return self._create(profile, child_source, 2, parent=sid, model_config=config)

    @rule(profile=st.sampled_from(PROFILES), which=st.integers(0, 3))
    def flip_parent(self, profile: str, which: int) -> None:
        """A parent's end reason set to or from ``compression`` after its children exist:
        they join or leave its chain without being written themselves."""
        conn = self.agents[profile].conn
        parents = conn.execute(
            "SELECT DISTINCT p.id, p.end_reason FROM sessions p JOIN sessions c "
            "ON c.parent_session_id = p.id ORDER BY p.id DESC"
        ).fetchall()
        if parents:
            sid, reason = parents[which % len(parents)]
            new = "idle" if reason == "compression" else "compression"
            self.agents[profile].update(sid, end_reason=new, ended_at=self._tick())

    @rule(profile=st.sampled_from(PROFILES))
    def cron_run(self, profile: str) -> None:
        self._create(profile, "cron", 2, title=f"cron job {self.serial}")

    @rule(sid=sessions)
    def delete(self, sid: str) -> None:
        profile = self._profile_of(sid)
        if profile is not None:
            self.agents[profile].delete(sid)

    @rule(sid=sessions, keep=st.integers(0, 3))
    def replace_messages(self, sid: str, keep: int) -> None:
        """/retry, /undo, /compress: the history of one session rewritten in place."""
        profile = self._profile_of(sid)
        if profile is None:
            return
        conn = self.agents[profile].conn
        when = self._tick()
        with agentschema.write_transaction(conn):
            conn.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
            conn.execute("UPDATE sessions SET message_count = 0 WHERE id = ?", (sid,))
            for i in range(keep):
                agentschema.insert_message(
                    conn, session_id=sid, role="user", content=f"redo {i}", timestamp=when + i
                )

    @rule(profile=st.sampled_from(PROFILES))
    def vacuum(self, profile: str) -> None:
        self.agents[profile].conn.execute("VACUUM")

    @rule(profile=st.sampled_from(PROFILES))
    def checkpoint(self, profile: str) -> None:
        if self.journal == "wal":
            self.agents[profile].checkpoint("TRUNCATE")

    @rule(profile=st.sampled_from(PROFILES))
    def replace_file(self, profile: str) -> None:
        """A restore: a copy of the database (one session fewer) moved over the file."""
        agent = self.agents[profile]
        path = agent.path
        copy = path.with_name("restore.db")
        target = sqlite3.connect(copy)
        agent.conn.backup(target)
        target.execute(
            "DELETE FROM sessions WHERE id = (SELECT id FROM sessions ORDER BY started_at LIMIT 1)"
        )
        target.commit()
        target.close()
        agent.close()
        for suffix in ("-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        os.replace(copy, path)
        self.agents[profile] = AgentDB(
            path, version=self.version, journal_mode=self.journal, id_salt=profile
        )

    # -- Claude Code, beside the agent ------------------------------------------------------

    @rule(target=transcripts, turns=st.integers(1, 3))
    def claude_session(self, turns: int) -> Session:
        self.serial += 1
        session = Session(session_id=f"00000000-0000-4000-8000-{self.serial:012d}")
        session.at = self._tick()
        conversation(self.home / "claude", session, turns)
        return session

    @rule(session=transcripts, kind=st.sampled_from(["turn", "summary", "torn", "finish"]))
    def claude_write(self, session: Session, kind: str) -> None:
        path = next((self.home / "claude" / "projects").glob(f"*/{session.session_id}.jsonl"))
        session.at = max(session.at, self._tick())
        if kind == "turn":
            append(path, session.user("and then?"), session.assistant("then this"))
        elif kind == "summary":
            append(path, summary(f"Summary {self.serial}", session.parent or ""))
        elif kind == "torn":
            append(path, b'{"type": "user", "message": {"ro')  # Claude Code mid-write
        else:
            append(path, b'le": "user", "content": "x"}}\n')

    @rule(session=transcripts, pinned=st.booleans(), deleted=st.booleans())
    def claude_override(self, session: Session, pinned: bool, deleted: bool) -> None:
        self.webui.set_override(CLAUDE, session.session_id, "pinned", pinned=pinned)
        self.webui.set_tombstone(CLAUDE, session.session_id, deleted)

    # -- the web UI ------------------------------------------------------------------------

    @rule(
        sid=sessions,
        title=st.none() | st.sampled_from(["Mine", "a web title"]),
        pinned=st.none() | st.booleans(),
        archived=st.none() | st.booleans(),
    )
    def override(
        self, sid: str, title: str | None, pinned: bool | None, archived: bool | None
    ) -> None:
        profile = self._profile_of(sid) or "default"
        fields: dict[str, str | bool | None] = {"title": title}
        if pinned is not None:
            fields["pinned"] = pinned
        if archived is not None:
            fields["archived"] = archived
        self.webui.set_override(profile, sid, "renamed", **fields)

    @rule(sid=sessions, deleted=st.booleans())
    def tombstone(self, sid: str, deleted: bool) -> None:
        self.webui.set_tombstone(self._profile_of(sid) or "default", sid, deleted)

    @precondition(lambda self: len(self.keys) < 12)
    @rule(flags=st.sampled_from(FLAG_SETS), all_profiles=st.booleans())
    def new_view(self, flags: ListFlags, all_profiles: bool) -> None:
        """A settings toggle: a key no view had yet, derived from the running indexes."""
        key = ListKey(PROFILES if all_profiles else ("work",), all_profiles, flags)
        if key not in self.keys:
            self.keys.append(key)

    # -- the check -------------------------------------------------------------------------

    @invariant()
    def views_match_the_full_build(self) -> None:
        self.engine.refresh()
        for key in self.keys:
            incremental = _pages(self.engine.built(key), key)
            oracle = build_list(
                key,
                home=self.home,
                busy_timeout=5.0,
                profile_state=self.webui.read_profile_state,
                wall_time=WALL,
                others={CLAUDE: ClaudeCodeSource(self.home / "claude", 1 << 24).read_all},
            )
            assert incremental == _pages(oracle, key), key

    def teardown(self) -> None:
        try:
            fresh = Engine(self.home, self.webui)
            fresh.refresh()
            self.engine.refresh()
            for key in self.keys:
                assert _pages(fresh.built(key), key) == _pages(self.engine.built(key), key)
            fresh.close()
        finally:
            self.engine.close()
            self.webui.close()
            for agent in self.agents.values():
                agent.close()


@pytest.mark.parametrize("journal", agentschema.JOURNAL_MODES)
@pytest.mark.parametrize("version", [11, 14, 22, 30])
def test_views_follow_random_writes_like_the_full_build(
    version: int, journal: str, tmp_path: Path
) -> None:
    class Machine(IndexMachine):
        def __init__(self) -> None:
            super().__init__(version, journal, tmp_path)

    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


def test_a_change_costs_what_it_changed(tmp_path: Path) -> None:
    """One appended message re-reads one record and recomputes one chain; views update in
    place rather than re-deriving."""
    home = tmp_path / "home"
    agent = make_agent_db(home)
    ids = [agent.session("cli", messages=2) for _ in range(200)]
    webui = WebuiDB(home / "webui" / "webui.db", busy_timeout=5.0)
    reader = ChangeReader(agent_db_path(home), 5.0)
    index = ProfileIndex("default")
    index.apply(reader.read(), *webui.read_profile_state("default"))
    view = View(ListKey(("default",), False, ListFlags()), ("default",))
    view.derive({"default": index})
    before = (reader.stats.records_read, index.stats.chains_recomputed)
    agent.message(ids[17], "user", "one more")
    changes = reader.read()
    assert not changes.full and set(changes.upserted) == {ids[17]}
    index.apply(changes, *webui.read_profile_state("default"))
    assert view.catch_up({"default": index})
    assert reader.stats.records_read - before[0] == 1
    assert index.stats.chains_recomputed - before[1] == 1
    assert view.derivations == 1 and view.updates == 1
    assert view.snapshot(WALL).row_bytes[0] == index.entries[ids[17]].data
    reader.close()
    webui.close()
    agent.close()


@pytest.mark.parametrize(
    "write",
    ["vacuum-renumber", "delete-messages", "schema-change", "new-file"],
)
def test_what_cannot_be_explained_cheaply_is_a_full_read(tmp_path: Path, write: str) -> None:
    home = tmp_path / "home"
    agent = make_agent_db(home)
    ids = [agent.session("cli", messages=2) for _ in range(10)]
    reader = ChangeReader(agent_db_path(home), 5.0)
    assert reader.read().full
    assert not reader.read().full  # nothing changed: an empty incremental read
    if write == "vacuum-renumber":
        for sid in ids[:8]:
            agent.delete(sid)
        agent.conn.execute("VACUUM")
    elif write == "delete-messages":
        agent.execute("DELETE FROM messages WHERE session_id = ?", (ids[3],))
    elif write == "schema-change":
        agent.execute("ALTER TABLE sessions ADD COLUMN extra_note TEXT")
    else:
        agent.close()
        fresh = home / "fresh.db"
        shutil.copy(agent.path, fresh)
        os.replace(fresh, agent.path)
        agent = AgentDB(agent.path, version=30, journal_mode="wal", id_salt="x")
    changes = reader.read()
    if write == "vacuum-renumber":
        # Eight rows gone out of ten is a large part of the table: one full read.
        assert changes.full and set(changes.upserted) == set(ids[8:])
    else:
        assert changes.full, reader.stats.last_reason
    reader.close()
    agent.close()
