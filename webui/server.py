"""Running the app under uvicorn, with one or several worker processes."""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from webui.config import Settings

SETTINGS_ENV = "WEBUI_RESOLVED_SETTINGS"
# A list rebuild allocates a few hundred thousand objects (rows, records, tuples) while the
# server holds as many in its cache. With CPython's default thresholds (700, 10, 10) that
# sets off full collections over the whole heap during every rebuild, a third of its time
# at 10,000 sessions. The server's data is acyclic (freed by reference counting), so the
# cycle collector can run far less often.
GC_THRESHOLDS = (50_000, 20, 20)


# Tabs poll every few seconds on a kept-alive connection; uvicorn's default of 5 s equals the
# idle poll interval, so polls would race the server closing the connection under them.
KEEP_ALIVE_SECONDS = 65


def tune_gc() -> None:
    gc.set_threshold(*GC_THRESHOLDS)


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

    tune_gc()
    return create_app(decode_settings(os.environ[SETTINGS_ENV]))


def run(settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    tune_gc()
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
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        return 0
    from webui.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0
