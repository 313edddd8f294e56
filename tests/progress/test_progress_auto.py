from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import pytest

from nexio_lab.progress import (
    ConsoleProgress,
    LogProgress,
    ProgressReporter,
    WidgetProgress,
    auto,
    auto_progress,
)


@pytest.fixture(autouse=True)
def fresh_warning_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auto, "_warned", False)


def test_false_and_none_silence() -> None:
    assert auto_progress(False) is None
    assert auto_progress(None) is None


def test_named_choices() -> None:
    assert isinstance(auto_progress("console"), ConsoleProgress)
    assert isinstance(auto_progress("log"), LogProgress)


def test_a_reporter_is_passed_through() -> None:
    class Mine:
        def update(self, snapshot) -> None: ...
        def close(self, snapshot) -> None: ...

    mine = Mine()
    assert auto_progress(mine) is mine
    widget = WidgetProgress(display=False)
    assert auto_progress(widget) is widget


@pytest.mark.parametrize("bad", ["tqdm", 1, object()])
def test_unknown_choice_is_a_clear_error(bad) -> None:
    with pytest.raises(ValueError, match="progress must be"):
        auto_progress(bad)


def test_auto_in_a_plain_non_tty_process_logs() -> None:
    code = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("error")
        from nexio_lab.progress import auto_progress
        print(type(auto_progress()).__name__, type(auto_progress(True)).__name__)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.split() == ["LogProgress", "LogProgress"]


def test_auto_on_a_tty_is_a_console_line(monkeypatch) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert isinstance(auto_progress("auto"), ConsoleProgress)


def test_widgets_missing_fall_back_to_text_with_one_warning(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import raises ImportError
    with pytest.warns(RuntimeWarning, match="ipywidgets not importable") as caught:
        first = auto_progress("widget")
    assert len(caught) == 1
    assert isinstance(first, ProgressReporter)
    assert isinstance(first, (ConsoleProgress, LogProgress))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        second = auto_progress("widget")
    assert isinstance(second, (ConsoleProgress, LogProgress))


def test_widget_outside_a_kernel_falls_back_with_the_reason() -> None:
    with pytest.warns(RuntimeWarning, match="not running in a Jupyter kernel"):
        reporter = auto_progress("widget")
    assert not isinstance(reporter, WidgetProgress)
