"""What every endpoint needs: the app's services, the request's profile, one session's row.

The profile name ``claude-code`` is reserved for the Claude Code source: on the session
routes it names that source (read-only; its overrides and tombstones are kept in webui.db
under that name), never a folder of the home.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request

from webui.agentdb.home import (
    DEFAULT_PROFILE,
    is_profile_folder,
    require_profile,
    state_db_path,
)
from webui.agentdb.reader import SourceUnavailable, read_session
from webui.api.context import AppContext
from webui.claudecode.source import PROFILE, ClaudeCodeSource, project_of
from webui.errors import ApiError, not_found
from webui.sessions.overlay import overlay_row
from webui.sessions.rules import SessionRow, listed_row
from webui.state.prefs import Preferences

PROFILE_COOKIE = "webui_profile"
CLAUDE_PROFILE = PROFILE  # the reserved profile name of the Claude Code source


def ctx_of(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def fallback_profile(request: Request, ctx: AppContext, prefs: Preferences | None = None) -> str:
    """The ``webui_profile`` cookie if it names a profile, else the settings' default."""
    cookie = request.cookies.get(PROFILE_COOKIE, "")
    if cookie == DEFAULT_PROFILE or (
        is_profile_folder(cookie) and (ctx.home / "profiles" / cookie).is_dir()
    ):
        return cookie
    return (prefs or ctx.prefs.current()).default_profile


def request_profile(request: Request, ctx: AppContext, *, claude: bool = False) -> str:
    """The request's profile; with ``claude``, ``claude-code`` names the Claude Code source."""
    name = request.query_params.get("profile") or fallback_profile(request, ctx)
    if claude and name == CLAUDE_PROFILE:
        return name
    return require_profile(ctx.home, name)


def claude_of(ctx: AppContext) -> ClaudeCodeSource:
    if ctx.claude is None:
        raise not_found(
            "source_off", "the Claude Code source is off (claude_home is empty)", "profile"
        )
    return ctx.claude


def read_only(profile: str) -> ApiError | None:
    """The refusal of a chat turn in a source the web UI cannot write to."""
    if profile != CLAUDE_PROFILE:
        return None
    return ApiError(
        409, "read_only_source", "Claude Code sessions are read-only here", "session_id"
    )


async def claude_row(ctx: AppContext, session_id: str) -> dict[str, Any]:
    """A Claude Code session's row, as the list shows it, plus its project and git branch."""
    source = claude_of(ctx)

    def read() -> dict[str, Any] | None:
        record = source.session(session_id)
        if record is None:
            return None
        overrides, tombstones = ctx.db.read_profile_state(CLAUDE_PROFILE)
        if session_id in tombstones:
            return None
        row = listed_row(CLAUDE_PROFILE, [record], overrides.get(session_id)).row
        return {**row, "project": project_of(record.cwd), "git_branch": record.git_branch}

    row = await anyio.to_thread.run_sync(read)
    if row is None:
        raise not_found("unknown_session", f"no Claude Code session {session_id!r}", "session_id")
    return row


def unavailable(exc: BaseException) -> ApiError:
    return ApiError(503, "source_unavailable", f"the session database cannot be read: {exc}")


async def session_row(ctx: AppContext, profile: str, session_id: str) -> Mapping[str, Any]:
    """One session's row, with its overrides and live runtime state; 404 when unknown."""
    if profile == CLAUDE_PROFILE:
        return await claude_row(ctx, session_id)
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
