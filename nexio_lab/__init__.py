"""nexio-lab: run, track, resume and compare batches of Nexio evaluations.

>>> import nexio_lab
>>> nexio_lab.Client  # doctest: +ELLIPSIS
<class 'nexio_lab._client.Client'>
"""

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

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Candidate",
    "Evaluation",
    "EvaluationRecord",
    "NexioError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProfileError",
    "RateLimit",
    "RateLimitError",
    "ServerError",
    "SubmissionUncertainError",
    "UnprocessableEntityError",
    "__version__",
]
