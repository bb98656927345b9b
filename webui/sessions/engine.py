"""The incremental engine: one index per profile (and per other source), one view per key.

``IndexEngine.build`` brings the indexes a key's stamp names up to their sources — reading
only what changed — and the key's view up to its indexes, and hands back a snapshot for the
cache. Its work is short and GIL-bound, so one lock serializes it; that also makes each
profile's refresh single flight, and a refresh is skipped when another key's build already
read from the same exact stamp part.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from pathlib import Path

from webui.agentdb.changes import ChangeReader
from webui.agentdb.home import state_db_path
from webui.claudecode.source import ClaudeCodeSource
from webui.sessions.built import BuiltList, ProfileState
from webui.sessions.index import ProfileIndex
from webui.sessions.query import ListKey
from webui.sessions.stamp import ContentProbe, ProfilePart, SourceStamp
from webui.sessions.views import View


def exact(part: ProfilePart) -> bool:
    """A part that proves its source unchanged while it matches (no streaming marker, every
    fingerprint read)."""
    return (
        part.streaming is None
        and part.content is not None
        and part.content.data_version != ContentProbe.BUSY
    )


class IndexEngine:
    def __init__(
        self,
        *,
        home: Path,
        busy_timeout: float,
        profile_state: ProfileState,
        others: Mapping[str, ClaudeCodeSource],
        max_views: int,
    ) -> None:
        self.home = home
        self.busy_timeout = busy_timeout
        self.profile_state = profile_state
        self.others = others
        self.max_views = max_views
        self._lock = threading.Lock()
        self._readers: dict[str, ChangeReader] = {}
        self._marks: dict[str, tuple[Hashable, int]] = {}
        self.indexes: dict[str, ProfileIndex] = {}
        self.views: OrderedDict[ListKey, View] = OrderedDict()
        self.busy_seconds = 0.0  # time spent in builds: refreshes, view updates, snapshots

    def close(self) -> None:
        with self._lock:
            for reader in self._readers.values():
                reader.close()

    def build(self, key: ListKey, stamp: SourceStamp, wall: float) -> BuiltList:
        """Refresh the indexes in scope by what changed, bring the key's view up to them
        (worker thread)."""
        with self._lock:
            started = time.perf_counter()
            try:
                return self._build(key, stamp, wall)
            finally:
                self.busy_seconds += time.perf_counter() - started

    def _build(self, key: ListKey, stamp: SourceStamp, wall: float) -> BuiltList:
        for part in stamp.profiles:
            self._refresh(part, stamp.structure_version)
        for name, source_stamp in stamp.others:
            self._refresh_other(name, source_stamp, stamp.structure_version)
        view = self.views.get(key)
        if view is None:
            view = self.views[key] = View(key, key.profiles + tuple(self.others))
            view.derive(self.indexes)
            while len(self.views) > self.max_views:
                self.views.popitem(last=False)
        else:
            self.views.move_to_end(key)
            view.catch_up(self.indexes)
        return view.snapshot(wall)

    def _index(self, name: str) -> ProfileIndex:
        index = self.indexes.get(name)
        if index is None:
            index = self.indexes[name] = ProfileIndex(name)
        return index

    def _refresh(self, part: ProfilePart, structure_version: int) -> None:
        """One profile's index brought up to its ``state.db``, unless the stamp part it was
        last refreshed from is exact and the same (another key's build did it already)."""
        profile = part.profile
        mark = (part, structure_version)
        if self._marks.get(profile) == mark and exact(part):
            return
        reader = self._readers.get(profile)
        if reader is None:
            path = state_db_path(self.home, profile)
            reader = self._readers[profile] = ChangeReader(path, self.busy_timeout)
        changes = reader.read()  # raises SourceUnavailable: the index stays as it was
        self._index(profile).apply(changes, *self.profile_state(profile))
        self._marks[profile] = mark

    def _refresh_other(self, name: str, source_stamp: Hashable, structure_version: int) -> None:
        """Another source's index brought up to it, unless its stamp is the one it was last
        refreshed from (a folder scan proves nothing changed while it matches)."""
        mark = (source_stamp, structure_version)
        if self._marks.get(name) == mark:
            return
        changes = self.others[name].read_changes()
        self._index(name).apply(changes, *self.profile_state(name))
        self._marks[name] = mark

    def stats(self) -> dict[str, int]:
        """What the engine did, for ``/api/health``."""
        indexes = list(self.indexes.values())
        views = list(self.views.values())
        readers = list(self._readers.values())
        return {
            "profiles": len(indexes),
            "views": len(views),
            "refreshes": sum(i.stats.refreshes for i in indexes),
            "full_reloads": sum(i.stats.full_reloads for i in indexes),
            "chains_recomputed": sum(i.stats.chains_recomputed for i in indexes),
            "incremental_reads": sum(r.stats.incremental_reads for r in readers),
            "records_read": sum(r.stats.records_read for r in readers),
            "view_updates": sum(v.updates for v in views),
            "view_derivations": sum(v.derivations for v in views),
            "refresh_ms": round(self.busy_seconds * 1000),
        }
