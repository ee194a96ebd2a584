"""The code's shape: no module of the product imports, directly or through others, itself.

A cycle is what made imports inside functions necessary; each import counts here, wherever in
the module it stands (only those for type checkers are left out). Importing a submodule runs
its packages first, so that is an import of them too."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = ("kiosk", "hardware")


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _for_type_checkers(node: ast.If) -> bool:
    test = node.test
    return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _for_type_checkers(node):
            nodes = node.orelse
        else:
            nodes = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        for child in nodes:
            visit(child)

    visit(ast.parse(path.read_text()))
    with_packages = set()
    for module in found:
        parts = module.split(".")
        with_packages.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    # a module's own packages are already running when it is imported
    own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
    return {module for module in with_packages if module in modules and module not in own}


def _cycle(modules: dict[str, Path]) -> list[str] | None:
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        return error.args[1]
    return None


def test_no_module_imports_itself_through_others():
    assert _cycle(_modules()) is None


def test_the_check_sees_a_cycle_through_a_package_and_a_late_import(tmp_path):
    (tmp_path / "shop").mkdir()
    files = {
        "shop": ("shop/__init__.py", "from .views import bp\n"),
        "shop.views": ("shop/views.py", "from state import office\nbp = 1\n"),
        "shop.sounds": ("shop/sounds.py", "class Speaker: ...\n"),
        "state": ("state.py", "def office():\n    from shop.sounds import Speaker\n"),
    }
    modules = {}
    for name, (file, text) in files.items():
        (tmp_path / file).write_text(text)
        modules[name] = tmp_path / file
    assert set(_cycle(modules)) == {"shop", "shop.views", "state"}
    (tmp_path / "shop/__init__.py").write_text('"""A package that imports none of its modules."""\n')
    assert _cycle(modules) is None
