"""nexio-lab: run, track, resume and compare batches of Nexio evaluations.

>>> import nexio_lab
>>> nexio_lab.Client  # doctest: +ELLIPSIS
<class 'nexio_lab._client.Client'>
"""

from typing import TYPE_CHECKING

from ._client import AsyncClient, Client
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    MissingAPIKeyError,
    NexioError,
    NotFoundError,
    PermissionDeniedError,
    ProfileError,
    RateLimitError,
    ServerError,
    SubmissionUncertainError,
    UnprocessableEntityError,
)
from ._models import Candidate, Evaluation, EvaluationRecord, RateLimit
from ._version import __version__
from .batch import (
    Batch,
    BatchLockedError,
    BatchOptions,
    BatchPlan,
    BatchProgress,
    InputError,
    JournalError,
    attach,
    list_batches,
    open_batch,
)

if TYPE_CHECKING:
    from .explorer import explore
    from .results import (
        CompareSummary,
        ResultSet,
        RunComparison,
        agreement,
        columns,
        compare,
        compare_runs,
        read_results,
        to_frames,
    )

# heavy parts (pandas, matplotlib, uvicorn) load on first use: `import nexio_lab` stays light
_LAZY_MODULES = {"plots", "sandbox", "progress"}
_LAZY_RESULTS = {
    "CompareSummary",
    "ResultSet",
    "RunComparison",
    "agreement",
    "columns",
    "compare",
    "compare_runs",
    "read_results",
    "to_frames",
}
_LAZY_ELSEWHERE = {"explore": "explorer"}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_RESULTS:
        return getattr(importlib.import_module(".results", __name__), name)
    if name in _LAZY_ELSEWHERE:
        return getattr(importlib.import_module(f".{_LAZY_ELSEWHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchLockedError",
    "BatchOptions",
    "BatchPlan",
    "BatchProgress",
    "Candidate",
    "Client",
    "CompareSummary",
    "Evaluation",
    "EvaluationRecord",
    "InputError",
    "JournalError",
    "MissingAPIKeyError",
    "NexioError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProfileError",
    "RateLimit",
    "RateLimitError",
    "ResultSet",
    "RunComparison",
    "ServerError",
    "SubmissionUncertainError",
    "UnprocessableEntityError",
    "__version__",
    "agreement",
    "attach",
    "columns",
    "compare",
    "compare_runs",
    "explore",
    "list_batches",
    "open_batch",
    "read_results",
    "to_frames",
]
