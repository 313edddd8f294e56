"""Progress front-ends for running batches: a Jupyter widget, a terminal line, log lines.

The batch engine produces :class:`~nexio_lab.progress.BatchProgress` snapshots and
calls a :class:`ProgressReporter`; :func:`auto_progress` picks the right one.

>>> from nexio_lab.progress import auto_progress
>>> auto_progress(False) is None
True
"""

from ._base import ProgressReporter, ThrottledReporter
from ._state import BATCH_STATUSES, BatchProgress
from .auto import auto_progress, in_jupyter_kernel
from .console import ConsoleProgress
from .log import LogProgress
from .widget import WidgetProgress

__all__ = [
    "BATCH_STATUSES",
    "BatchProgress",
    "ConsoleProgress",
    "LogProgress",
    "ProgressReporter",
    "ThrottledReporter",
    "WidgetProgress",
    "auto_progress",
    "in_jupyter_kernel",
]
