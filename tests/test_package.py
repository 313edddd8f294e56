"""The public surface: one sorted ``__all__``, every name importable, a light import."""

from __future__ import annotations

import subprocess
import sys

import nexio_lab
import nexio_lab.batch
import nexio_lab.explorer
import nexio_lab.plots
import nexio_lab.progress
import nexio_lab.report
import nexio_lab.results
import nexio_lab.sandbox


def test_every_all_is_sorted_and_importable() -> None:
    for module in (
        nexio_lab,
        nexio_lab.batch,
        nexio_lab.explorer,
        nexio_lab.progress,
        nexio_lab.report,
        nexio_lab.results,
        nexio_lab.sandbox,
    ):
        assert module.__all__ == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_import_does_not_load_heavy_parts() -> None:
    code = (
        "import sys, nexio_lab; "
        "print(sorted(m for m in ('pandas', 'matplotlib', 'ipywidgets', 'uvicorn') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def _public_callables() -> list[tuple[str, object]]:
    """Every public function, class, method and property reachable from the package's
    ``__all__`` (names not starting with an underscore)."""
    import inspect

    found: list[tuple[str, object]] = []
    for module in (
        nexio_lab,
        nexio_lab.batch,
        nexio_lab.explorer,
        nexio_lab.plots,
        nexio_lab.progress,
        nexio_lab.report,
        nexio_lab.results,
    ):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found.append((f"{module.__name__}.{name}", obj))
            elif (
                inspect.isclass(obj)
                and obj.__module__.startswith("nexio_lab")
                and not issubclass(obj, BaseException)  # Exception's own signature
                and not getattr(obj, "_is_protocol", False)  # a Protocol has no __init__
            ):
                found.append((f"{module.__name__}.{name}", obj))
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, property | classmethod) or inspect.isfunction(member):
                        found.append((f"{obj.__name__}.{attr}", member))
    return found


def test_the_public_api_is_documented() -> None:
    missing = [
        name
        for name, obj in _public_callables()
        if not name.endswith("__init__") and not (getattr(obj, "__doc__", None) or "").strip()
    ]
    assert not missing, f"no docstring: {missing}"


def test_public_signatures_show_their_options() -> None:
    """Shift-Tab in Jupyter must help: no public callable hides options in **kwargs."""
    import inspect

    hidden = []
    for name, obj in _public_callables():
        target = obj.fget if isinstance(obj, property) else obj
        target = target.__func__ if isinstance(target, classmethod) else target
        try:
            parameters = inspect.signature(target).parameters.values()  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if any(p.kind is p.VAR_KEYWORD for p in parameters):
            hidden.append(name)
    assert not hidden, f"options hidden behind **kwargs: {hidden}"
