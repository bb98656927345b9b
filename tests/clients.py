"""In-process apps on the test home, through starlette's TestClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from webui.api.app import create_app
from webui.config import Settings

Client = Callable[..., TestClient]


@pytest.fixture
def make_client(agent_home: Path) -> Iterator[Client]:
    """Build apps on the test home (watcher off unless asked) and close them at teardown."""
    open_clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        options: dict[str, Any] = {
            "home": agent_home,
            "watch": False,
            "demo_tokens_per_second": 200.0,
            # Never the machine's ~/.claude: a test that wants transcripts names its folder.
            "claude_home": "",
        }
        options.update(overrides)
        client = TestClient(create_app(Settings(**options)), base_url="http://127.0.0.1:8787")
        client.__enter__()
        open_clients.append(client)
        return client

    yield build
    for client in open_clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Client) -> TestClient:
    return make_client()
