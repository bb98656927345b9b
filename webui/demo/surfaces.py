"""The agent's surfaces (session sources) as the demo uses them, and the history it spans."""

from __future__ import annotations

from types import MappingProxyType

DAY = 86_400.0
HISTORY_DAYS = 90

MESSAGING = ("telegram", "discord", "slack", "whatsapp", "signal", "matrix", "email")
INTERACTIVE = ("cli", "tui", "desktop", "acp")
INTERNAL = ("kanban", "tool", "oneshot")
ALL_SOURCES = (
    *("webui", *INTERACTIVE, *MESSAGING),
    *("api_server", "webhook", "cron", "subagent", *INTERNAL),
)

# How a session of each surface ends when nothing else (compression, reset, …) ended it.
END_REASONS = MappingProxyType({"cli": "cli_close", "tui": "tui_close", "webui": "new_session"})
# How likely a session of each surface got a title (0.35 for the rest).
TITLED = MappingProxyType({"webui": 0.8, "cli": 0.65, "tui": 0.65, "desktop": 0.7, "acp": 0.5})
