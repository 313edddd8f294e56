"""Write records straight into a journal, as a finished batch (benchmarks and tests; no server).

>>> from nexio_lab.results._synthetic import synthetic_records
>>> journal = Journal(":memory:")
>>> journal_records(journal, "synthetic", synthetic_records(3, 2, seed=1))
3
>>> [len(chunk) for chunk in journal.iter_records("synthetic", chunk=2)]
[2, 1]
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .._models import EvaluationRecord
from ._journal import Journal, encode_result, fingerprint

__all__ = ["journal_records"]


def journal_records(
    journal: Journal,
    name: str,
    records: Iterable[EvaluationRecord],
    *,
    compress: bool = True,
    base_url: str = "synthetic://",
) -> int:
    """Journal ``records`` as the rows of a finished batch ``name``; return how many.

    Each result is stored as :meth:`Journal.update_row` stores it (``compress=False``
    stores the JSON text instead, as journals written before compression did).
    """
    journal.create_batch(name, base_url, {})
    count = 0

    def rows() -> Iterable[tuple[object, ...]]:
        nonlocal count
        for r in records:
            count += 1
            profile = json.dumps(r.profile)
            result = None
            if r.result is not None:
                result = encode_result(r.result) if compress else json.dumps(r.result)
            yield (
                name,
                r.row,
                r.pool,
                profile,
                fingerprint(profile, r.pool),
                r.status,
                r.eval_id,
                r.error_code,
                r.error_message,
                r.submitted_at.isoformat() if r.submitted_at else None,
                r.completed_at.isoformat() if r.completed_at else None,
                result,
            )

    journal._write(
        "INSERT INTO rows (batch, row, pool, profile, fingerprint, status, eval_id, error_code, "
        "error_message, submitted_at, completed_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?)",
        rows(),
        many=True,
    )
    return count
