"""Running the app under uvicorn, with one or several worker processes."""

from __future__ import annotations

import ctypes
import dataclasses
import gc
import json
import os
import platform
import sys
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
# A rebuild runs in a worker thread and holds the GIL between SQLite steps. Every time the
# event loop wakes (a request arrives, a token is due) it must wait for the GIL, by default up
# to 5 ms per wait, and one poll waits several times: polls during a 10,000-session rebuild
# took 30-40 ms (p99) and token events came 100 ms apart. At 0.5 ms the loop gets the GIL back
# at once (p99 7 ms, token gaps 26 ms); the rebuild gives up some of its share under load,
# which is the right way round. With one runnable thread the interval changes nothing.
SWITCH_INTERVAL_SECONDS = 0.0005
# glibc gives each thread that contends for malloc an arena of its own (up to 8 per core) and
# keeps what is freed in it. Rebuilds run on pool threads, so each new thread's arena kept a
# list's worth of freed memory: RSS rose in steps for minutes under load (soak: 82 -> 95 MiB
# in 150 s). Two arenas keep it flat (81 -> 83 MiB); the GIL serializes the threads anyway.
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # mallopt parameter, from glibc's malloc.h


# Tabs poll every few seconds on a kept-alive connection; uvicorn's default of 5 s equals the
# idle poll interval, so polls would race the server closing the connection under them.
KEEP_ALIVE_SECONDS = 65


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (before the server starts threads); whether it applied."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(arenas)))
    except (OSError, AttributeError):
        return False


def tune_interpreter() -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    limit_malloc_arenas()


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
    from webui.api.app import create_app

    tune_interpreter()
    return create_app(decode_settings(os.environ[SETTINGS_ENV]))


def run(settings: Settings) -> int:
    settings.home.mkdir(parents=True, exist_ok=True)
    tune_interpreter()
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
    from webui.api.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0
