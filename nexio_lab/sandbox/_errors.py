"""The documented error object, and the exception that carries one out of a handler."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

__all__ = ["ApiError", "error_response"]


class ApiError(Exception):
    """An answer with the error object: ``{"error": {"code", "message", "details"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details, self.headers)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response holding the error object.

    >>> error_response(404, "not_found", "No such job").body
    b'{"error":{"code":"not_found","message":"No such job","details":[]}}'
    """
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(
        json.dumps(body, separators=(",", ":")).encode(),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json",
    )
