"""Which summary names which session, across files.

A ``summary`` line names the conversation whose last entry was ``leafUuid``, and Claude Code
has written such lines into whichever transcript was open when it summarized — often a newer
session in the same project, so a file may hold summaries of other sessions, and a session
resumed from a copy of another shares its uuids (anthropics/claude-code#2597 and public
parsers agree). So a summary belongs to every session whose own entries include its leaf,
wherever the line sits; a summary whose leaf is in no file is nobody's title.

Among a session's summaries the newest wins: one in its own file over any other (its own
file's later line first), else the one in the file of the session started last (ties by
session id, then line). A ``custom-title`` line (a rename inside Claude Code) outranks them;
that part lives in the state itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

Started = Callable[[str], float | None]
_NEVER = float("-inf")


Rank = tuple[bool, float, str, int, str]


def _rank(owner: str, holder: str, line: int, text: str, started: Started) -> Rank:
    # The text last: a total order, so the choice never depends on iteration order.
    return (holder == owner, started(holder) or _NEVER, holder, line, text)


def best_summary(
    owner: str,
    candidates: Iterable[tuple[str, int, str]],
    started: Started,
) -> str | None:
    """The title among ``(holder, line, text)`` candidates naming ``owner``."""
    best: Rank | None = None
    for holder, line, text in candidates:
        rank = _rank(owner, holder, line, text, started)
        if best is None or rank > best:
            best = rank
    return None if best is None else best[-1]


class TitleIndex:
    """Summaries by leaf and the sessions holding each leaf, kept up to date file by file.

    Small by design (its size is the number of summary lines, not of entries), so it is never
    evicted: a session's leaves are only needed while its file is parsed, and to place a new
    summary whose leaf is in another session's file (``leaves_of`` the cached states).
    """

    def __init__(self) -> None:
        self._held: dict[str, dict[int, tuple[int, str]]] = {}  # holder → leaf → (line, text)
        self._holders: dict[int, set[str]] = {}  # leaf → sessions whose file names it
        self._owners: dict[int, set[str]] = {}  # leaf → sessions whose entries include it
        self._owned: dict[str, set[int]] = {}  # session → summary leaves among its entries

    def update(
        self,
        session: str,
        summaries: Mapping[int, tuple[int, str]],
        leaves: set[int],
        leaves_of: Callable[[], Iterable[tuple[str, set[int]]]],
    ) -> set[str]:
        """Take a session's freshly parsed summaries and leaves; the sessions whose title may
        have changed (always including ``session``: its start may rank its summaries anew)."""
        affected = {session}
        old = self._held.get(session, {})
        for leaf in old.keys() | summaries.keys():
            affected |= self._owners.get(leaf, set())
        for leaf in old.keys() - summaries.keys():
            self._unhold(session, leaf)
        fresh = [leaf for leaf in summaries.keys() - old.keys()]
        if summaries:
            self._held[session] = dict(summaries)
        else:
            self._held.pop(session, None)
        resident: list[tuple[str, set[int]]] | None = None
        for leaf in fresh:
            new_leaf = leaf not in self._holders
            self._holders.setdefault(leaf, set()).add(session)
            if new_leaf:
                if resident is None:
                    resident = [(s, held) for s, held in leaves_of() if s != session]
                owners = {s for s, held in resident if leaf in held}
                for owner in owners:
                    self._own(owner, leaf)
                affected |= owners
        # This session's own entries: which summary leaves are (still) among them.
        for leaf in list(self._owned.get(session, ())):
            if leaf not in leaves:
                self._disown(session, leaf)
        for leaf in self._holders:
            if leaf in leaves:
                self._own(session, leaf)
        return affected

    def remove(self, session: str) -> set[str]:
        """Forget a session that is gone; the sessions whose title may have changed."""
        affected: set[str] = set()
        for leaf in self._held.pop(session, {}):
            affected |= self._owners.get(leaf, set())
            self._unhold(session, leaf)
        for leaf in list(self._owned.get(session, ())):
            self._disown(session, leaf)
        affected.discard(session)
        return affected

    def summary_for(self, session: str, started: Started) -> str | None:
        candidates = (
            (holder, *self._held[holder][leaf])
            for leaf in self._owned.get(session, ())
            for holder in self._holders.get(leaf, ())
        )
        return best_summary(session, candidates, started)

    def __len__(self) -> int:
        return sum(len(held) for held in self._held.values())

    def _own(self, session: str, leaf: int) -> None:
        self._owners.setdefault(leaf, set()).add(session)
        self._owned.setdefault(session, set()).add(leaf)

    def _disown(self, session: str, leaf: int) -> None:
        owners = self._owners.get(leaf)
        if owners is not None:
            owners.discard(session)
            if not owners:
                del self._owners[leaf]
        owned = self._owned.get(session)
        if owned is not None:
            owned.discard(leaf)
            if not owned:
                del self._owned[session]

    def _unhold(self, session: str, leaf: int) -> None:
        holders = self._holders.get(leaf)
        if holders is None:
            return
        holders.discard(session)
        if holders:
            return
        del self._holders[leaf]
        for owner in list(self._owners.get(leaf, ())):
            self._disown(owner, leaf)


def oracle_titles(
    summaries: Mapping[str, Mapping[int, tuple[int, str]]],
    leaves: Mapping[str, set[int]],
    started: Started,
) -> dict[str, str | None]:
    """Every session's summary title from scratch: the reference ``TitleIndex`` must match."""
    flat = [
        (leaf, holder, line, text)
        for holder, held in summaries.items()
        for leaf, (line, text) in held.items()
    ]
    return {
        session: best_summary(
            session,
            ((holder, line, text) for leaf, holder, line, text in flat if leaf in own),
            started,
        )
        for session, own in leaves.items()
    }
