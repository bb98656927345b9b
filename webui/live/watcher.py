"""Watch the data home with watchfiles and report which of its files changed, in batches.

Only folders whose direct children matter are watched, each non-recursively: the home
(``state.db`` of ``default``; ``profiles/`` and ``webui/`` appearing), ``profiles/`` (profile
folders appearing), every profile folder (its ``state.db``) and ``webui/``. A recursive watch
would wake Python for every log line, session file and skill the agent writes. When one of those
folders appears or disappears, the watch is rebuilt over the new set; nothing is ever created in
the home, and a missing home is polled for.

The watcher reports that a file was touched, not that its content changed: a read-only SQLite
connection may touch ``state.db-wal`` (as root, SQLite chowns it on open), so the layer above
decides by content (``PRAGMA data_version``) whether anything worth publishing happened.
``-shm`` files are never reported: every reader writes to them. The first batch after each
(re)build of the watch also re-reports every watched file, so that a change landing while the
watch was being built is not lost; a content check makes those reports free.

Claude Code's transcripts (``<root>/projects/<project>/<session>.jsonl``) are watched by a
``TranscriptWatcher`` of their own, recursively, because a session's file sits a level down
and project folders come and go; the rest of the root is not watched, and in ``projects/``
only session transcripts are reported (subagent files, ``agent-*.jsonl`` and
``<session>/subagents/``, are not sessions). A missing folder is handled as a missing
``profiles/``: its parent is watched for it to appear, and a missing parent is polled for.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from watchfiles import Change, awatch

from webui.agentdb.home import DEFAULT_PROFILE, is_profile_folder
from webui.claudecode.folder import session_id_of

# The database files whose change may mean a commit; -shm is left out on purpose.
STATE_FILES = frozenset({"state.db", "state.db-wal", "state.db-journal"})
WEBUI_FILES = frozenset({"webui.db", "webui.db-wal", "webui.db-journal"})
SETTINGS_FILE = "settings.json"
PROFILES_DIR = "profiles"
WEBUI_DIR = "webui"

ChangeKind = Literal["state", "settings", "profiles", "webui", "claude"]


@dataclass(frozen=True)
class FileChange:
    """A relevant file was touched; ``profile`` names the profile of a ``state`` change."""

    kind: ChangeKind
    profile: str | None = None


STATE_DEFAULT = FileChange("state", DEFAULT_PROFILE)
SETTINGS = FileChange("settings")
PROFILES = FileChange("profiles")
WEBUI = FileChange("webui")
CLAUDE = FileChange("claude")  # a Claude Code session transcript

OnChanges = Callable[[frozenset[FileChange]], Awaitable[None]]


def classify(home: Path, path: Path) -> FileChange | None:
    """What a touched ``path`` means for the session lists of ``home``; None: nothing."""
    try:
        parts = path.relative_to(home).parts
    except ValueError:
        return None
    match parts:
        case (name,) if name in STATE_FILES:
            return STATE_DEFAULT
        case (name,) if name == PROFILES_DIR:
            return PROFILES
        case (top, name) if top == PROFILES_DIR and is_profile_folder(name):
            return PROFILES
        case (top, name, file) if top == PROFILES_DIR and file in STATE_FILES:
            return FileChange("state", name) if is_profile_folder(name) else None
        case (top, file) if top == WEBUI_DIR and file == SETTINGS_FILE:
            return SETTINGS
        case (top, file) if top == WEBUI_DIR and file in WEBUI_FILES:
            return WEBUI
    return None


def is_structural(home: Path, path: Path) -> bool:
    """Whether ``path`` is the home or a folder the watch is built over."""
    try:
        parts = path.relative_to(home).parts
    except ValueError:
        return False
    match parts:
        case ():
            return True
        case (name,):
            return name in (PROFILES_DIR, WEBUI_DIR)
        case (top, name):
            return top == PROFILES_DIR and is_profile_folder(name)
    return False


def watched_dirs(home: Path) -> frozenset[Path]:
    """The folders to watch, non-recursively, as they exist now; empty when the home is missing."""
    if not home.is_dir():
        return frozenset()
    dirs = {home}
    dirs.update(home / name for name in (PROFILES_DIR, WEBUI_DIR) if (home / name).is_dir())
    profiles = home / PROFILES_DIR
    if profiles in dirs:
        try:
            entries = list(profiles.iterdir())
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            entries = []
        dirs.update(p for p in entries if is_profile_folder(p.name) and p.is_dir())
    return frozenset(dirs)


def resync_changes(
    home: Path, dirs: frozenset[Path], previous: frozenset[Path]
) -> frozenset[FileChange]:
    """Every file of the watched ``dirs``, reported once when a watch over them starts.

    ``profiles`` is reported only when the profiles folder is new: unlike the others, it is
    published without a content check.
    """
    changes: set[FileChange] = set()
    for folder in dirs:
        if folder == home:
            changes.add(STATE_DEFAULT)
        elif folder == home / WEBUI_DIR:
            changes.update((SETTINGS, WEBUI))
        elif folder == home / PROFILES_DIR:
            if folder not in previous:
                changes.add(PROFILES)
        else:
            changes.add(FileChange("state", folder.name))
    return frozenset(changes)


def batch_changes(home: Path, raw: Iterable[tuple[Change, str]]) -> set[FileChange]:
    """The changes of one watchfiles batch; a profile folder merely modified is no news."""
    changes: set[FileChange] = set()
    for change, name in raw:
        found = classify(home, Path(name))
        if found is None or (found.kind == "profiles" and change == Change.modified):
            continue
        changes.add(found)
    return changes


class HomeWatcher:
    """Calls ``on_changes`` once per coalesced batch of relevant changes under ``home``."""

    def __init__(
        self,
        home: Path,
        on_changes: OnChanges,
        *,
        debounce_ms: int = 50,
        step_ms: int = 20,
        idle_ms: int = 1000,
    ) -> None:
        self.home = home
        self._on_changes = on_changes
        self._debounce_ms = debounce_ms
        self._step_ms = step_ms
        # How long the watch sleeps between wake-ups when nothing happens: the latency of
        # noticing a missing home appear, and of the re-report after a rebuild.
        self._idle_ms = idle_ms

    async def run(self, stop_event: asyncio.Event) -> None:
        """Watch until ``stop_event`` is set."""
        # Resolved, so that reported paths (canonical on some platforms) match the home.
        home = self.home.resolve()
        previous = watched_dirs(home)
        while not stop_event.is_set():
            dirs = watched_dirs(home)
            if not dirs:
                previous = dirs
                await _wait(stop_event, self._idle_ms / 1000)
                continue
            resync = resync_changes(home, dirs, previous)
            previous = dirs
            await self._watch(home, dirs, resync, stop_event)

    async def _watch(
        self,
        home: Path,
        dirs: frozenset[Path],
        resync: frozenset[FileChange],
        stop_event: asyncio.Event,
    ) -> None:
        """Watch ``dirs`` until stopped or until the folders to watch may have changed."""
        batches = awatch(
            *sorted(dirs),
            watch_filter=lambda _change, name: _relevant(home, Path(name)),
            debounce=self._debounce_ms,
            step=self._step_ms,
            stop_event=stop_event,
            rust_timeout=self._idle_ms,
            yield_on_timeout=True,
            recursive=False,
            ignore_permission_denied=True,
        )
        first = True
        async with contextlib.aclosing(batches):
            async for raw in batches:
                changes = batch_changes(home, raw)
                if first:
                    # The watch is in place now; what changed while it was built shows here.
                    changes |= resync
                if changes:
                    await self._on_changes(frozenset(changes))
                structural = any(is_structural(home, Path(name)) for _, name in raw)
                # A folder that came or went while the watch was built (watchfiles skips one
                # that is missing or unreadable) shows as a new listing: build again.
                if structural or (first and watched_dirs(home) != dirs):
                    return
                first = False


# --- Claude Code's transcripts ------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptWatch:
    """Where the transcripts are watched from: ``projects`` itself, recursively; or, while it
    is missing, its parent, non-recursively, for it to appear."""

    path: Path
    recursive: bool


def transcript_watch(projects: Path) -> TranscriptWatch | None:
    """What to watch for ``projects`` as things are now; None: not even its parent exists."""
    if projects.is_dir():
        return TranscriptWatch(projects, True)
    if projects.parent.is_dir():
        return TranscriptWatch(projects.parent, False)
    return None


def classify_transcript(projects: Path, path: Path) -> FileChange | None:
    """``CLAUDE`` for a session transcript under ``projects``; None for anything else."""
    try:
        parts = path.relative_to(projects).parts
    except ValueError:
        return None
    match parts:
        case (_project, name) if session_id_of(name) is not None:
            return CLAUDE
    return None


def is_transcript_structural(projects: Path, path: Path) -> bool:
    """Whether ``path`` is ``projects``, its parent or a project folder (a direct child).

    A new project folder rebuilds the watch: the OS watch of a new folder is added only after
    it appears, so a transcript written into it at once would go unseen; the re-report after
    the rebuild has the content check look at it.
    """
    if path == projects.parent:
        return True
    try:
        return len(path.relative_to(projects).parts) <= 1
    except ValueError:
        return False


class TranscriptWatcher:
    """Calls ``on_changes`` with ``CLAUDE`` once per coalesced batch that touched a session
    transcript under ``projects``, and once after each (re)build of the watch."""

    def __init__(
        self,
        projects: Path,
        on_changes: OnChanges,
        *,
        debounce_ms: int = 50,
        step_ms: int = 20,
        idle_ms: int = 1000,
    ) -> None:
        self.projects = projects
        self._on_changes = on_changes
        self._debounce_ms = debounce_ms
        self._step_ms = step_ms
        self._idle_ms = idle_ms  # as for the home: the latency of noticing a folder appear

    async def run(self, stop_event: asyncio.Event) -> None:
        """Watch until ``stop_event`` is set."""
        while not stop_event.is_set():
            projects = self.projects.resolve()  # again each time: the root may be a link
            target = transcript_watch(projects)
            if target is None:
                await _wait(stop_event, self._idle_ms / 1000)
                continue
            await self._watch(projects, target, stop_event)

    async def _watch(
        self, projects: Path, target: TranscriptWatch, stop_event: asyncio.Event
    ) -> None:
        """Watch ``target`` until stopped or until what to watch may have changed."""
        batches = awatch(
            target.path,
            watch_filter=lambda _change, name: _transcript_relevant(projects, Path(name)),
            debounce=self._debounce_ms,
            step=self._step_ms,
            stop_event=stop_event,
            rust_timeout=self._idle_ms,
            yield_on_timeout=True,
            recursive=target.recursive,
            ignore_permission_denied=True,
        )
        first = True
        async with contextlib.aclosing(batches):
            async for raw in batches:
                # The first batch re-reports: the watch is in place now, and a transcript
                # written while it was built shows in the content check.
                if first or any(classify_transcript(projects, Path(n)) for _, n in raw):
                    await self._on_changes(frozenset({CLAUDE}))
                # A folder merely modified is no news; one that came or went is. The check
                # of the folder itself (a stat or two per wake-up) catches what a watch that
                # lost its folder can no longer report.
                moved = any(
                    change != Change.modified and is_transcript_structural(projects, Path(name))
                    for change, name in raw
                )
                if moved or transcript_watch(projects) != target:
                    return
                first = False


def _relevant(home: Path, path: Path) -> bool:
    return classify(home, path) is not None or is_structural(home, path)


def _transcript_relevant(projects: Path, path: Path) -> bool:
    found = classify_transcript(projects, path) is not None
    return found or is_transcript_structural(projects, path)


async def _wait(stop_event: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less if ``stop_event`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), seconds)
