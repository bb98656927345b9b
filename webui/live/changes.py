"""Glue from file changes to ``sessions_changed`` events, decided by content, not by touch.

The watcher reports that a file moved; this module asks whether what a list would show may
have changed — a new ``PRAGMA data_version`` or a replaced file — before publishing. The
server's own read-only connections touch ``-wal``/``-shm`` but never change the content
fingerprint, so they never cause an event (no loop). Other processes' changes to webui.db
(renames, streams through another worker) arrive through its journal.

Claude Code's transcripts are judged the same way: a report is published (to every profile,
whose lists all show those rows) only when the source's folder stamp — every transcript's
stat — moved. Reading them never moves it, and the web UI never writes there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable
from pathlib import Path

from webui.agentdb.home import is_profile_name, list_profiles, state_db_path
from webui.claudecode.source import SOURCE, ClaudeCodeSource
from webui.files import file_stat
from webui.live.events import ALL_PROFILES, EventBroker
from webui.live.watcher import FileChange, HomeWatcher, TranscriptWatcher
from webui.sessions.stamp import ContentProbe, Fingerprint
from webui.state.prefs import PreferenceStore
from webui.state.registry import StreamRegistry
from webui.state.webuidb import WebuiDB


class LiveChanges:
    """Turns watcher reports into events, given just what it reads and where it publishes."""

    def __init__(
        self,
        *,
        home: Path,
        db: WebuiDB,
        prefs: PreferenceStore,
        registry: StreamRegistry,
        events: EventBroker,
        claude: ClaudeCodeSource | None = None,
    ) -> None:
        self.home = home
        self.db = db
        self.prefs = prefs
        self.registry = registry
        self.events = events
        self.claude = claude if claude is not None and claude.enabled else None
        self.stopping = asyncio.Event()
        self.problem: str | None = None
        self._probes: dict[str, ContentProbe] = {}
        self._seen: dict[str, Fingerprint] = {}
        self._journal = db.snapshot().journal_version
        self._settings = file_stat(prefs.path)
        for profile in list_profiles(home):
            self._changed(profile)  # remember where each profile starts
        self._claude_stamp: Hashable = None if self.claude is None else self.claude.stamp()

    def _changed(self, profile: str) -> bool:
        probe = self._probes.get(profile)
        if probe is None:
            probe = self._probes[profile] = ContentProbe(state_db_path(self.home, profile))
        now = probe.fingerprint(file_stat(probe.path))
        changed = self._seen.get(profile) != now
        self._seen[profile] = now
        return changed

    async def on_changes(self, changes: frozenset[FileChange]) -> None:
        publish = self.events.publish
        for change in changes:
            if change.kind == "state" and change.profile and is_profile_name(change.profile):
                # While a profile streams its lists are held and per-token commits are noise;
                # the stream's end is announced and re-validates them.
                streaming = bool(self.registry.live((change.profile,)))
                if self._changed(change.profile) and not streaming:
                    publish(change.profile, "commit")
            elif change.kind == "settings":
                stat = file_stat(self.prefs.path)
                if stat != self._settings:
                    self._settings = stat
                    self.prefs.current()
                    publish("*", "settings")
            elif change.kind == "profiles":
                publish("*", "profiles")
            elif change.kind == "webui":
                for version, profile, reason in self.db.changes_since(self._journal):
                    self._journal = version
                    publish(profile, reason)
            elif change.kind == "claude" and self.claude is not None:
                # A scan of the folder (a stat per transcript, as every poll does): a touch that
                # left every file as it was is no news.
                stamp = self.claude.stamp()
                if stamp != self._claude_stamp:
                    self._claude_stamp = stamp
                    publish(ALL_PROFILES, SOURCE)

    async def run(self) -> None:
        watches = [self._guarded("file watcher", HomeWatcher(self.home, self.on_changes))]
        if self.claude is not None and self.claude.projects is not None:
            transcripts = TranscriptWatcher(self.claude.projects, self.on_changes)
            watches.append(self._guarded("Claude Code watcher", transcripts))
        await asyncio.gather(*watches)

    async def _guarded(self, what: str, watcher: HomeWatcher | TranscriptWatcher) -> None:
        """Run one watch; its failure (an OS watch limit, say) stops it alone."""
        try:
            await watcher.run(self.stopping)
        except OSError as exc:
            # Watching only speeds things up: every request still checks the stamp.
            stopped = f"{what} stopped: {exc}"
            self.problem = stopped if self.problem is None else f"{self.problem}; {stopped}"

    async def stop(self, task: asyncio.Task[None]) -> None:
        self.stopping.set()
        try:
            await asyncio.wait_for(task, timeout=3)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for probe in self._probes.values():
            probe.close()
