"""One error hierarchy for everything nexio-lab raises.

``NexioError`` is the root. ``APIError`` subclasses are chosen from the HTTP status in one
place, :func:`error_from_response`, whatever the body looks like (JSON error object, HTML
from a proxy, nothing at all). No error ever carries the API key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "MissingAPIKeyError",
    "NexioError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProfileError",
    "RateLimitError",
    "ServerError",
    "SubmissionUncertainError",
    "UnprocessableEntityError",
    "error_from_response",
]


class NexioError(Exception):
    """Base of every error nexio-lab raises."""


class MissingAPIKeyError(NexioError):
    """No API key was given (``api_key=`` or ``NEXIO_API_KEY``) for a call that needs one;
    raised before any request is sent."""

    def __init__(self, message: str = "no API key: set NEXIO_API_KEY or pass api_key=") -> None:
        super().__init__(message)


class ProfileError(NexioError, ValueError):
    """A profile rejected locally, before any request was spent.

    ``row`` is the input row (when known) and ``field`` the offending profile field.
    """

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None):
        self.field = field
        self.row = row
        where = []
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def with_row(self, row: int) -> ProfileError:
        """The same error, naming the input row it came from."""
        return ProfileError(self.reason, field=self.field, row=row)


class APIConnectionError(NexioError):
    """The server could not be reached, or the connection broke before an answer."""

    def __init__(self, message: str = "Could not connect to the Nexio API.") -> None:
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "The request to the Nexio API timed out.") -> None:
        super().__init__(message)


class SubmissionUncertainError(NexioError):
    """A POST was sent but its answer was lost: the job may or may not exist (and be billed).

    The API has no idempotency key and no list endpoint, so the job can never be found again.
    Retrying would risk paying twice; the caller decides. ``profile`` and ``pool`` are what
    was sent.
    """

    def __init__(self, message: str, *, profile: Mapping[str, Any], pool: str) -> None:
        self.profile = profile
        self.pool = pool
        super().__init__(
            f"{message} The submission of {profile.get('entity')!r} to pool {pool!r} is "
            "uncertain: the evaluation may have been created (and billed). It was not retried."
        )


class APIError(NexioError):
    """An HTTP error answer from the API: ``status_code``, ``code``, ``message``, ``details``."""

    hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        details: list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details if details is not None else []
        self.headers = dict(headers or {})
        text = f"{status_code} {code}: {message}" if code else f"{status_code}: {message}"
        super().__init__(f"{text} ({self.hint})" if self.hint else text)


class BadRequestError(APIError):
    """400: malformed request or missing field."""


class AuthenticationError(APIError):
    """401: missing, invalid or revoked key."""

    hint = "check NEXIO_API_KEY (or the api_key argument) and that the key is not revoked"


class PermissionDeniedError(APIError):
    """403: the key is valid but may not use this resource."""

    hint = "the key may not use this resource; check which pools and jobs it can access"


class NotFoundError(APIError):
    """404: no such resource (e.g. an eval_id the server does not know)."""


class UnprocessableEntityError(APIError):
    """422: a valid request that cannot be processed, e.g. an unknown pool."""

    hint = "check the pool id"


class RateLimitError(APIError):
    """429: the key's rate limit is spent for this window."""

    hint = "wait for X-RateLimit-Reset; nexio-lab retries this by itself within max_retries"


class ServerError(APIError):
    """5xx: the server failed; safe requests are retried with backoff."""

    hint = "a server-side fault; retry later"


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_from_response(
    status_code: int, body: bytes, headers: Mapping[str, str] | None = None
) -> APIError:
    """Build the right :class:`APIError` for an error answer, whatever its body holds."""
    cls = _STATUS_ERRORS.get(status_code) or (ServerError if status_code >= 500 else APIError)
    code: str | None = None
    details: list[Any] = []
    message: str | None = None
    try:
        payload = json.loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        payload = None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        code = error.get("code") if isinstance(error.get("code"), str) else None
        raw_message = error.get("message")
        message = raw_message if isinstance(raw_message, str) and raw_message else None
        if isinstance(error.get("details"), list):
            details = error["details"]
    elif isinstance(error, str):
        message = error
    if message is None:
        snippet = body[:200].decode("utf-8", "replace").strip() if body else ""
        kind = "HTML page" if snippet.lstrip().lower().startswith("<") else "body"
        message = (
            f"unexpected non-JSON {kind} from the server: {' '.join(snippet.split())[:120]!r}"
            if snippet
            else "no error body"
        )
    return cls(message, status_code=status_code, code=code, details=details, headers=headers)
