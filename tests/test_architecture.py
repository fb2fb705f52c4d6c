"""The shape of the code, read from its imports: no import circles among ``sync`` modules,
backends that never reach up into the flow, pure models free of rendering and Google code.

The graph is built from the source with ``ast`` (no module is imported), counting every
import: at the top of a module, inside functions, under ``TYPE_CHECKING``. A package's own
``__init__`` is not an edge of the modules inside it (Python runs it first, whatever they
import), so only imports written in the code count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SYNC = Path(__file__).resolve().parent.parent / "sync"

#: What a backend may reach, directly or through what it imports: the foundations (errors,
#: configuration, package data, layouts and vocabulary, text and value parsing, findings,
#: crash points), the pure models and pure pipeline steps. Never the orchestration above
#: them (pipeline, provisioning, state, lock, CLI, reports, the demo). A new foundation
#: module a backend needs goes here, with the reason it belongs below the backends.
BACKENDS_MAY_USE = frozenset(
    {
        "sync.errors",
        "sync.config",
        "sync.resources",
        "sync.faults",
        "sync.text",
        "sync.units",
        "sync.layout",
        "sync.findings",
        "sync.values",
        "sync.legacy",
        "sync.controls",
        "sync.flags",
        "sync.charts",
        "sync.normalize",
        "sync.headers",  # what header texts mean: part of normalize
        "sync.registry",
        "sync.summarize",
    }
)

#: Pure models: data and rules, no rendering library, no Google client, no I/O library.
PURE_MODELS = ("sync.controls", "sync.flags", "sync.charts", "sync.units")
RENDERING_OR_IO = frozenset({"openpyxl", "google", "gspread", "requests", "googleapiclient"})


def module_name(path: Path, root: Path = SYNC) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path = SYNC) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """``(edges, external)``: each module of the package at ``root`` → the package's
    modules it imports, and → the top-level names of other packages it imports."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    package = root.name
    edges: dict[str, set[str]] = {m: set() for m in files}
    external: dict[str, set[str]] = {m: set() for m in files}

    def add(source: str, target: str, names: list[str]) -> None:
        if target.split(".")[0] != package:
            external[source].add(target.split(".")[0])
            return
        for name in names:
            if f"{target}.{name}" in files:
                edges[source].add(f"{target}.{name}")
            elif target in files:
                edges[source].add(target)
        if not names and target in files:
            edges[source].add(target)

    for module, path in files.items():
        is_package = path.name == "__init__.py"
        here = module.split(".") if is_package else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(module, alias.name, [])
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here[: len(here) - (node.level - 1)]
                    target = ".".join([*base, node.module] if node.module else base)
                else:
                    target = node.module or ""
                add(module, target, [a.name for a in node.names])
    for module in edges:
        edges[module].discard(module)
    return edges, external


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(found)


def path_between(edges: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """A shortest import chain from ``start`` to ``goal`` (breadth first), or None."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        if v == goal:
            chain = [v]
            while (p := previous[chain[-1]]) is not None:
                chain.append(p)
            return chain[::-1]
        for w in sorted(edges.get(v, ())):
            if w not in previous:
                previous[w] = v
                queue.append(w)
    return None


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in edges.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


GRAPH, EXTERNAL = import_graph()


def a_circle(edges: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest import chain that starts and ends at the component's first module."""
    start = component[0]
    inside = {m: edges[m] & set(component) for m in component}
    chains = [path_between(inside, w, start) for w in sorted(inside[start])]
    return [start, *min((c for c in chains if c), key=len)]


def test_no_import_circles_among_sync_modules():
    found = circles(GRAPH)
    assert not found, "import circles:\n" + "\n".join(
        f"{', '.join(c)}\n    e.g. {' → '.join(a_circle(GRAPH, c))}" for c in found
    )


def test_backends_never_reach_up_into_the_flow():
    backends = [m for m in GRAPH if m.startswith("sync.backends")]
    assert "sync.backends.local" in backends and "sync.backends.google" in backends
    problems = []
    for module in backends:
        for target in sorted(reachable(GRAPH, module)):
            if target.startswith("sync.backends") or target in BACKENDS_MAY_USE:
                continue
            chain = path_between(GRAPH, module, target)
            problems.append(" → ".join(chain or [module, target]))
    assert not problems, "backends reaching above their layer:\n" + "\n".join(problems)


@pytest.mark.parametrize("model", PURE_MODELS)
def test_pure_models_import_no_rendering_or_google_code(model):
    if model not in GRAPH:
        pytest.skip(f"{model} does not exist")
    modules = {model, *reachable(GRAPH, model)}
    used = {m: EXTERNAL[m] & RENDERING_OR_IO for m in modules}
    assert not any(used.values()), {m: sorted(u) for m, u in used.items() if u}


def _spellings(tree: ast.AST) -> set[str]:
    """What a module spells out that has one home elsewhere: a rating code, a spreadsheet
    number-format pattern, the sheet epoch, a fixed UTC offset."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in RATING_CODES:
                found.add(f"rating code {node.value!r} (mappings/vocab.toml)")
            if node.value in NUMBER_PATTERNS:
                found.add(f"number format {node.value!r} (sync.units.NUMBER_FORMATS)")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            numbers = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if name in ("date", "datetime") and numbers[:1] == [1899]:
                found.add("the sheet epoch (sync.units.SHEET_EPOCH)")
            if name == "timezone" or (
                name == "timedelta" and any(k.arg == "hours" for k in node.keywords)
            ):
                found.add("a time zone (sync.units.VIETNAM)")
    return found


RATING_CODES = ("HTXSNV", "HTTNV", "HTNV", "KHTNV")
NUMBER_PATTERNS = ("dd/mm/yyyy", "dd/mm/yyyy hh:mm", "0.0%", "#,##0")
#: Where those are allowed: their one home, and the demo (a fixture that writes sheets the
#: way communes do, and states the ratings it expects).
SPELLING_HOMES = ("sync.units", "sync.demo")


def test_shared_vocabulary_and_units_are_spelled_in_one_place():
    spelled = {}
    for path in sorted(SYNC.rglob("*.py")):
        module = module_name(path)
        if module.startswith(SPELLING_HOMES):
            continue
        found = _spellings(ast.parse(path.read_text(encoding="utf-8")))
        if found:
            spelled[module] = sorted(found)
    assert not spelled, spelled


def test_spelling_check_sees_each_kind_of_repetition():
    source = (
        'RATING = "HTXSNV"\nFORMAT = "#,##0"\nEPOCH = date(1899, 12, 30)\n'
        "ZONE = timezone(timedelta(hours=7))\n"
    )
    assert len(_spellings(ast.parse(source))) == 4
    assert _spellings(ast.parse('"""The ratings (HTXSNV …) and dd/mm/yyyy."""\n')) == set()


# -- the checker itself, on small made-up packages ---------------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_checker_finds_a_circle_made_by_an_import_inside_a_function(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from .b import thing\n",
            "b.py": "def f():\n    from .sub.c import other\n",
            "sub/__init__.py": "",
            "sub/c.py": "from .. import a\n",
        },
    )
    edges, _ = import_graph(root)
    assert circles(edges) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
    assert a_circle(edges, ["pkg.a", "pkg.b", "pkg.sub.c"]) == [
        "pkg.a",
        "pkg.b",
        "pkg.sub.c",
        "pkg.a",
    ]


def test_checker_resolves_relative_and_absolute_imports_and_ignores_other_packages(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .a import x\n",
            "a.py": "import os\nimport openpyxl.styles\nfrom pkg.sub import c\n",
            "sub/__init__.py": "from .c import y\n",
            "sub/c.py": "from ..a import x\n",
        },
    )
    edges, external = import_graph(root)
    assert edges["pkg.a"] == {"pkg.sub.c"}
    assert edges["pkg"] == {"pkg.a"} and edges["pkg.sub"] == {"pkg.sub.c"}
    assert external["pkg.a"] == {"os", "openpyxl"}
    assert circles(edges) == [["pkg.a", "pkg.sub.c"]]


def test_checker_finds_no_circle_in_a_layered_package(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .top import run\n",
            "top.py": "from .low import x\nfrom . import low\n",
            "low.py": "import json\n",
        },
    )
    edges, _ = import_graph(root)
    assert circles(edges) == []
    assert reachable(edges, "pkg.top") == {"pkg.low"}
