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
from ._inputs import InputError, read_profiles
from ._journal import Journal, JournalError, default_store

__all__ = [
    "BATCH_STATUSES",
    "Batch",
    "BatchInputError",
    "BatchOptions",
    "BatchPlan",
    "BatchProgress",
    "CONFIRM_ABOVE",
    "InputError",
    "Journal",
    "JournalError",
    "ProfileSource",
    "default_store",
    "plan_batch",
    "read_profiles",
    "run_batch",
    "start_batch",
]
