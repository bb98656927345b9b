"""The one error shape of the API: ``{"error": {"code", "message", "param"}}`` with a 4xx/5xx."""

from __future__ import annotations

import orjson
from starlette.responses import Response


class ApiError(Exception):
    """A request the server will not fulfil, with the status, a stable code and the parameter."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param

    def response(self, headers: dict[str, str] | None = None) -> Response:
        body = {"error": {"code": self.code, "message": self.message, "param": self.param}}
        return Response(
            orjson.dumps(body),
            status_code=self.status,
            media_type="application/json",
            headers=headers,
        )


def bad_param(param: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, param)


def not_found(code: str, message: str, param: str | None = None) -> ApiError:
    return ApiError(404, code, message, param)
