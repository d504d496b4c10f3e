"""The billing tree keeps its promise: ``meterhub.billing.rules`` is pure (no database, no I/O).

Two independent checks:

* every module under ``meterhub.billing.rules`` imports in a fresh interpreter where ``psycopg`` cannot be
  imported at all, and importing them loads none of the packages that do I/O;
* read statically, the rules modules import only the standard library, numpy and other rules modules
  (an import under ``if TYPE_CHECKING:`` is an annotation, not a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import meterhub.billing.rules as rules_package

RULES_DIR = Path(rules_package.__file__).parent
IO_PACKAGES = (
    "psycopg",
    "psycopg_pool",
    "meterhub.billing.close",
    "meterhub.billing.money",
    "meterhub.billing.receipts",
    "meterhub.billing.imports",
    "meterhub.billing.residents",
    "meterhub.timeseries",
    "meterhub.api",
    "meterhub.registry",
    "meterhub.claims",
    "meterhub.servicedesk",
    "meterhub.exchange",
)
ALLOWED_THIRD_PARTY = {"numpy"}


def _rules_modules() -> list[str]:
    names = []
    for path in sorted(RULES_DIR.rglob("*.py")):
        parts = path.relative_to(RULES_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("meterhub", "billing", "rules", *parts)))
    return names


def test_rules_import_without_psycopg_and_load_no_io_package() -> None:
    modules = _rules_modules()
    assert "meterhub.billing.rules.charges" in modules and "meterhub.billing.rules.heating.volumes" in modules
    program = f"""
import importlib, sys

class _Refuse:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith("psycopg.") or name.startswith("psycopg_"):
            raise ImportError("psycopg is not available in this check")
        return None

sys.meta_path.insert(0, _Refuse())
for name in {modules!r}:
    importlib.import_module(name)
loaded = sorted(m for m in sys.modules if m.startswith({IO_PACKAGES!r}))
print("LOADED", loaded)
sys.exit(1 if loaded else 0)
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported outside ``if TYPE_CHECKING:`` blocks."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports are not used in meterhub"
            found.append(node.module or "")
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_rules_import_only_stdlib_numpy_and_other_rules() -> None:
    offenders: list[str] = []
    for path in sorted(RULES_DIR.rglob("*.py")):
        for module in _runtime_imports(ast.parse(path.read_text("utf-8"))):
            top = module.split(".")[0]
            if module.startswith("meterhub."):
                ok = module.startswith("meterhub.billing.rules")
            else:
                ok = top in sys.stdlib_module_names or top == "__future__" or top in ALLOWED_THIRD_PARTY
            if not ok:
                offenders.append(f"{path.relative_to(RULES_DIR)} imports {module}")
    assert offenders == []


def test_the_tree_has_no_flat_modules_left() -> None:
    """Every billing module lives in a subpackage that says what it is (the package's own __init__ aside)."""
    billing = RULES_DIR.parent
    flat = sorted(p.name for p in billing.glob("*.py") if p.name != "__init__.py")
    assert flat == []
    assert {p.name for p in billing.iterdir() if (p / "__init__.py").exists()} == {
        "rules",
        "close",
        "money",
        "receipts",
        "imports",
        "residents",
        "migrations",
    }


def test_close_and_money_do_not_import_the_packages_built_on_them() -> None:
    """receipts, imports and residents build on close and money; the reverse would be a cycle."""
    billing = RULES_DIR.parent
    above = ("meterhub.billing.receipts", "meterhub.billing.imports", "meterhub.billing.residents")
    offenders = [
        f"{path.relative_to(billing)} imports {module}"
        for package in ("close", "money")
        for path in sorted((billing / package).rglob("*.py"))
        for module in _runtime_imports(ast.parse(path.read_text("utf-8")))
        if module.startswith(above)
    ]
    assert offenders == []
