"""``create_app(settings, ...)``: builds a new app with its own services; importing does nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from webui.agentdb.writers import WriterPool
from webui.api.bodies import error_response
from webui.api.context import AppContext
from webui.api.list_endpoint import ListSessionsEndpoint
from webui.api.routes import ROUTES
from webui.api.routes_live import LIVE_ROUTES
from webui.api.routes_search import SEARCH_ROUTES
from webui.api.security import SecurityMiddleware, login_routes
from webui.claudecode.source import ClaudeCodeSource
from webui.config import Settings
from webui.errors import ApiError
from webui.live.backends import Backend, make_backend
from webui.live.changes import LiveChanges
from webui.live.events import EventBroker
from webui.live.turns import TurnManager
from webui.sessions.search import SessionSearch
from webui.sessions.service import SessionLists
from webui.state.prefs import PreferenceStore
from webui.state.registry import StreamRegistry
from webui.state.webuidb import WebuiDB, WebuiDBError

STATIC = Path(__file__).parent.parent / "static"


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _webui_db_error(request: Request, exc: Exception) -> Response:
    """webui.db could not be written (locked past the busy timeout, read-only home)."""
    return error_response(ApiError(503, "webui_db_unavailable", str(exc)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(ApiError(404, "not_found", f"no route for {request.url.path}"))
    if exc.status_code == 405:
        return error_response(
            ApiError(405, "method_not_allowed", f"{request.method} is not allowed here"),
            headers={"Allow": _allowed(request)},
        )
    return error_response(ApiError(exc.status_code, "http_error", str(exc.detail)))


def _allowed(request: Request) -> str:
    """Every method some route takes on this path (one path's methods may be split between
    several routes: Starlette's own 405 names only the first route's)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.path_regex.match(request.url.path):
            methods.update(route.methods or ())
    return ", ".join(sorted(methods))


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def build_context(
    settings: Settings,
    *,
    clock: Callable[[], float] | None = None,
    wall_clock: Callable[[], float] | None = None,
    backend: Backend | None = None,
) -> AppContext:
    home = settings.home
    db = WebuiDB(
        home / "webui" / "webui.db", busy_timeout=settings.busy_timeout, wall_clock=wall_clock
    )
    registry = StreamRegistry(db, stale_after=settings.stream_stale_after)
    prefs = PreferenceStore(home / "webui" / "settings.json")
    claude = claude_source(settings)
    lists = SessionLists(
        home=home,
        db=db,
        registry=registry,
        prefs=prefs,
        idle_ttl=settings.idle_ttl,
        streaming_ttl=settings.streaming_ttl,
        busy_timeout=settings.busy_timeout,
        cache_entries=settings.cache_entries,
        build_wait=settings.build_wait,
        incremental=settings.incremental_index,
        claude=claude,
        clock=clock,
    )
    writers = WriterPool(home, busy_timeout=settings.busy_timeout)
    events = EventBroker()
    chosen = backend or make_backend(
        settings.backend,
        tokens_per_second=settings.demo_tokens_per_second,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=settings.openai_api_key or None,
    )
    turns = TurnManager(
        writers=writers,
        registry=registry,
        events=events,
        backend=chosen,
        heartbeat_interval=settings.heartbeat_interval,
    )
    return AppContext(
        settings,
        home,
        db,
        registry,
        prefs,
        lists,
        writers,
        events,
        turns,
        SessionSearch(lists, db.read_profile_state, home=home, busy_timeout=settings.busy_timeout),
        claude=claude,
    )


def claude_source(settings: Settings) -> ClaudeCodeSource | None:
    """The Claude Code source of ``claude_home`` (``~`` expanded); None when it is empty."""
    if not settings.claude_home.strip():
        return None
    root = Path(settings.claude_home).expanduser()
    return ClaudeCodeSource(root, settings.claude_cache_bytes)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] | None = None,
    wall_clock: Callable[[], float] | None = None,
    backend: Backend | None = None,
) -> Starlette:
    """A new app serving ``settings.home``; every service hangs off ``app.state.ctx``."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ctx = build_context(settings, clock=clock, wall_clock=wall_clock, backend=backend)
        app.state.ctx = ctx
        ctx.compression = endpoint.compression
        ctx.events.start(asyncio.get_running_loop())
        live = ctx.live = LiveChanges(
            home=ctx.home,
            db=ctx.db,
            prefs=ctx.prefs,
            registry=ctx.registry,
            events=ctx.events,
            claude=ctx.claude,
        )
        watcher = asyncio.create_task(live.run()) if settings.watch else None
        try:
            yield
        finally:
            live.stopping.set()
            ctx.events.close()
            await ctx.turns.close()
            if watcher is not None:
                await live.stop(watcher)
            await ctx.lists.cache.close()
            ctx.lists.close()
            ctx.writers.close()
            ctx.db.close()

    endpoint = ListSessionsEndpoint()
    routes = [
        # The poll every tab repeats comes first: it is matched before any other route.
        Route("/api/sessions", endpoint, methods=["GET"]),
        *SEARCH_ROUTES,
        *LIVE_ROUTES,
        *ROUTES,
        *login_routes(),
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityMiddleware, settings=settings)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            WebuiDBError: _webui_db_error,
        },
    )
