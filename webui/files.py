"""File stats: the cheap identity of a file that stamps and caches compare."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple


class FileStat(NamedTuple):
    mtime_ns: int
    size: int
    ino: int
    is_file: bool


def file_stat(path: str | Path) -> FileStat | None:
    """The stat of ``path``; None when it does not exist (or cannot be seen)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return None
    return FileStat(st.st_mtime_ns, st.st_size, st.st_ino, (st.st_mode & 0o170000) == 0o100000)
