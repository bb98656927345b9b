"""``GET /api/sessions/search``: titles and message text, as rows of the session list.

Registered before the ``/api/sessions/{session_id}`` routes, which would otherwise take
``search`` for a session id: the route owns its path for every method, so a ``DELETE`` of it is
a 405 naming ``GET``, never a session called "search".
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from webui.agentdb.home import list_profiles, require_profile
from webui.agentdb.reader import SourceUnavailable
from webui.api.bodies import JSON, error_response
from webui.api.common import ctx_of, fallback_profile, unavailable
from webui.errors import ApiError
from webui.sessions.cache import BuildFailed, CacheTimeout
from webui.sessions.search import parse_search_query


async def search_sessions(request: Request) -> Response:
    ctx = ctx_of(request)
    prefs = ctx.prefs.current()
    query = parse_search_query(
        request.query_params,
        fallback_profile=fallback_profile(request, ctx, prefs),
        gate_defaults=prefs.gates,
        profile_names=lambda: list_profiles(ctx.home),
    )
    require_profile(ctx.home, query.profile)
    try:
        page = await ctx.search.search(query)
    except (BuildFailed, CacheTimeout, SourceUnavailable) as exc:
        raise unavailable(exc) from None
    headers = {"Cache-Control": "no-cache", "X-Search-Index": page.index}
    return Response(page.body, media_type=JSON, headers=headers)


class _OwnPath(Route):
    """A route that answers every method on its path: the others with its own 405."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        return (Match.FULL if match is Match.PARTIAL else match), child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            allowed = ", ".join(sorted(self.methods))
            error = ApiError(405, "method_not_allowed", f"{scope['method']} is not allowed here")
            await error_response(error, headers={"Allow": allowed})(scope, receive, send)
            return
        await super().handle(scope, receive, send)


SEARCH_ROUTES = [_OwnPath("/api/sessions/search", search_sessions, methods=["GET"])]
