"""The one error shape of the API: ``{"error": {"code", "message", "param"}}`` with a 4xx/5xx.

Error values only: no web framework here. ``webui.api`` turns them into responses.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A request the server will not fulfil, with the status, a stable code and the parameter."""

    def __init__(self, status: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "param": self.param}}


def bad_param(param: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, param)


def not_found(code: str, message: str, param: str | None = None) -> ApiError:
    return ApiError(404, code, message, param)
