"""The import direction of DESIGN.md, enforced by walking every import in src/ with ast."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "equipoise"

# What each stage may import (besides itself, errors and the standard library).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "evidence": set(),
    "datasets": {"evidence"},
    "synthesis": {"evidence", "datasets"},
    "comparison": {"evidence", "datasets", "synthesis"},
    "simulation": {"evidence", "datasets", "synthesis"},
    "economics": {"simulation"},
    "care": {"evidence", "datasets", "synthesis", "simulation"},
    "report": {"evidence", "datasets", "synthesis", "comparison", "simulation", "economics",
               "care"},
    "cli": {"evidence", "datasets", "synthesis", "comparison", "simulation", "economics", "care",
            "report"},
    "clinic": {"evidence", "datasets", "synthesis", "comparison", "simulation", "economics",
               "care", "report"},
}
# The package root re-exports the public API; nothing inside imports it (except __version__).
ROOT_NAMES = {"__version__"}


def _stage(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" \
        else "__init__"


def _imports(path: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno, ()) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, tuple(a.name for a in node.names)))
    return [f for f in found if f[0] == "equipoise" or f[0].startswith("equipoise.")]


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if _stage(p) != "__init__")


def test_every_stage_module_is_covered_by_the_rules() -> None:
    stages = {_stage(p) for p in _modules()}
    assert stages <= set(ALLOWED), f"stages without import rules: {stages - set(ALLOWED)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_only_down_the_pipeline(path: Path) -> None:
    stage = _stage(path)
    for module, line, names in _imports(path):
        parts = module.split(".")
        if len(parts) == 1:
            assert set(names) <= ROOT_NAMES, (
                f"{path.relative_to(SRC)}:{line} imports {names} from the package root")
            continue
        target = parts[1]
        if target in (stage, "errors"):
            continue
        assert target in ALLOWED[stage], (
            f"{path.relative_to(SRC)}:{line}: {stage} must not import {module} "
            f"(allowed: {sorted(ALLOWED[stage])})")


def test_nothing_imports_cli_or_clinic_from_below() -> None:
    for path in _modules():
        stage = _stage(path)
        for module, line, _ in _imports(path):
            parts = module.split(".")
            if len(parts) > 1 and parts[1] in ("cli", "clinic") and stage != parts[1]:
                pytest.fail(f"{path.relative_to(SRC)}:{line} imports {module}")


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from equipoise.report.text import comparison_table\n")
    (module, _, _), = _imports(bad)
    assert module.split(".")[1] not in ALLOWED["evidence"]
