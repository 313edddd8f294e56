"""In a real Jupyter kernel, nexio-lab's sync calls work without patching the kernel's loop.

The README says nest-asyncio is not needed and must not be applied for this: the sync Client
runs its coroutines on a private loop thread. A library that called ``nest_asyncio.apply()``
(or nest-asyncio2's) would change every later asyncio call in the user's kernel; this test
looks for each mark such a patch leaves, before and after a batch, a wait and an awaited
batch ran in cells.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jupyter_client
import pytest

PROBE = """
import asyncio, json, sys
_loop = asyncio.get_running_loop()
def _marks():
    return {
        "loop_patched": hasattr(_loop, "_nest_patched"),
        "loop_class_patched": any("_nest_patched" in vars(c) for c in type(_loop).__mro__),
        "asyncio_patched": hasattr(asyncio, "_nest_patched"),
        "asyncio_run": f"{asyncio.run.__module__}.{asyncio.run.__qualname__}",
        "new_loop_patched": hasattr(asyncio.new_event_loop(), "_nest_patched"),
        "modules": sorted(m for m in sys.modules if m.startswith("nest_asyncio")),
    }
"""

RUN = """
from nexio_lab import AsyncClient, Client, sandbox
_sb = sandbox.run(speed=1000)
with Client(_sb.api_key, base_url=_sb.url) as _c:
    _b = _c.run_batch([{"entity": "a"}, {"entity": "b"}], pool="carriers:all",
                      store=STORE, name="nb", progress=False)
    _ev = _c.wait(_c.submit({"entity": "c"}, pool="carriers:all").eval_id, poll_interval=0.05)
_counts = _b.status_counts()
"""

AWAIT = """
async with AsyncClient(_sb.api_key, base_url=_sb.url) as _ac:
    _ab = await _ac.run_batch([{"entity": "d"}], pool="carriers:all", store=STORE,
                              name="nb-async", progress=False)
_sb.stop()
print(json.dumps({"before": _before, "after": _marks(), "counts": _counts,
                  "async_counts": _ab.status_counts(), "status": _ev.status}))
"""


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXIO_")}
    env["NEXIO_LAB_HOME"] = str(tmp_path / "home")
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, extra_arguments=[], cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _execute(kernel: Any, code: str) -> str:
    out: list[str] = []
    errors: list[str] = []

    def hook(message: dict[str, Any]) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            out.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    reply = kernel.execute_interactive(code, output_hook=hook, timeout=120)
    assert reply["content"]["status"] == "ok" and not errors, "\n".join(errors)
    return "".join(out)


@pytest.mark.notebook
@pytest.mark.timeout(240)
def test_the_kernels_loop_is_not_patched(kernel: Any, tmp_path: Path) -> None:
    check = _execute(kernel, "import sys; print(sys.executable)")
    assert Path(check.strip()).resolve() == Path(sys.executable).resolve()  # this venv's kernel
    _execute(kernel, PROBE + f"\nSTORE = {str(tmp_path / 'j.sqlite')!r}\n_before = _marks()")
    _execute(kernel, RUN)
    found = json.loads(_execute(kernel, AWAIT).strip().splitlines()[-1])
    assert found["counts"]["completed"] == 2 and found["async_counts"]["completed"] == 1
    assert found["status"] == "completed"
    unpatched = {
        "loop_patched": False,
        "loop_class_patched": False,
        "asyncio_patched": False,
        "asyncio_run": "asyncio.runners.run",
        "new_loop_patched": False,
    }
    modules = {moment: found[moment].pop("modules") for moment in ("before", "after")}
    assert modules["after"] == modules["before"], modules  # no nest-asyncio imported by us
    for moment in ("before", "after"):
        assert found[moment] == unpatched, f"{moment}: {found[moment]}"
