"""The layers of the package, as the README's Architecture section draws them, hold.

Runtime imports only (those under ``if TYPE_CHECKING:`` never run). The core (``_*.py``
modules) imports nothing above it; the sandbox stands alone (it plays the service); no module
outside the clients and the transport reaches into a client's private parts; and the import
drawing has at most one circle, between results and plots (the ``.plot`` accessor).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nexio_lab

PACKAGE = Path(nexio_lab.__file__).parent
CORE = {p.stem for p in PACKAGE.glob("_*.py") if p.stem != "__init__"}
#: what may sit on top of what: a layer imports only the layers listed for it (and core)
ALLOWED = {
    "core": set(),
    "sandbox": set(),
    "progress": set(),
    "results": {"plots"},
    "plots": {"results"},
    "batch": {"progress", "results", "plots", "report"},
    "report": {"results", "plots"},
    "explorer": {"results", "plots"},
    "_client": {"batch", "progress"},
}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    head = parts[1]
    if head == "_client":
        return "_client"
    return "core" if head in CORE else head


def runtime_imports() -> dict[str, set[str]]:
    """module -> the nexio_lab modules it imports when it runs."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        is_init = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_init else parts)
        package = module if is_init else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text())
        typing_only = {
            id(sub)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for sub in ast.walk(node)
        }
        targets = found.setdefault(module, set())
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets.update(
                    [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                )
            elif isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
        found[module] = {t for t in targets if t.startswith("nexio_lab")}
    return found


def test_each_layer_imports_only_what_is_below_it() -> None:
    wrong = []
    for module, targets in runtime_imports().items():
        source = _layer(module)
        if source not in ALLOWED:
            continue  # the top: cli, demo, the package's __init__
        for target in targets:
            layer = _layer(target)
            if layer not in {"core", source, "__init__"} and layer not in ALLOWED[source]:
                wrong.append(f"{module} -> {target}")
            if source == "core" and layer != "core":
                wrong.append(f"{module} -> {target} (the core reaches up)")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_the_import_drawing_has_at_most_the_plot_accessor_circle() -> None:
    edges: dict[str, set[str]] = {}
    for module, targets in runtime_imports().items():
        source = _layer(module)
        for target in targets:
            if _layer(target) not in {source, "__init__"}:
                edges.setdefault(source, set()).add(_layer(target))
    circles = {frozenset({a, b}) for a in edges for b in edges[a] if a in edges.get(b, set())}
    assert circles <= {frozenset({"results", "plots"})}, circles


def test_no_private_client_access_outside_the_clients() -> None:
    pattern = re.compile(r"\bclient\._(?!_)|\._async\.|\btransport\._(?!_)")
    offenders = [
        f"{path.relative_to(PACKAGE)}:{number}"
        for path in PACKAGE.rglob("*.py")
        if path.name not in {"_client.py", "_transport.py"}
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders
