"""What every endpoint needs: the app's services, the request's profile, one session's row."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request

from webui.agentdb.home import DEFAULT_PROFILE, is_profile_name, require_profile, state_db_path
from webui.agentdb.reader import SourceUnavailable, read_session
from webui.api.context import AppContext
from webui.errors import ApiError, not_found
from webui.sessions.overlay import overlay_row
from webui.sessions.rules import SessionRow, listed_row
from webui.state.prefs import Preferences

PROFILE_COOKIE = "webui_profile"


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def fallback_profile(request: Request, ctx: AppContext, prefs: Preferences | None = None) -> str:
    """The ``webui_profile`` cookie if it names a profile, else the settings' default."""
    cookie = request.cookies.get(PROFILE_COOKIE, "")
    if is_profile_name(cookie) and (
        cookie == DEFAULT_PROFILE or (ctx.home / "profiles" / cookie).is_dir()
    ):
        return cookie
    return (prefs or ctx.prefs.current()).default_profile


def request_profile(request: Request, ctx: AppContext) -> str:
    name = request.query_params.get("profile") or fallback_profile(request, ctx)
    return require_profile(ctx.home, name)


def unavailable(exc: BaseException) -> ApiError:
    return ApiError(503, "source_unavailable", f"the session database cannot be read: {exc}")


async def session_row(ctx: AppContext, profile: str, session_id: str) -> SessionRow:
    """One session's row, with its overrides and live runtime state; 404 when unknown."""
    path = state_db_path(ctx.home, profile)

    def read() -> SessionRow | None:
        record = read_session(path, session_id, ctx.settings.busy_timeout)
        if record is None:
            return None
        overrides, tombstones = ctx.db.read_profile_state(profile)
        if session_id in tombstones:
            return None
        return listed_row(profile, [record], overrides.get(session_id)).row

    try:
        row = await anyio.to_thread.run_sync(read)
    except SourceUnavailable as exc:
        raise unavailable(exc) from None
    if row is None:
        raise not_found("unknown_session", f"no session {session_id!r} in {profile}", "session_id")
    for stream in ctx.registry.live((profile,)):
        if stream.session_id == session_id:
            row = overlay_row(row, stream)
    return row
