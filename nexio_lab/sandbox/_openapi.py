"""The OpenAPI 3.1 document of the v1 contract, as the sandbox serves it (``/openapi.json``).

Written by hand from the contract (not generated from the code), so a fuzz run against it
checks the sandbox against the contract rather than against itself.
"""

from __future__ import annotations

from typing import Any

from .._version import __version__
from ._pools import DEFAULT_POOLS

__all__ = ["openapi_document"]

_RATE_HEADERS = {
    "X-RateLimit-Limit": {"schema": {"type": "integer"}, "description": "Requests per window"},
    "X-RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "Left in window"},
    "X-RateLimit-Reset": {
        "schema": {"type": "number"},
        "description": "Unix time (s) when the window resets",
    },
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _RATE_HEADERS,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_ERRORS = {
    "401": _error("Missing, invalid or live key (code unauthorized)"),
    "429": _error("Rate limit exceeded (code rate_limit_exceeded); see Retry-After"),
    "500": _error("Unexpected server error (code internal_error)"),
    "503": _error("Temporarily unavailable (code service_unavailable)"),
}


def openapi_document() -> dict[str, Any]:
    """The document, a fresh dict each call.

    >>> sorted(openapi_document()["paths"])
    ['/api/v1/jobs', '/api/v1/jobs/{eval_id}', '/health']
    """
    level = {"type": "string", "description": "L1 ideal .. L4 poor; others may appear"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nexio evaluation API (nexio-lab sandbox)",
            "version": f"v1 (nexio-lab {__version__})",
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "details"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "details": {"type": "array"},
                            },
                        }
                    },
                },
                "Submission": {
                    "type": "object",
                    "required": ["profile", "pool"],
                    "properties": {
                        "profile": {
                            "type": "object",
                            "required": ["entity"],
                            "additionalProperties": True,
                            "properties": {
                                "entity": {"type": "string", "minLength": 1},
                                "state": {"type": "string", "minLength": 2, "maxLength": 2},
                                "line": {"type": "string"},
                                "revenue": {"type": "number", "minimum": 0},
                            },
                        },
                        "pool": {"type": "string", "examples": list(DEFAULT_POOLS)},
                        "webhook_url": {"type": "string", "format": "uri"},
                    },
                },
                "Accepted": {
                    "type": "object",
                    "required": ["eval_id", "status"],
                    "properties": {
                        "eval_id": {"type": "string", "pattern": "^eval_[0-9A-Za-z]{8}$"},
                        "status": {"const": "queued"},
                    },
                },
                "Candidate": {
                    "type": "object",
                    "required": ["tier", "name", "confidence", "scores", "reasoning"],
                    "properties": {
                        "tier": {"type": "string"},
                        "name": {"type": "string"},
                        "confidence": {"type": "string"},
                        "scores": {"type": "object", "additionalProperties": level},
                        "reasoning": {"type": "string"},
                    },
                },
                "Job": {
                    "type": "object",
                    "required": ["eval_id", "status"],
                    "properties": {
                        "eval_id": {"type": "string"},
                        "status": {
                            "type": "string",
                            "examples": ["queued", "processing", "completed", "failed"],
                        },
                        "pool_size": {"type": "integer"},
                        "filtered": {"type": "integer"},
                        "candidates": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Candidate"},
                        },
                        "audit": {"type": "string", "format": "uri"},
                        "error": {"$ref": "#/components/schemas/Error/properties/error"},
                    },
                },
            },
        },
        "paths": {
            "/health": {
                "get": {
                    "summary": "Liveness, no key needed",
                    "responses": {
                        "200": {
                            "description": "Up",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {"status": {"const": "ok"}},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/api/v1/jobs": {
                "post": {
                    "summary": "Submit an evaluation",
                    "security": [{"apiKey": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Submission"}
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Accepted",
                            "headers": _RATE_HEADERS,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Accepted"}
                                }
                            },
                        },
                        "400": _error("Malformed request or missing field (invalid_request)"),
                        "413": _error("Body over 1 MiB (payload_too_large)"),
                        "422": _error("Valid request that cannot be processed (unknown_pool)"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/jobs/{eval_id}": {
                "get": {
                    "summary": "An evaluation's state and, once done, its results",
                    "security": [{"apiKey": []}],
                    "parameters": [
                        {
                            "name": "eval_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The job",
                            "headers": _RATE_HEADERS,
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Job"}}
                            },
                        },
                        "403": _error("Job of another key (forbidden)"),
                        "404": _error("No such job (not_found)"),
                        **_ERRORS,
                    },
                }
            },
        },
    }
