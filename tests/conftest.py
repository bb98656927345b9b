"""Shared fixtures: a data home, the agent-playing database factory, apps and their clients."""

from __future__ import annotations

from clients import client, make_client
from factory import agent_db, agent_home

__all__ = ["agent_db", "agent_home", "client", "make_client"]
