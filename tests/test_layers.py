"""The package's layers: no import cycle between its parts (function-local imports count too), each
function-local import of the package says why it is local, and tags are read by media.metadata alone."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import geoforensics

PACKAGE = Path(geoforensics.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        rel = f.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


MODULES = _modules()


def _target(module: str, node: ast.ImportFrom | ast.Import, alias: ast.alias) -> str | None:
    """The package module an import names (a name imported from a package counts as its module when it is one)."""
    if isinstance(node, ast.Import):
        name = alias.name
    else:
        if node.level:
            base = module.split(".")
            is_package = MODULES[module].name == "__init__.py"
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        if f"{name}.{alias.name}" in MODULES:
            name = f"{name}.{alias.name}"
    return name if name.split(".")[0] == "geoforensics" else None


def imports() -> list[tuple[str, str, bool, int, str]]:
    """(module, imported module, local to a function, line, the line's text) of every import of the package."""
    out = []
    for module, path in MODULES.items():
        source = path.read_text()
        lines = source.splitlines()
        tree = ast.parse(source)
        local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                 for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
        typing_only = {id(n) for i in ast.walk(tree) if isinstance(i, ast.If) and "TYPE_CHECKING" in ast.unparse(i.test)
                       for n in ast.walk(i) if isinstance(n, (ast.Import, ast.ImportFrom))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in typing_only:
                for alias in node.names:
                    target = _target(module, node, alias)
                    if target is not None and target != module:
                        out.append((module, target, id(node) in local, node.lineno, lines[node.lineno - 1]))
    return out


def part(module: str) -> str:
    """The part of the package a module belongs to: its subpackage, or the module itself at the top."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_between_the_parts_of_the_package():
    edges: dict[str, set[str]] = defaultdict(set)
    for module, target, _, _, _ in imports():
        a, b = part(module), part(target)
        if a != b and b != "geoforensics":
            edges[a].add(b)
    assert cycles(edges) == []


def test_only_media_metadata_reads_tags_and_no_model_reaches_it():
    readers = {m for m, t, _, _, _ in imports() if t == "geoforensics.media.metadata"}
    assert all(not r.startswith(("geoforensics.geolocators", "geoforensics.models", "geoforensics.ranges",
                                 "geoforensics.audio")) for r in readers), readers


def test_every_function_local_import_of_the_package_says_why():
    unexplained = [f"{m}:{line}: {text.strip()}" for m, _, local, line, text in imports() if local and "#" not in text]
    assert unexplained == []


