"""The layers of ``bot/`` only point down, and no module imports itself round a circle.

From the bottom: the domain rules, the settings, the case store, the web plumbing (and the
database migrations beside it), the three faces of the back office (JSON API, staff console,
citizen pages, which never import each other), the application that mounts them, the command
line. Every import is read from the source with ``ast`` — module level, inside functions and
under ``TYPE_CHECKING`` alike — so that a new upward or circular import fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / "bot"

# Component (a package or a module of bot/) -> its layer; higher layers may import lower ones.
LAYERS: dict[str, int] = {
    "bot": 0,  # the package itself (empty)
    "bot.rules": 0,
    "bot.settings": 1,
    "bot.ops": 2,  # the production launcher's helpers (scripts/prod.py)
    "bot.store": 2,
    "bot.migrations": 3,
    "bot.web": 3,
    "bot.api": 4,
    "bot.console": 4,
    "bot.citizen": 4,
    "bot.app": 5,
    "bot.__main__": 6,
}


def component(module: str) -> str:
    """The longest prefix of ``module`` named in LAYERS."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS:
            return name
    raise KeyError(f"{module} belongs to no layer: add its package to LAYERS")


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, module: str, known: set[str]) -> set[str]:
    """The modules of ``known`` that the file at ``path`` imports, wherever the import is."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # "from bot.store import cases" imports the module bot.store.cases; "from bot.store
            # import X" of any other name takes it from the package itself.
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                found.add(name)
    return found


def import_graph(root: Path, package: str = "bot") -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in (root / package).rglob("*.py")}
    known = set(files)
    return {module: imports_of(path, module, known) for module, path in files.items()}


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Imports of a higher layer, or of a sibling component of the same layer."""
    wrong = []
    for module, targets in sorted(graph.items()):
        mine = component(module)
        for target in sorted(targets):
            theirs = component(target)
            if theirs == mine or theirs == "bot":
                continue
            if LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{module} -> {target} ({mine} is layer {LAYERS[mine]}, "
                             f"{theirs} layer {LAYERS[theirs]})")
    return wrong


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    for module in import_graph(ROOT):
        component(module)


def test_no_import_points_up_or_sideways():
    assert upward_imports(import_graph(ROOT)) == []


def test_no_import_circle():
    assert circles(import_graph(ROOT)) == []


def test_the_walk_sees_every_kind_of_import(tmp_path):
    """The checker itself: an upward import hidden in a function or under TYPE_CHECKING, a
    relative import and a circle are all found."""
    pkg = tmp_path / "bot"
    for folder in ("store", "web", "console", "api"):
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "store" / "cases.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.web.keys import SETTINGS\n"
    )
    (pkg / "store" / "users.py").write_text("def f():\n    from bot.console import views\n")
    (pkg / "web" / "keys.py").write_text("from . import auth\n")
    (pkg / "web" / "auth.py").write_text("from bot.web import keys\n")
    (pkg / "console" / "views.py").write_text("from bot.api import cases\n")
    (pkg / "api" / "cases.py").write_text("from bot.store import cases\n")
    graph = import_graph(tmp_path)
    assert graph["bot.web.keys"] == {"bot.web.auth"}
    assert upward_imports(graph) == [
        "bot.console.views -> bot.api.cases (bot.console is layer 4, bot.api layer 4)",
        "bot.store.cases -> bot.web.keys (bot.store is layer 2, bot.web layer 3)",
        "bot.store.users -> bot.console.views (bot.store is layer 2, bot.console layer 4)",
    ]
    assert circles(graph) == [["bot.web.auth", "bot.web.keys"]]


@pytest.mark.parametrize("folder", ["actions", "connectors"])
def test_the_rasa_side_uses_only_rules_settings_and_the_rate_limiter(folder):
    """The action server and the input channels share the domain rules and the settings with
    the back office (and the channels its rate limiter); never its web layers."""
    allowed = ("bot.rules", "bot.settings", "bot.store.ratelimit")
    known = {module_name(p, ROOT) for p in BOT.rglob("*.py")}
    wrong = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        module = module_name(path, ROOT)
        for target in imports_of(path, module, known):
            if not target.startswith(allowed):
                wrong.append(f"{module} -> {target}")
    assert wrong == []
