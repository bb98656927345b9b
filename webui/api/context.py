"""The services one app instance owns, built by ``create_app`` and read by the endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from webui.agentdb.writers import WriterPool
from webui.api.compress import CompressionStats
from webui.claudecode.source import ClaudeCodeSource
from webui.config import Settings
from webui.sessions.search import SessionSearch
from webui.sessions.service import SessionLists
from webui.state.prefs import PreferenceStore
from webui.state.registry import StreamRegistry
from webui.state.webuidb import WebuiDB

if TYPE_CHECKING:
    from webui.live.changes import LiveChanges
    from webui.live.events import EventBroker
    from webui.live.turns import TurnManager


@dataclass
class AppContext:
    settings: Settings
    home: Path
    db: WebuiDB
    registry: StreamRegistry
    prefs: PreferenceStore
    lists: SessionLists
    writers: WriterPool
    events: EventBroker
    turns: TurnManager
    search: SessionSearch
    claude: ClaudeCodeSource | None = None  # None: the Claude Code source is off
    live: LiveChanges | None = None  # set while the app runs
    compression: CompressionStats | None = None  # the list endpoint's, set while it runs
