"""One ``AgentWriter`` per profile, opened on first use (the web UI's writes into state.db)."""

from __future__ import annotations

import threading
from pathlib import Path

from webui.agentdb.home import state_db_path
from webui.agentdb.writer import AgentWriter


class WriterPool:
    def __init__(self, home: Path, *, busy_timeout: float) -> None:
        self.home = home
        self.busy_timeout = busy_timeout
        self._writers: dict[str, AgentWriter] = {}
        self._lock = threading.Lock()

    def get(self, profile: str) -> AgentWriter:
        """The profile's writer (call from a worker thread: opening may create the file)."""
        with self._lock:
            writer = self._writers.get(profile)
            if writer is None:
                path = state_db_path(self.home, profile)
                path.parent.mkdir(parents=True, exist_ok=True)
                writer = AgentWriter(path, busy_timeout=self.busy_timeout)
                self._writers[profile] = writer
            return writer

    def close(self) -> None:
        with self._lock:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
