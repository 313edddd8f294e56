"""The statuses an evaluation and a batch row go through, and the one rule for "ok".

The API's job statuses (``queued``, ``processing``, ``completed``, ``failed``) are a subset;
the batch adds its own (``pending``, ``submitting``, ``error``, ``uncertain``). A server may
send a status not listed here: it is kept as the string it came as.

>>> Status.COMPLETED == "completed", is_ok("failed"), is_ok(Status.ERROR)
(True, True, False)
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["BATCH_STATUSES", "FINISHED", "IN_FLIGHT", "OPEN", "TERMINAL", "Status", "is_ok"]


class Status(StrEnum):
    """A row's (or an evaluation's) status; compares equal to its plain string."""

    PENDING = "pending"  # journaled, not yet sent
    SUBMITTING = "submitting"  # its POST is on the way; after a crash: uncertain
    QUEUED = "queued"  # accepted by the API (202), waiting for a worker
    PROCESSING = "processing"  # the pipeline is running
    COMPLETED = "completed"  # finished with results
    FAILED = "failed"  # finished at the API without results
    ERROR = "error"  # rejected locally or by the API, or given up on (e.g. deadline)
    UNCERTAIN = "uncertain"  # the POST was sent but its answer lost: may exist and be billed


#: A row's statuses in the order front-ends show them (``submitting`` shows as pending).
BATCH_STATUSES: tuple[str, ...] = tuple(str(s) for s in Status if s != Status.SUBMITTING)
#: The API is done with the evaluation (with or without results).
TERMINAL = frozenset({Status.COMPLETED, Status.FAILED})
#: Submitted and waiting for a result.
IN_FLIGHT = frozenset({Status.QUEUED, Status.PROCESSING})
#: Rows a run still has to act on.
OPEN = frozenset({Status.PENDING, Status.SUBMITTING, *IN_FLIGHT, Status.UNCERTAIN})
#: Rows that need nothing more in this run.
FINISHED = frozenset({*TERMINAL, Status.ERROR, Status.UNCERTAIN})


def is_ok(status: str) -> bool:
    """A row ended well: the API answered it (``completed`` or ``failed``)."""
    return status in TERMINAL
