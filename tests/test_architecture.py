"""The rules of docs/architecture.md: gateway -> domains, domains never import gateway or each
other; the gateway is its composition root and one folder per area; routers never import routers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("consent", "audit", "adapters", "plan", "notice", "conference", "monitoring")


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


@pytest.mark.parametrize("leaf", ["dbtypes", "fhirsystems", "suppression", "bsn"])
def test_shared_leaves_import_nothing_of_the_project(leaf: str) -> None:
    project = {"gateway", *DOMAINS, "dbtypes", "fhirsystems", "suppression", "bsn"} - {leaf}
    imported = {
        package for path in (ROOT / leaf).rglob("*.py") for package in _imported_packages(path)
    }
    assert imported & project == set()


GATEWAY = ROOT / "gateway"
COMPOSITION_ROOT = {
    "__init__",
    "app",
    "runtime",
    "settings",
    "deps",
    "errors",
    "problems",
    "health",
    "openapi",
}


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, ``from a.b import c`` counted as ``a.b`` and ``a.b.c``."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_router_module(module: str) -> bool:
    leaf = module.rsplit(".", 1)[-1]
    return module.startswith("gateway.") and (leaf == "api" or leaf.endswith("_api"))


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_gateway_top_level_holds_only_the_composition_root_and_area_folders() -> None:
    modules = {path.stem for path in GATEWAY.glob("*.py")}
    assert modules == COMPOSITION_ROOT
    areas = {
        path.name for path in GATEWAY.iterdir() if path.is_dir() and path.name != "__pycache__"
    }
    assert all((GATEWAY / area / "__init__.py").exists() for area in areas - {"migrations"})


def test_no_router_imports_another_router() -> None:
    offenders = {
        _module_of(path): sorted(m for m in _imported_modules(path) if _is_router_module(m))
        for path in GATEWAY.rglob("*.py")
        if _is_router_module(_module_of(path))
        and any(_is_router_module(m) for m in _imported_modules(path))
    }
    assert offenders == {}


def test_web_pages_and_the_command_line_import_no_route_handler() -> None:
    callers = [*(GATEWAY / "web").rglob("*.py"), *(GATEWAY / "cli").rglob("*.py")]
    offenders = {
        _module_of(path): sorted(m for m in _imported_modules(path) if _is_router_module(m))
        for path in callers
        if any(_is_router_module(m) for m in _imported_modules(path))
    }
    assert offenders == {}


def test_flows_import_no_route_handler() -> None:
    offenders = {
        _module_of(path): sorted(m for m in _imported_modules(path) if _is_router_module(m))
        for path in GATEWAY.rglob("flow.py")
        if any(_is_router_module(m) for m in _imported_modules(path))
    }
    assert offenders == {}


def test_every_area_with_a_router_has_a_flow() -> None:
    routed = {path.parent for path in GATEWAY.rglob("api.py")}
    assert sorted(area.name for area in routed if not (area / "flow.py").exists()) == []


def test_the_router_check_sees_a_router_importing_a_router(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from gateway.plans import api as plans_api\nfrom gateway.plans.flow import reach\n"
    )
    assert {m for m in _imported_modules(sample) if _is_router_module(m)} == {"gateway.plans.api"}


SOURCE_FOLDERS = ("gateway", "consent", "audit", "adapters", "plan", "dbtypes", "policies", "docs")
TEXT_SUFFIXES = {".py", ".md", ".rego", ".json", ".sh", ".yml", ".html"}


def _points_outside(path: Path) -> bool:
    text = path.read_text("utf-8", "replace")
    return "DESIGN.md" in text or "../shared" in text


def test_the_design_lives_in_the_repository() -> None:
    assert (ROOT / "docs/architecture.md").is_file()
    files = [
        path
        for folder in (*SOURCE_FOLDERS, "bench", "scripts", "tests")
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path != Path(__file__)
    ]
    assert [str(path.relative_to(ROOT)) for path in files if _points_outside(path)] == []
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "DESIGN.md" not in readme and "docs/architecture.md" in readme
