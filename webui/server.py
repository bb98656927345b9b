"""Running the app under uvicorn, with one or several worker processes."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from webui.config import Settings

SETTINGS_ENV = "WEBUI_RESOLVED_SETTINGS"


def encode_settings(settings: Settings) -> str:
    data = dataclasses.asdict(settings)
    data["home"] = str(settings.home)
    return json.dumps(data)


def decode_settings(text: str) -> Settings:
    data = json.loads(text)
    data["home"] = Path(data["home"])
    return Settings(**data)


def app_from_environment() -> Starlette:
    """uvicorn's factory for worker processes: the parent resolved the settings once."""
    from webui.app import create_app

    return create_app(decode_settings(os.environ[SETTINGS_ENV]))


def run(settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.workers > 1:
        # Workers are fresh processes: they get the resolved settings, not a second parse.
        os.environ[SETTINGS_ENV] = encode_settings(settings)
        uvicorn.run(
            "webui.server:app_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            access_log=False,
        )
        return 0
    from webui.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
    )
    return 0
