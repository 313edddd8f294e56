"""Choose a progress front-end for where the code runs."""

from __future__ import annotations

import sys
import warnings
from typing import IO, Literal

from ._base import ProgressReporter

ProgressChoice = bool | Literal["auto", "widget", "console", "log"] | ProgressReporter | None

_warned = False  # the widget fallback warns once per process, not once per batch


def auto_progress(progress: ProgressChoice = "auto") -> ProgressReporter | None:
    """The reporter for a ``progress=`` argument.

    - ``False`` or ``None``: no progress at all (returns ``None``).
    - ``True`` or ``"auto"``: a widget in a Jupyter kernel, a live line on a terminal,
      periodic log lines otherwise. If widgets can't be shown in Jupyter, text is used
      instead, with one warning per process.
    - ``"widget"``, ``"console"``, ``"log"``: that front-end (``"widget"`` falls back to
      text, with the warning, when ipywidgets is unusable).
    - any object with ``update``/``close`` (a :class:`ProgressReporter`): used as is.

    >>> auto_progress(False) is None
    True
    >>> type(auto_progress("log")).__name__
    'LogProgress'
    """
    if progress is None or progress is False:
        return None
    if isinstance(progress, ProgressReporter) and not isinstance(progress, str):
        return progress
    if progress is True or progress == "auto":
        if in_jupyter_kernel():
            return _widget_or_text()
        return _text_reporter()
    if progress == "widget":
        return _widget_or_text()
    if progress == "console":
        from .console import ConsoleProgress

        return ConsoleProgress()
    if progress == "log":
        from .log import LogProgress

        return LogProgress()
    raise ValueError(
        "progress must be True, False, 'auto', 'widget', 'console', 'log' or an object "
        f"with update() and close(), not {progress!r}"
    )


def in_jupyter_kernel() -> bool:
    """True inside a Jupyter kernel (not a plain IPython terminal), without importing IPython."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False  # nothing imported IPython, so no kernel is running us
    try:
        ip = ipython.get_ipython()
    except Exception:
        return False
    if ip is None:
        return False
    return "IPKernelApp" in getattr(ip, "config", {}) or hasattr(ip, "kernel")


def _widget_or_text() -> ProgressReporter:
    problem = _widgets_problem()
    if problem is None:
        from .widget import WidgetProgress

        return WidgetProgress()
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            f"nexio_lab: progress widget unavailable ({problem}); showing text progress instead",
            RuntimeWarning,
            stacklevel=3,
        )
    # In a notebook stderr is no TTY, yet the output area handles a live tqdm line well.
    if in_jupyter_kernel():
        from .console import ConsoleProgress

        return ConsoleProgress()
    return _text_reporter()


def _widgets_problem() -> str | None:
    """Why ipywidgets can't show a display here, or None when it can."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError as exc:
        return f"ipywidgets not importable: {exc}"
    if not in_jupyter_kernel():
        return "not running in a Jupyter kernel"
    return None


def _text_reporter(stream: IO[str] | None = None) -> ProgressReporter:
    stream = stream or sys.stderr
    if _isatty(stream):
        from .console import ConsoleProgress

        return ConsoleProgress()
    from .log import LogProgress

    return LogProgress()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False
