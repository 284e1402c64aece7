"""The codebase's own checks: ruff and mypy --strict, as configured in pyproject.toml,
and the layer contract of docs/architecture.md.

They run as tests so that the README's one test command (and CI) enforces them.
The tool checks are skipped only where the dev tools are not installed, which
``scripts/bootstrap`` always does.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/bootstrap installs it)")
    return path


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [_tool("ruff"), "check", "--output-format", "concise", "."],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = subprocess.run(
        [_tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_is_typed() -> None:
    assert (REPO / "csp11" / "py.typed").exists()


# ---- the layer contract (docs/architecture.md) ---------------------------------------
# Bottom to top.  A module may import from its own layer and the layers below
# it, never from one above; no two modules may import each other, however
# indirectly.  A name ending in "." is a package: every module under it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("constants", ("csp11.winerror", "csp11.win32cryptcon", "csp11.pywintypes")),
    ("base", ("csp11.errors", "csp11.args", "csp11.structs", "csp11.logs",
              "csp11.interrupts")),
    ("formats", ("csp11.formats.",)),
    ("token", ("csp11.token.",)),
    ("model", ("csp11.model.",)),
    ("core", ("csp11.core.",)),
    ("ops", ("csp11.ops.",)),
    ("public", ("csp11", "csp11.win32crypt", "csp11.interop")),
    ("application", ("csp11.filecrypt", "csp11.cli", "csp11.__main__", "csp11.keyscli",
                     "csp11.safefiles")),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer_of(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            if module == member.rstrip(".") or (member.endswith(".") and module.startswith(member)):
                return index
    raise AssertionError(f"{module} is in no layer of LAYERS (docs/architecture.md)")


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """The csp11 modules an ``from X import a, b`` names (a may be a submodule)."""
    base = node.module or ""
    if node.level:
        package = module.split(".")[: -node.level] if not _is_package(module) else (
            module.split(".")[: len(module.split(".")) - node.level + 1])
        base = ".".join([*package, *([base] if base else [])])
    targets = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        targets.append(candidate if candidate in _MODULES else base)
    return targets


def _is_package(module: str) -> bool:
    return _MODULES.get(module, Path()).name == "__init__.py"


_MODULES = {_module_name(path): path for path in sorted((REPO / "csp11").rglob("*.py"))}


def import_edges(sources: dict[str, str] | None = None) -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at module level) for every import of a csp11
    module inside csp11, function-local ones included, read by parsing."""
    edges = []
    for module, path in _MODULES.items():
        text = (sources or {}).get(module, path.read_text())
        tree = ast.parse(text)
        top = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _resolve(module, node)
            else:
                continue
            for name in names:
                if name == "csp11" or name.startswith("csp11."):
                    edges.append((module, name, node.lineno, id(node) in top))
    return edges


def contract_violations(edges: list[tuple[str, str, int, bool]]) -> list[str]:
    """What breaks the layer contract: upward imports, local imports, cycles."""
    problems = []
    graph: dict[str, set[str]] = {module: set() for module in _MODULES}
    for importer, imported, line, at_top in edges:
        if imported == importer:
            continue
        graph[importer].add(imported)
        if not at_top:
            problems.append(f"{importer}:{line} imports {imported} inside a function or block")
        if _layer_of(imported) > _layer_of(importer):
            problems.append(
                f"{importer}:{line} ({LAYERS[_layer_of(importer)][0]}) imports {imported} "
                f"({LAYERS[_layer_of(imported)][0]}): upward"
            )
    problems += [f"import cycle: {' -> '.join(cycle)}" for cycle in _cycles(graph)]
    return problems


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [[*group, group[0]] for group in groups]


def test_every_module_has_a_layer() -> None:
    for module in _MODULES:
        _layer_of(module)


def test_imports_go_only_downward_and_never_in_a_circle() -> None:
    assert contract_violations(import_edges()) == []


def suppression_problems(sources: dict[str, str]) -> list[str]:
    """Where ``# noqa: PLC0415`` (an import inside a function) is not allowed.

    Allowed only to keep a costly third-party module off every process's
    start (docs/performance.md "Cold start"): on an import of a module outside
    csp11 (csp11's own modules are never deferred; the layer contract sees
    those imports anyway), with "cold start" said in the comment on that line
    or the three above it.
    """
    problems = []
    for module, text in sources.items():
        lines = text.splitlines()
        imports = {node.lineno: node for node in ast.walk(ast.parse(text))
                   if isinstance(node, (ast.Import, ast.ImportFrom))}
        for number, line in enumerate(lines, 1):
            if "PLC0415" not in line:
                continue
            node = imports.get(number)
            names = ([] if node is None else [alias.name for alias in node.names]
                     if isinstance(node, ast.Import) else [node.module or ""])
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            if node is None or relative or any(
                    name == "csp11" or name.startswith("csp11.") for name in names):
                problems.append(f"{module}:{number}: PLC0415 on no import of a third-party module")
            elif not any("cold start" in above for above in lines[max(0, number - 4):number]):
                problems.append(f"{module}:{number}: PLC0415 without its cold-start reason")
    return problems


def test_only_third_party_imports_are_deferred_and_each_says_why() -> None:
    assert suppression_problems({m: p.read_text() for m, p in _MODULES.items()}) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def f() -> None:\n    from csp11 import errors  # noqa: PLC0415 (cold start)\n",
         "no import of a third-party"),
        ("def f() -> None:\n    from . import errors  # noqa: PLC0415 (cold start)\n",
         "no import of a third-party"),
        ("def f() -> None:\n    import json  # noqa: PLC0415\n", "without its cold-start"),
        ("x = 1  # noqa: PLC0415 (cold start)\n", "no import of a third-party"),
    ],
)
def test_the_suppression_check_catches_what_it_forbids(source: str, expected: str) -> None:
    problems = suppression_problems({"csp11.example": source})
    assert any(expected in problem for problem in problems), problems
    assert suppression_problems({"csp11.example": "def f() -> None:\n    # cold start\n"
                                 "    import json  # noqa: PLC0415\n"}) == []


@pytest.mark.parametrize(
    ("added", "expected"),
    [
        # core importing an operation: upward.
        ({"csp11.core.key": "from csp11.ops.cipher import encrypt"}, "upward"),
        # an import inside a function, even of a lower layer.
        ({"csp11.ops.cipher": "def _late() -> None:\n    from csp11 import errors"},
         "inside a function"),
        # two modules of one layer importing each other: a circle.
        ({"csp11.core.policy": "from csp11.core import templates",
          "csp11.core.templates": "from csp11.core import policy"}, "import cycle"),
    ],
)
def test_the_contract_catches_what_it_forbids(added: dict[str, str], expected: str) -> None:
    sources = {module: _MODULES[module].read_text() + "\n" + line + "\n"
               for module, line in added.items()}
    problems = contract_violations(import_edges(sources))
    assert any(expected in problem for problem in problems), problems


def test_only_the_token_layer_imports_python_pkcs11() -> None:
    offenders = [
        module
        for module, path in _MODULES.items()
        if _layer_of(module) != _layer_of("csp11.token")
        and any(
            isinstance(node, (ast.Import, ast.ImportFrom))
            and any(
                (name or "").split(".")[0] == "pkcs11"
                for name in ([node.module] if isinstance(node, ast.ImportFrom)
                             else [alias.name for alias in node.names])
            )
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert offenders == []
