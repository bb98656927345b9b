"""Access control: the auth token, same-origin checks for state-changing requests, body size.

With no token (loopback only) the API is open to local clients, but a browser request from
another origin may still not change anything. With a token every ``/api/*`` request needs it,
as ``Authorization: Bearer`` or the HttpOnly cookie the login page sets, and state-changing
requests also need a same-origin ``Origin``.
"""

from __future__ import annotations

import hmac
import ipaddress
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from webui.api.bodies import error_response
from webui.config import Settings
from webui.errors import ApiError

TOKEN_COOKIE = "webui_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_MAX_BYTES = 4096


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _same_origin(scope: Scope) -> bool | None:
    """True/False for a present ``Origin``; None when the request carries none."""
    origin = _header(scope, b"origin")
    if origin is None:
        return None
    host = _header(scope, b"host") or ""
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    return origin == f"{scheme}://{host}"


def _presented_token(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization") or ""
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie") or "")
    except CookieError:  # a malformed Cookie header is just no cookie
        return None
    morsel = cookie.get(TOKEN_COOKIE)
    return morsel.value if morsel is not None else None


def token_ok(presented: str | None, token: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), token.encode())


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.token = settings.token
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        error = self._check(scope)
        if error is not None:
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> ApiError | None:
        path: str = scope["path"]
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            return ApiError(413, "body_too_large", f"the body is over {self.max_body} bytes")
        changing = scope["method"] not in SAFE_METHODS
        same: bool | None = None
        if changing and (path.startswith("/api/") or path == "/login"):
            same = _same_origin(scope)
            if same is False:
                return ApiError(403, "cross_origin", "state-changing requests must be same-origin")
        if not self.token or not path.startswith("/api/"):
            return None
        if not token_ok(_presented_token(scope), self.token):
            return ApiError(401, "unauthorized", "a valid token is required (Bearer or login)")
        if changing and same is None:
            return ApiError(403, "origin_required", "state-changing requests need an Origin")
        return None


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webui · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;display:grid;place-items:center;height:100vh;margin:0}
form{display:grid;gap:.6rem;min-width:18rem}input,button{font:inherit;padding:.5rem}
.error{color:#b42318}</style></head>
<body><form method="post" action="/login"><h1>Sign in</h1>
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
%ERROR%<button type="submit">Sign in</button></form></body></html>"""


async def login_page(request: Request) -> Response:
    return HTMLResponse(LOGIN_PAGE.replace("%ERROR%", ""))


async def login(request: Request) -> Response:
    settings: Settings = request.app.state.ctx.settings
    # Read at most a small form: a chunked body without a length is not buffered whole.
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > LOGIN_MAX_BYTES:
            return error_response(ApiError(413, "body_too_large", "the sign-in form is too large"))
    presented = (parse_qs(raw.decode("utf-8", "replace")).get("token") or [""])[0]
    if not settings.token or not token_ok(presented, settings.token):
        page = LOGIN_PAGE.replace("%ERROR%", '<p class="error" role="alert">Wrong token.</p>')
        return HTMLResponse(page, status_code=401)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        TOKEN_COOKIE, presented, httponly=True, samesite="strict", max_age=30 * 86400
    )
    return response


def login_routes() -> list[Route]:
    return [
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
    ]
