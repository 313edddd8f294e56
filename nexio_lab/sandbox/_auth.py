"""API keys: constant-time lookup, owner fingerprints and masking for display."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from ._config import LIVE_KEY_PREFIX

__all__ = ["KeyRing", "fingerprint", "mask_key"]


def fingerprint(key: str) -> str:
    """A stable, non-reversible owner id for a key: what jobs and the database store.

    >>> len(fingerprint("nx_test_abc"))
    16
    """
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def mask_key(key: str) -> str:
    """A key as it may be shown: its prefix and last four characters only.

    >>> mask_key("nx_test_5up3r53cr3tabcd")
    'nx_test_…abcd'
    """
    prefix = next((p for p in ("nx_test_", "nx_live_") if key.startswith(p)), "")
    tail = key[len(prefix) :][-4:] if len(key) - len(prefix) > 8 else ""
    return f"{prefix}…{tail}"


class KeyRing:
    """The configured keys; :meth:`owner` says whose key a request presented.

    Every configured key is compared with :func:`hmac.compare_digest`, with no early exit,
    so the answer's timing tells nothing about which key (or how much of it) matched.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._keys = [(k.encode("utf-8"), fingerprint(k)) for k in keys]

    def owner(self, presented: str | None) -> str | None:
        """The owner fingerprint of ``presented``, or None when it opens nothing."""
        if not presented or presented.startswith(LIVE_KEY_PREFIX):
            return None
        candidate = presented.encode("utf-8", "surrogateescape")
        found = None
        for key, owner in self._keys:
            if hmac.compare_digest(candidate, key) and found is None:
                found = owner
        return found

    def __repr__(self) -> str:
        return f"<KeyRing of {len(self._keys)} key(s)>"
