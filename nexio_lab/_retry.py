"""The one place that decides whether a failed request is retried, and after how long.

Safe requests (GET, /health) are retried on 429, 5xx, connection errors and timeouts. A POST
to /api/v1/jobs is billed and not idempotent: it is retried only when the server cannot have
created the job (429, a 5xx answer, a connection that failed before the request was sent).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum

__all__ = ["Outcome", "RetryPolicy"]


class Outcome(Enum):
    """What became of one attempt, as far as retrying is concerned."""

    RATE_LIMITED = "429"
    SERVER_ERROR = "5xx"
    NOT_SENT = "not sent"  # connect error/timeout, pool timeout: nothing reached the server
    LOST_AFTER_SEND = "lost after send"  # read timeout, reset or EOF after the request went out


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, within ``max_retries`` retries.

    >>> RetryPolicy(max_retries=2).should_retry(Outcome.SERVER_ERROR, attempt=0, idempotent=False)
    True
    >>> RetryPolicy().should_retry(Outcome.LOST_AFTER_SEND, attempt=0, idempotent=False)
    False
    """

    max_retries: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def should_retry(self, outcome: Outcome, *, attempt: int, idempotent: bool) -> bool:
        if attempt >= self.max_retries:
            return False
        return idempotent or outcome is not Outcome.LOST_AFTER_SEND

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (full jitter)."""
        return self.rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))
