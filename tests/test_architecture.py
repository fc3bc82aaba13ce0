"""The import direction of DESIGN.md: gateway -> domains; domains never import gateway or each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("consent", "audit", "adapters", "plan")


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_package_imports_neither_gateway_nor_another_domain(domain: str) -> None:
    forbidden = {"gateway", *DOMAINS} - {domain}
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & forbidden)
        for path in (ROOT / domain).rglob("*.py")
        if _imported_packages(path) & forbidden
    }
    assert offenders == {}


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from gateway.db import Base\nimport audit.chain\n")
    assert _imported_packages(sample) == {"gateway", "audit"}


def test_shared_column_types_import_nothing_of_the_project() -> None:
    project = {"gateway", *DOMAINS}
    imported = {
        package for path in (ROOT / "dbtypes").rglob("*.py") for package in _imported_packages(path)
    }
    assert imported & project == set()
