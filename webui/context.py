"""The services one app instance owns, built by ``create_app`` and read by the endpoints."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from webui.config import Settings
from webui.lists import SessionLists
from webui.prefs import PreferenceStore
from webui.runtime import StreamRegistry
from webui.webuidb import WebuiDB
from webui.writers import WriterPool

if TYPE_CHECKING:
    from webui.events import EventBroker
    from webui.turns import TurnManager


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
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    watcher_problem: str | None = None
