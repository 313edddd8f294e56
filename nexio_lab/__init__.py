"""nexio-lab: run, track, resume and compare batches of Nexio evaluations.

>>> import nexio_lab
>>> nexio_lab.Client  # doctest: +ELLIPSIS
<class 'nexio_lab._client.Client'>
"""

from ._client import AsyncClient, Client
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
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
from .batch import Batch, BatchPlan, BatchProgress, InputError, JournalError
from .results import CompareSummary, ResultSet, compare, read_results, to_frames

# subpackages with heavy imports (matplotlib, uvicorn) load on first use
_LAZY = {"plots", "sandbox", "progress"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchPlan",
    "BatchProgress",
    "Candidate",
    "Client",
    "CompareSummary",
    "Evaluation",
    "EvaluationRecord",
    "InputError",
    "JournalError",
    "NexioError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProfileError",
    "RateLimit",
    "RateLimitError",
    "ResultSet",
    "ServerError",
    "SubmissionUncertainError",
    "UnprocessableEntityError",
    "__version__",
    "compare",
    "read_results",
    "to_frames",
]
