"""The rooms-by-role contracts (pyproject.toml, docs/ARCHITECTURE.md) really hold the arrows."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import ROOT

PACKAGES = ("api", "dashboard", "pages", "ui", "services", "queries", "notify", "db", "domain")
LINT_IMPORTS = "from importlinter.cli import lint_imports_command; lint_imports_command()"


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.run(
        [sys.executable, "-c", LINT_IMPORTS],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("versions"))
    for name in ("pyproject.toml", "app.py", "bootstrap.py", "config.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_layer_contracts_pass_on_the_code_as_it_is(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_domain_module_that_imports_the_dashboard_breaks_the_layers(tree):
    money = tree / "domain" / "money.py"
    money.write_text(money.read_text() + "\nimport ui.format  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "Layers: imports run one way, down BROKEN" in result.stdout
    assert "domain.money -> ui.format" in result.stdout


def test_a_service_that_reaches_into_the_dispatcher_breaks_notifys_public_face(tree):
    orders = tree / "services" / "orders.py"
    orders.write_text(orders.read_text() + "\nimport notify.dispatch  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "Services use notify's public face only BROKEN" in result.stdout


def imported_roots(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_composition_root_and_config_import_no_streamlit_and_no_page():
    # Top-level modules are outside import-linter's packages, so they are checked here.
    for name in ("bootstrap.py", "config.py"):
        assert imported_roots(ROOT / name).isdisjoint({"streamlit", "ui", "pages", "dashboard"})
