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


def _annotations_pdoc_can_read() -> None:
    """Make two kinds of annotation evaluable at run time, as a type checker reads them.

    * A string type alias (``ProfileSource: TypeAlias = "pd.DataFrame | ..."``) names what
      its module imports under TYPE_CHECKING only (so that ``import nexio_lab`` stays
      light); pdoc would evaluate it in each module that uses it. It is evaluated once in
      its own module (TYPE_CHECKING sections run, as pdoc does) and exported as the type.
    * A NamedTuple's generated ``__new__`` belongs to no importable module, so pdoc finds
      no namespace for its string annotations: it is given its class's module.
    """
    from pdoc.doc_types import _eval_type_checking_sections

    modules = [m for n, m in list(sys.modules.items()) if n.split(".")[0] == "nexio_lab"]
    for module in modules:
        for name, annotation in list(getattr(module, "__annotations__", {}).items()):
            value = module.__dict__.get(name)
            if "TypeAlias" not in str(annotation) or not isinstance(value, str):
                continue
            _eval_type_checking_sections(module, set())
            resolved = eval(value, dict(module.__dict__))  # our own alias, our own code
            for other in modules:
                for attr, current in list(vars(other).items()):
                    if current is value:
                        setattr(other, attr, resolved)
        for obj in list(vars(module).values()):
            if isinstance(obj, type) and issubclass(obj, tuple) and hasattr(obj, "_fields"):
                obj.__new__.__module__ = obj.__module__


def build(out: Path) -> list[str]:
    """Write the reference into ``out``; return pdoc's warnings (empty when clean)."""
    import pdoc
    import pdoc.render

    for name in MODULES:
        _resolve_lazy_names(name)
    _annotations_pdoc_can_read()
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
