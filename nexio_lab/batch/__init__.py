"""The batch engine: many evaluations tracked concurrently, journaled and resumable.

>>> from nexio_lab.batch import BATCH_STATUSES
>>> BATCH_STATUSES[:3]
('pending', 'queued', 'processing')
"""

from ..progress import BATCH_STATUSES, BatchProgress
from ._batch import (
    CONFIRM_ABOVE,
    Batch,
    BatchInputError,
    BatchOptions,
    BatchPlan,
    ProfileSource,
    plan_batch,
    run_batch,
    start_batch,
)
from ._estimate import fetch_rate_limit
from ._inputs import InputError, read_profiles
from ._journal import Journal, JournalError, default_store
from ._lock import BatchLockedError
from ._registry import LIST_COLUMNS, attach, list_batches, open_batch

__all__ = [
    "BATCH_STATUSES",
    "Batch",
    "BatchInputError",
    "BatchLockedError",
    "BatchOptions",
    "BatchPlan",
    "BatchProgress",
    "CONFIRM_ABOVE",
    "InputError",
    "Journal",
    "JournalError",
    "LIST_COLUMNS",
    "ProfileSource",
    "attach",
    "default_store",
    "fetch_rate_limit",
    "list_batches",
    "open_batch",
    "plan_batch",
    "read_profiles",
    "run_batch",
    "start_batch",
]
