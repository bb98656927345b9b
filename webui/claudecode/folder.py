"""The transcripts folder at a glance: which session files there are and their stats.

``scan`` lists ``projects/*/<session id>.jsonl`` and stats each file: one directory read per
project and one ``stat`` per transcript, nothing opened, so it is cheap enough to run on the
event loop for every poll (shared within a loop tick by the caller). Two scans are equal iff
no transcript was added, removed, replaced or written between them — the folder's stamp.

Subagent transcripts (``agent-*.jsonl``, and the ``<session>/subagents/`` folders of newer
versions, which are never listed because only a project's own files are) are not sessions.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from webui.files import FileStat

SUFFIX = ".jsonl"
SUBAGENT_PREFIX = "agent-"
# A session id the API can carry (and Claude Code's are uuids): no separator, no quote.
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class Transcript(NamedTuple):
    """A tuple, so that comparing two scans of a thousand files stays in C."""

    session_id: str
    path: str  # a str, not a Path: stamps compare thousands of these per poll
    stat: FileStat


@dataclass(frozen=True, slots=True)
class FolderScan:
    """Every session transcript, by session id; ``problems`` name what could not be seen.

    ``unseen`` are the folders that could not be listed (permissions): what was known to be
    in them is not known to be gone, and a reader keeps it rather than dropping it."""

    transcripts: tuple[Transcript, ...]
    problems: tuple[str, ...] = ()
    unseen: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Transcript]:
        return {t.session_id: t for t in self.transcripts}


def session_id_of(name: str) -> str | None:
    """The session id a file name carries, or None for a file that is not a session's."""
    if not name.endswith(SUFFIX) or name.startswith(SUBAGENT_PREFIX):
        return None
    stem = name[: -len(SUFFIX)]
    return stem if _SESSION_ID.fullmatch(stem) else None


def _entries(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def scan(projects: Path) -> FolderScan:
    """The folder now; a missing folder is simply no sessions."""
    try:
        project_dirs = [e for e in _entries(str(projects)) if e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return FolderScan(())
    except PermissionError as exc:
        return FolderScan((), (f"{projects}: cannot read: {exc.strerror}",), (str(projects),))
    found: dict[str, Transcript] = {}
    problems: list[str] = []
    unseen: list[str] = []
    for project in project_dirs:
        try:
            files = _entries(project.path)
        except (FileNotFoundError, NotADirectoryError):
            continue  # removed between the two reads
        except PermissionError as exc:
            problems.append(f"{project.name}: cannot read: {exc.strerror}")
            unseen.append(project.path)
            continue
        for entry in files:
            session_id = session_id_of(entry.name)
            if session_id is None:
                continue
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            except PermissionError as exc:
                problems.append(f"{project.name}/{entry.name}: cannot stat: {exc.strerror}")
                continue
            if (st.st_mode & 0o170000) != 0o100000:
                continue
            if session_id in found:
                # The same session copied into two projects: the first (by path) stands.
                problems.append(f"{project.name}/{entry.name}: session {session_id} twice")
                continue
            stat = FileStat(st.st_mtime_ns, st.st_size, st.st_ino, True)
            found[session_id] = Transcript(session_id, entry.path, stat)
    return FolderScan(tuple(found.values()), tuple(problems), tuple(unseen))
