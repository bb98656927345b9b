"""Source kinds and labels: which surface a session came from, as the sidebar groups it."""

from __future__ import annotations

from functools import lru_cache

CLI_SOURCES = frozenset({"cli", "tui", "acp", "desktop"})
INTERNAL_SOURCES = frozenset({"kanban", "tool", "oneshot"})
MESSAGING_SOURCES = frozenset(
    {
        "telegram",
        "discord",
        "whatsapp",
        "slack",
        "signal",
        "mattermost",
        "matrix",
        "email",
        "sms",
        "homeassistant",
        "dingtalk",
        "feishu",
        "wecom",
        "weixin",
        "qqbot",
        "imessage",
        "teams",
        "line",
    }
)
OTHER_SOURCES = frozenset({"recovered", "unknown", ""})
# Sessions of Claude Code's transcripts (webui.claudecode): a source and a kind of their own.
CLAUDE_CODE = "claude-code"

LABELS = {
    "webui": "Web UI",
    "cli": "CLI",
    "tui": "TUI",
    "acp": "ACP",
    "desktop": "Desktop",
    "api_server": "API",
    "webhook": "Webhook",
    "cron": "Cron",
    "subagent": "Subagent",
    "whatsapp": "WhatsApp",
    "homeassistant": "Home Assistant",
    "dingtalk": "DingTalk",
    "wecom": "WeCom",
    "weixin": "Weixin",
    "qqbot": "QQ",
    "sms": "SMS",
    "imessage": "iMessage",
    "recovered": "Recovered",
    CLAUDE_CODE: "Claude Code",
    "unknown": "Unknown",
}

KINDS = (
    "webui",
    "cli",
    "messaging",
    "cron",
    "webhook",
    "api",
    CLAUDE_CODE,
    "subagent",
    "other",
    "internal",
)


@lru_cache(maxsize=512)
def source_kind(source: str, *, has_chat: bool = False) -> str:
    """The kind of a ``source``; an unlisted source with a chat id is a plugin gateway."""
    if source == "webui":
        return "webui"
    if source in CLI_SOURCES:
        return "cli"
    if source in MESSAGING_SOURCES:
        return "messaging"
    if source in ("cron", "webhook", "subagent"):
        return source
    if source == "api_server":
        return "api"
    if source == CLAUDE_CODE:
        return CLAUDE_CODE
    if source in INTERNAL_SOURCES:
        return "internal"
    if source in OTHER_SOURCES:
        return "other"
    return "messaging" if has_chat else "other"


@lru_cache(maxsize=512)
def source_label(source: str) -> str:
    if source in LABELS:
        return LABELS[source]
    return source.replace("_", " ").title() if source else "Unknown"
