"""A one-file HTML report of a batch or ResultSet, for readers who do not open notebooks.

>>> batch.to_report("q4.html")  # doctest: +SKIP

or ``nexio-lab report NAME --out q4.html``. See :func:`write_report`.
"""

from ._report import pool_agreement, report_html, write_report

__all__ = ["pool_agreement", "report_html", "write_report"]
