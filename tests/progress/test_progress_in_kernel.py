"""auto_progress inside a real ipykernel: detection of Jupyter is only trustworthy there."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest
from jupyter_client.manager import start_new_kernel

CODE = textwrap.dedent(
    """
    import sys, warnings
    from nexio_lab.progress import auto_progress, in_jupyter_kernel
    from nexio_lab.progress.widget import WidgetProgress
    print("kernel", in_jupyter_kernel())
    print("auto", type(auto_progress()).__name__)
    sys.modules["ipywidgets"] = None  # a kernel without ipywidgets
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = auto_progress(), auto_progress("widget")
    print("fallback", type(first).__name__, type(second).__name__, len(caught))
    """
)


@pytest.fixture(scope="module")
def kernel() -> Iterator[object]:
    # The native "python3" kernel runs sys.executable, i.e. this venv.
    km, kc = start_new_kernel(kernel_name="python3", startup_timeout=60)
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_auto_picks_the_widget_in_a_kernel_and_falls_back_once(kernel) -> None:
    out: list[str] = []

    def on_output(msg: dict) -> None:
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])

    reply = kernel.execute_interactive(CODE, output_hook=on_output, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    lines = "".join(out).split("\n")
    assert "kernel True" in lines
    assert "auto WidgetProgress" in lines
    # No TTY in a kernel, but its output area draws a live tqdm line well.
    assert "fallback ConsoleProgress ConsoleProgress 1" in lines
