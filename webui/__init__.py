"""webui: the session-list server and browser sidebar of a chat web UI for a local AI agent."""

__version__ = "0.1.0"
