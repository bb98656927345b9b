"""Content search over the session list: which rows match, their best match, rank and page.

The rows come from the current cached list of the same key (``SessionLists.current``), so a
result obeys every list rule by construction: a hit in a session the list does not show is
dropped, a hit in an earlier segment of a compression chain shows the chain's row
(``BuiltList.tips``), a hit in an older session of a messaging conversation shows the
conversation's listed row when that session itself would have been shown, and the runtime
overlay is laid over every row (``search_rows``). Title matches are found in the rows' own
titles (the web UI's override, the agent's title or the preview: what the sidebar shows;
``title_memo``), message matches through ``webui.agentdb.search`` (Claude Code sessions
through our own index of their transcripts: ``claude_search``); each result's excerpt and
match ranges come from ``snippets``.

Order: title matches first (in list order), then message matches by bm25, then the newest
match, then list order. One result per row, paged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
import orjson

from webui.agentdb.fts_terms import Term, parse_terms
from webui.agentdb.home import state_db_path
from webui.agentdb.search import (
    DEFAULT_BOUNDS,
    Bounds,
    HitSet,
    MessageHit,
    MessageSearch,
    SessionFacts,
    open_search,
)
from webui.claudecode.source import PROFILE as CLAUDE_PROFILE
from webui.errors import bad_param
from webui.sessions.built import BuiltList, ProfileState
from webui.sessions.claude_search import ClaudeMessages, ClaudeRead
from webui.sessions.kinds import source_kind
from webui.sessions.overlay import Overlay
from webui.sessions.query import ListKey, parse_int_param, parse_list_query
from webui.sessions.search_rows import Candidate, RowKey, ShownRows, keep_best, title_matches
from webui.sessions.service import SessionLists
from webui.sessions.snippets import fold, message_snippet, title_snippet
from webui.sessions.title_memo import TitleMemo

MAX_Q = 200
MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_OFFSET = 10_000
CONTENT_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class SearchQuery:
    key: ListKey
    profile: str
    q: str
    limit: int = DEFAULT_LIMIT
    offset: int = 0


def parse_search_query(
    params: Mapping[str, str],
    *,
    fallback_profile: str,
    gate_defaults: Mapping[str, bool],
    profile_names: Callable[[], Sequence[str]],
) -> SearchQuery:
    """The list's own parsing for profile, scope and flags (the same errors), then ``q``
    (required, 1 to 200 characters once stripped), ``limit`` (1–100) and ``offset``."""
    listed = {k: v for k, v in params.items() if k not in ("q", "limit", "offset")}
    query = parse_list_query(
        listed,
        fallback_profile=fallback_profile,
        gate_defaults=gate_defaults,
        profile_names=profile_names,
    )
    q = " ".join((params.get("q") or "").split())
    if not q or len(q) > MAX_Q:
        raise bad_param("q", f"q must be 1 to {MAX_Q} characters of text to find")
    return SearchQuery(
        key=query.key,
        profile=query.profile,
        q=q,
        limit=parse_int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=parse_int_param(params, "offset", 0, 0, MAX_OFFSET),
    )


@dataclass(frozen=True, slots=True)
class SearchPage:
    body: bytes
    total: int
    index: str


class SessionSearch:
    """The search service of one app: runs in worker threads, at most ``threads`` at a time,
    so searches never take every thread the list's rebuilds need."""

    def __init__(
        self,
        lists: SessionLists,
        profile_state: ProfileState,
        *,
        home: Path,
        busy_timeout: float,
        bounds: Bounds = DEFAULT_BOUNDS,
        threads: int = 2,
    ) -> None:
        self.lists = lists
        self.profile_state = profile_state
        self.home = home
        self.busy_timeout = busy_timeout
        self.bounds = bounds
        self.titles = TitleMemo()
        self._threads = threads
        self._limiter: anyio.CapacityLimiter | None = None
        claude = lists.others.get(CLAUDE_PROFILE)
        self.claude = (
            None
            if claude is None or claude.projects is None
            else ClaudeMessages(home, claude.projects, busy_timeout=busy_timeout)
        )

    async def search(self, query: SearchQuery) -> SearchPage:
        built, overlay = await self.lists.current(query.key)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._threads)
        return await anyio.to_thread.run_sync(
            lambda: self.run(built, overlay, query), limiter=self._limiter
        )

    def run(self, built: BuiltList, overlay: Overlay, query: SearchQuery) -> SearchPage:
        """The page of results (runs in a worker thread: SQLite and the row scan). Each
        profile is read on one connection, in one snapshot, from its hits to its texts."""
        terms = parse_terms(query.q)
        rows = ShownRows(built, overlay)
        needles = [n for n in (fold(t.text)[0] for t in terms) if n]
        found = title_matches(rows, needles, self.titles)
        indexes: set[str] = set()
        with contextlib.ExitStack() as stack:
            reads: dict[str, MessageSearch] = {}
            for profile in query.key.profiles:
                path = state_db_path(self.home, profile)
                read = stack.enter_context(open_search(path, self.busy_timeout))
                if read is None:
                    continue
                reads[profile] = read
                hits = read.find(terms, self.bounds)
                indexes.add(hits.index)
                self._place(rows, profile, read, hits, query, found)
            claude = self._claude(stack, rows, terms, query, found, indexes)
            ordered = sorted(found.values(), key=Candidate.sort_key)
            page = ordered[query.offset : query.offset + query.limit]
            contents = _contents(page, reads, claude)
        index = indexes.pop() if len(indexes) == 1 else "mixed" if indexes else "fts"
        body = _body(page, terms, contents, query, len(ordered), index)
        return SearchPage(body, len(ordered), index)

    def _claude(
        self,
        stack: contextlib.ExitStack,
        rows: ShownRows,
        terms: Sequence[Term],
        query: SearchQuery,
        found: dict[RowKey, Candidate],
        indexes: set[str],
    ) -> ClaudeRead | None:
        """Claude Code's hits, each on the row that shows its session (when the list shows
        Claude Code rows at all); an index still catching up makes the answer ``mixed``."""
        if self.claude is None or not query.key.flags.show_claude_code:
            return None
        read = stack.enter_context(self.claude.open())
        if read is None:
            return None
        hits = read.find(terms, self.bounds)
        indexes.add(hits.index if hits.complete else "mixed")
        for hit in hits.hits:
            place = rows.find(CLAUDE_PROFILE, hit.session_id)
            if place is not None:
                keep_best(found, place, CLAUDE_PROFILE, hit, hits.index)
        return read

    def _place(
        self,
        rows: ShownRows,
        profile: str,
        read: MessageSearch,
        hits: HitSet,
        query: SearchQuery,
        found: dict[RowKey, Candidate],
    ) -> None:
        """Each hit on the row that shows its session, keeping each row's best hit."""
        unplaced: list[MessageHit] = []
        for hit in hits.hits:
            place = rows.find(profile, hit.session_id)
            if place is None:
                unplaced.append(hit)
                continue
            keep_best(found, place, profile, hit, hits.index)
        if query.key.flags.show_messaging_history or not unplaced:
            return  # every listed session is its own row: the rest are not shown
        self._place_older(rows, profile, read, unplaced, hits.index, query, found)

    def _place_older(
        self,
        rows: ShownRows,
        profile: str,
        read: MessageSearch,
        unplaced: Sequence[MessageHit],
        index: str,
        query: SearchQuery,
        found: dict[RowKey, Candidate],
    ) -> None:
        """Hits in sessions no row shows: one in an older session of a messaging conversation
        goes on the conversation's listed row, if that session would itself be listed."""
        flags = query.key.flags
        facts = read.facts(h.session_id for h in unplaced)
        older = [
            (hit, fact)
            for hit in unplaced
            if (fact := facts.get(hit.session_id)) is not None and self._shown(fact, query)
        ]
        if not older:
            return
        members = read.members({fact.conversation for _, fact in older if fact.conversation})
        overrides, tombstones = self.profile_state(profile)
        for hit, fact in older:
            override = overrides.get(hit.session_id)
            archived = override.archived if override and override.archived is not None else None
            if hit.session_id in tombstones or fact.conversation is None:
                continue
            if archived and not flags.include_archived:
                continue
            for member in members.get(fact.conversation, ()):
                place = rows.find(profile, member)
                if place is not None and b'"source_kind":"messaging"' in place.data:
                    keep_best(found, place, profile, hit, index)
                    break

    def _shown(self, facts: SessionFacts, query: SearchQuery) -> bool:
        """Whether an older session of a conversation would be listed but for the newest of
        its conversation standing in for it: a messaging session, not a subagent's, neither
        hidden nor archived (unless the list shows those)."""
        flags = query.key.flags
        if facts.delegated or source_kind(facts.source, has_chat=True) != "messaging":
            return False
        if facts.hidden and flags.exclude_hidden:
            return False
        return not facts.archived or flags.include_archived


Contents = dict[tuple[str, str, int], str]


def _contents(
    page: Sequence[Candidate], reads: Mapping[str, MessageSearch], claude: ClaudeRead | None
) -> Contents:
    """The texts of the page's matched messages, by (profile, session id, message id): a
    Claude Code message's id is its line, unique only within its session."""
    wanted: dict[str, list[MessageHit]] = {}
    for candidate in page:
        if candidate.hit is not None:
            wanted.setdefault(candidate.profile, []).append(candidate.hit)
    contents: Contents = {}
    for profile, hits in wanted.items():
        if profile == CLAUDE_PROFILE:
            found = {} if claude is None else claude.contents(hits, chars=CONTENT_CHARS)
            for (sid, line), text in found.items():
                contents[(profile, sid, line)] = text
            continue
        sessions = {h.message_id: h.session_id for h in hits}
        texts = reads[profile].contents(list(sessions), chars=CONTENT_CHARS)
        for message_id, text in texts.items():
            contents[(profile, sessions[message_id], message_id)] = text
    return contents


def _body(
    page: Sequence[Candidate],
    terms: Sequence[Term],
    contents: Contents,
    query: SearchQuery,
    total: int,
    index: str,
) -> bytes:
    results = [_result(c, terms, contents) for c in page]
    end = query.offset + query.limit
    meta = {
        "total": total,
        "offset": query.offset,
        "limit": query.limit,
        "next_offset": end if end < total else None,
        "index": index,
        "q": query.q,
        "profile": query.profile,
        "all_profiles": query.key.all_profiles,
    }
    return b'{"results":[' + b",".join(results) + b"]," + orjson.dumps(meta)[1:]


def _result(candidate: Candidate, terms: Sequence[Term], contents: Contents) -> bytes:
    hit = candidate.hit
    if hit is None:
        snippet, ranges = title_snippet(str(orjson.loads(candidate.data)["title"]), terms)
        match: dict[str, object] = {
            "where": "title",
            "message_id": None,
            "role": None,
            "snippet": snippet,
            "ranges": ranges,
            "timestamp": None,
        }
    else:
        text = contents.get((candidate.profile, hit.session_id, hit.message_id), "")
        snippet, ranges = message_snippet(text, terms, words=candidate.index in ("fts", "mixed"))
        match = {
            "where": "message",
            "message_id": hit.message_id,
            "role": hit.role,
            "snippet": snippet,
            "ranges": ranges,
            "timestamp": hit.timestamp,
        }
    return candidate.data[:-1] + b',"match":' + orjson.dumps(match) + b"}"
