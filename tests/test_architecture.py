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


def violations(path: Path, stage: str) -> list[str]:
    """Every import in ``path`` that a module of ``stage`` must not make."""
    out = []
    for module, line, names in _imports(path):
        parts = module.split(".")
        if len(parts) == 1:
            if not set(names) <= ROOT_NAMES:
                out.append(f"{path.name}:{line} imports {names} from the package root")
            continue
        target = parts[1]
        if target not in (stage, "errors") and target not in ALLOWED[stage]:
            out.append(f"{path.name}:{line}: {stage} must not import {module} "
                       f"(allowed: {sorted(ALLOWED[stage])})")
    return out


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_only_down_the_pipeline(path: Path) -> None:
    assert violations(path, _stage(path)) == []


def test_nothing_imports_cli_or_clinic_from_below() -> None:
    for path in _modules():
        stage = _stage(path)
        for module, line, _ in _imports(path):
            parts = module.split(".")
            if len(parts) > 1 and parts[1] in ("cli", "clinic") and stage != parts[1]:
                pytest.fail(f"{path.relative_to(SRC)}:{line} imports {module}")


def test_the_checker_catches_upward_and_root_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from equipoise.report.text import comparison_table\n"
                   "import equipoise.cli.main\n"
                   "from equipoise import compare\n"
                   "from equipoise.evidence.values import Unit\n")
    found = violations(bad, "evidence")
    assert len(found) == 3
    assert violations(bad, "cli") == ["bad.py:3 imports ('compare',) from the package root"]
