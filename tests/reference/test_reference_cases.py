"""Every published reference case, one test per analysis, within the case's own tolerance."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import pytest

from tests.reference.cases import CASES, all_analyses, analysis, mismatches

# Each tests/reference/runners_*.py module contributes RUNNERS[(case, analysis_id)] = fn.
RUNNERS: dict[tuple[str, str], Any] = {}
for _path in sorted(Path(__file__).parent.glob("runners_*.py")):
    _module = importlib.import_module(f"tests.reference.{_path.stem}")
    _clash = set(RUNNERS) & set(_module.RUNNERS)
    assert not _clash, f"{_path.name} re-registers {sorted(_clash)}"
    RUNNERS.update(_module.RUNNERS)

# The only analyses not reproduced, each with its reason; every other analysis of every case
# file must have a runner (test_every_analysis_has_a_runner_or_a_stated_reason).
SKIPPED: dict[tuple[str, str], str] = {
    ("N01", "rankogram_sucra_montecarlo"): (
        "Monte Carlo output of R's generator (nsim=1000, seed 1909); the case claims no "
        "tolerance. tests/synthesis/test_ranking.py checks equipoise's seeded SUCRA against "
        "these values within Monte Carlo error instead"),
    ("N02", "cnma_additive_inactive_placebo"): (
        "optional: component network meta-analysis (netcomb) is not built"),
    ("N06", "netmeta_decomp_design_common"): (
        "secondary: computed by netmeta from its rounded Senn2013 TE/seTE, which the case does "
        "not include; from the arm data equipoise gets Q_total 96.984 (metafor's QE, checked in "
        "common_effect), Q_within 74.450 and Q_between 22.534 (df 18, 11, 7)"),
}


@pytest.mark.parametrize(("case", "analysis_id"), all_analyses(),
                         ids=[f"{c}/{a}" for c, a in all_analyses()])
def test_reference_analysis(case: str, analysis_id: str) -> None:
    if (case, analysis_id) in SKIPPED:
        pytest.skip(SKIPPED[(case, analysis_id)])
    expected = analysis(case, analysis_id)["expected"]
    actual = RUNNERS[(case, analysis_id)]()
    problems = mismatches(expected, actual)
    assert not problems, "\n".join(problems)


def test_the_whole_case_grid_is_present_and_unmodified() -> None:
    sums = dict(line.split()[::-1] for line in
                (CASES / "SHA256SUMS").read_text().splitlines())
    files = sorted(p.name for p in CASES.glob("ma_*"))
    assert files == sorted(sums)
    for name in files:
        assert hashlib.sha256((CASES / name).read_bytes()).hexdigest() == sums[name], name
    assert len({c for c, _ in all_analyses()}) == 17


def test_every_analysis_has_a_runner_or_a_stated_reason() -> None:
    grid = set(all_analyses())
    assert set(RUNNERS) <= grid, "runner for an analysis that no case file has"
    assert grid == set(RUNNERS) | set(SKIPPED)
    assert not set(RUNNERS) & set(SKIPPED), "an analysis both runs and is skipped"
