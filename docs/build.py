"""Build the HTML API reference from the docstrings with pdoc: ``./run docs [--out DIR]``.

Every warning pdoc emits (a name in ``__all__`` that does not resolve, a docstring it
cannot parse, a broken cross-reference...) fails the build, so CI keeps the docs honest.
Output goes to ``docs/api/`` (git-ignored) by default.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from pathlib import Path

#: The public modules documented (pdoc lists a package's submodules only when its
#: ``__all__`` names them, so each is given).
MODULES = (
    "nexio_lab",
    "nexio_lab.batch",
    "nexio_lab.results",
    "nexio_lab.plots",
    "nexio_lab.explorer",
    "nexio_lab.report",
    "nexio_lab.progress",
    "nexio_lab.sandbox",
    "nexio_lab.demo",
)


def _resolve_lazy_names(module_name: str) -> None:
    # nexio_lab loads its heavy parts on first use (module __getattr__); pdoc looks names of
    # __all__ up in the module's __dict__, so load them there first.
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        setattr(module, name, getattr(module, name))


def build(out: Path) -> list[str]:
    """Write the reference into ``out``; return pdoc's warnings (empty when clean)."""
    import pdoc
    import pdoc.render

    for name in MODULES:
        _resolve_lazy_names(name)
    pdoc.render.configure(docformat="restructuredtext", show_source=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*MODULES, output_directory=out)
    pdoc_dir = str(Path(pdoc.__file__).parent)
    return [
        f"{w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if w.filename.startswith(pdoc_dir) or issubclass(w.category, UserWarning)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "api")
    args = parser.parse_args(argv)
    problems = build(args.out)
    for problem in problems:
        print(f"docs: warning: {problem}", file=sys.stderr)
    if problems:
        print(f"docs: {len(problems)} warning(s): failing (warnings are errors)", file=sys.stderr)
        return 1
    print(f"docs: API reference written to {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
