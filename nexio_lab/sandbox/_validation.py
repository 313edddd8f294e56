"""Checking a ``POST /api/v1/jobs`` body against the v1 contract."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ._errors import ApiError

__all__ = ["MAX_BODY", "Submission", "is_json_media_type", "parse_submission"]

#: Largest request body accepted (1 MiB); larger ones get 413 ``payload_too_large``.
MAX_BODY = 1 << 20


@dataclass(frozen=True, slots=True)
class Submission:
    profile: dict[str, Any]
    pool: str
    webhook_url: str | None


def is_json_media_type(content_type: str | None) -> bool:
    """``application/json`` (any parameters) or a ``+json`` type.

    >>> is_json_media_type("application/json; charset=utf-8"), is_json_media_type("text/plain")
    (True, False)
    """
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _invalid(message: str, field: str | None = None, issue: str | None = None) -> ApiError:
    details = [{"field": field, "issue": issue}] if field else []
    return ApiError(400, "invalid_request", message, details)


def _missing(field: str) -> ApiError:
    return _invalid(f"Missing required field: {field}", field, "missing")


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def parse_submission(raw: bytes, pools: Collection[str]) -> Submission:
    """The submission in ``raw``, or :class:`ApiError` 400 (malformed) / 422 (unknown pool).

    >>> parse_submission(b'{"profile": {"entity": "acme"}, "pool": "p"}', ["p"]).pool
    'p'
    """
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 too; RecursionError absurdly deep nesting.
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "not valid UTF-8 JSON"
        raise _invalid(f"Malformed JSON body: {reason}") from None
    if not isinstance(body, dict):
        raise _invalid("Request body must be a JSON object")

    profile = body.get("profile")
    if profile is None:
        raise _missing("profile")
    if not isinstance(profile, dict):
        raise _invalid("Field profile must be a JSON object", "profile", "not_an_object")
    if not profile:
        raise _missing("profile.entity")
    entity = profile.get("entity")
    if entity is None or (isinstance(entity, str) and not entity.strip()):
        raise _missing("profile.entity")
    if not isinstance(entity, str):
        raise _invalid(
            "Field profile.entity must be a non-empty string", "profile.entity", "not_a_string"
        )

    pool = body.get("pool")
    if pool is None:
        raise _missing("pool")
    if not isinstance(pool, str) or not pool.strip():
        raise _invalid("Field pool must be a non-empty string", "pool", "not_a_string")
    if pool not in pools:
        raise ApiError(
            422,
            "unknown_pool",
            f"Unknown pool: {pool[:100]}",
            [{"field": "pool", "known_pools": sorted(pools)}],
        )

    webhook_url = body.get("webhook_url")
    if webhook_url is not None and not (
        isinstance(webhook_url, str) and len(webhook_url) <= 2048 and _is_http_url(webhook_url)
    ):
        raise _invalid("Field webhook_url must be an http(s) URL", "webhook_url", "not_a_url")
    return Submission(profile=profile, pool=pool, webhook_url=webhook_url)
