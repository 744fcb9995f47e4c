"""Mantel-Haenszel and Peto pooling: metafor agreement, properties, and bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from equipoise.errors import DroppedStudyWarning, EquipoiseWarning, ModelError
from equipoise.synthesis.mantel_haenszel import (
    MantelHaenszel,
    Peto,
    PooledTables,
    TwoByTwo,
    rma_mh,
    rma_peto,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "metafor_mh.json"
SCRIPT = ROOT / "validation" / "mh_reference.R"
FIELDS = ("estimate", "se", "zval", "pval", "ci_low", "ci_high", "q", "q_df", "q_pval", "i2",
          "h2", "k")
OR_FIELDS = ("cmh", "cmh_pval", "tarone", "tarone_df", "tarone_pval")
ESTIMATORS = {"OR": MantelHaenszel("OR"), "RR": MantelHaenszel("RR"),
              "RD": MantelHaenszel("RD"), "PETO": Peto()}


def _reference() -> dict[str, Any]:
    return json.loads(REFERENCE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _tables(case: dict[str, Any]) -> TwoByTwo:
    return TwoByTwo.from_counts(*(case["inputs"][x] for x in ("ai", "bi", "ci", "di")))


def _estimator(method: str, level: float, correct: bool = True) -> MantelHaenszel | Peto:
    if method == "PETO":
        return Peto(level=level)
    return MantelHaenszel(method, correct=correct, level=level)


def _close(got: Any, want: Any, path: str) -> list[str]:
    if want is None:
        return [] if got is None else [f"{path}: {got!r} should be NA"]
    if got is None or abs(float(got) - float(want)) > 1e-8:
        return [f"{path}: {got!r} != metafor {want!r}"]
    return []


def _mismatches(case: dict[str, Any]) -> list[str]:
    """Every difference from metafor in one case, checking the warnings each fit must give."""
    problems: list[str] = []
    for method, want in case["results"].items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = _estimator(method, case["level"]).fit(_tables(case)).to_dict()
        kinds = {type(w.message) for w in caught}
        path = f"{case['id']}/{method}"
        if (DroppedStudyWarning in kinds) != bool(want["dropped"]):
            problems.append(f"{path}: DroppedStudyWarning {kinds} vs dropped {want['dropped']}")
        if (EquipoiseWarning in kinds) != (want["estimate"] is None):
            problems.append(f"{path}: not-estimable warning {kinds}")
        if got["dropped"] != want["dropped"]:
            problems.append(f"{path}/dropped: {got['dropped']} != {want['dropped']}")
        for field in FIELDS + (OR_FIELDS if method == "OR" else ()):
            problems += _close(got[field], want[field], f"{path}/{field}")
        if method == "OR":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", EquipoiseWarning)
                raw = _estimator("OR", case["level"], correct=False).fit(_tables(case))
            problems += _close(raw.to_dict()["cmh"], want["cmh_uncorrected"], f"{path}/cmh raw")
            problems += _close(raw.to_dict()["cmh_pval"], want["cmh_uncorrected_pval"],
                               f"{path}/cmh_pval raw")
    return problems


@pytest.mark.parametrize("case", _reference()["cases"], ids=lambda c: c["id"])
def test_every_statistic_matches_metafor_rma_mh_and_rma_peto_to_1e_8(
        case: dict[str, Any]) -> None:
    problems = _mismatches(case)
    assert not problems, "\n".join(problems)


def test_the_metafor_reference_covers_zero_cells_double_zeros_and_a_missing_or() -> None:
    cases = {c["id"]: c for c in _reference()["cases"]}
    tables = [np.array([c["inputs"][x] for x in ("ai", "bi", "ci", "di")]) for c in
              cases.values()]
    no_events = [(t[0] == 0) & (t[2] == 0) for t in tables]
    only_events = [(t[1] == 0) & (t[3] == 0) for t in tables]
    assert any(n.any() for n in no_events) and any(o.any() for o in only_events)
    assert any(((t == 0).any(axis=0) & ~n & ~o).any()
               for t, n, o in zip(tables, no_events, only_events, strict=True))
    assert cases["no_treatment_events"]["results"]["OR"]["estimate"] is None


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_rerunning_the_r_script_reproduces_the_stored_reference_and_equipoise_agrees(
        tmp_path: Path) -> None:
    out = tmp_path / "metafor_mh.json"
    done = subprocess.run(["Rscript", str(SCRIPT), str(out)], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    fresh = json.loads(out.read_text(encoding="utf-8"))
    stored = _reference()
    assert [c["inputs"] for c in fresh["cases"]] == [c["inputs"] for c in stored["cases"]]
    problems = [p for case in fresh["cases"] for p in _mismatches(case)]
    assert not problems, "\n".join(problems)


# ---- properties ----------------------------------------------------------------------------
@st.composite
def table_sets(draw: st.DrawFn, max_k: int = 8) -> np.ndarray:
    """(4, K) counts ai, bi, ci, di with arms of 1..60 people, zero cells included."""
    k = draw(st.integers(1, max_k))
    rows = []
    for _ in range(k):
        n1, n2 = draw(st.integers(1, 60)), draw(st.integers(1, 60))
        a, c = draw(st.integers(0, n1)), draw(st.integers(0, n2))
        rows.append((a, n1 - a, c, n2 - c))
    return np.array(rows, dtype=np.float64).T


def _quiet_fit(method: str, tables: TwoByTwo, level: float = 0.95) -> PooledTables:
    """Fit without warnings; Peto with no event variance anywhere is rejected as an example."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EquipoiseWarning)
        try:
            return _estimator(method, level).fit(tables)
        except ModelError:
            assume(False)
            raise


def _assume_a_real_variance(*fits: PooledTables) -> None:
    """Skip examples whose variance cancels to 0 (e.g. RD of perfectly separated tables, in
    metafor's formula too): its square root is then rounding noise of order 1e-8, or NaN."""
    for r in fits:
        assume(not np.any(np.abs(r.se) < 1e-6))


def _same(x: Any, y: Any) -> None:
    np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-10, equal_nan=True)


@settings(max_examples=150, deadline=None)
@given(table_sets(), st.sampled_from(sorted(ESTIMATORS)))
def test_swapping_treatment_and_control_flips_the_sign_and_keeps_the_rest(
        counts: np.ndarray, method: str) -> None:
    tables = TwoByTwo.from_counts(*counts)
    r, s = _quiet_fit(method, tables), _quiet_fit(method, tables.swapped())
    _assume_a_real_variance(r, s)
    _same(s.estimate, -r.estimate)
    _same(s.ci_low, -r.ci_high)
    for field in ("se", "pval", "q", "q_pval", "i2", "h2", "cmh", "tarone", "tarone_pval"):
        _same(getattr(s, field), getattr(r, field))
    assert s.dropped == r.dropped


@settings(max_examples=150, deadline=None)
@given(table_sets(), st.sampled_from(sorted(ESTIMATORS)), st.randoms(use_true_random=False))
def test_the_order_of_the_studies_changes_nothing(counts: np.ndarray, method: str,
                                                  rnd: Any) -> None:
    order = list(range(counts.shape[1]))
    rnd.shuffle(order)
    labels = [f"s{i}" for i in range(counts.shape[1])]
    r = _quiet_fit(method, TwoByTwo.from_counts(*counts, study=labels))
    s = _quiet_fit(method, TwoByTwo.from_counts(*counts[:, order],
                                                study=[labels[i] for i in order]))
    _assume_a_real_variance(r, s)
    for field in ("estimate", "se", "ci_low", "ci_high", "pval", "q", "q_df", "q_pval", "i2",
                  "h2", "cmh", "cmh_pval", "tarone", "tarone_df", "tarone_pval"):
        _same(getattr(s, field), getattr(r, field))
    assert set(s.dropped[0]) == set(r.dropped[0])


@settings(max_examples=150, deadline=None)
@given(table_sets(), st.sampled_from(sorted(ESTIMATORS)), st.floats(0.5, 0.999))
def test_the_confidence_interval_contains_the_estimate(counts: np.ndarray, method: str,
                                                       level: float) -> None:
    r = _quiet_fit(method, TwoByTwo.from_counts(*counts), level)
    assume(np.isfinite(r.estimate[0]) and np.isfinite(r.se[0]))
    assert r.ci_low[0] <= r.estimate[0] <= r.ci_high[0]


@settings(max_examples=60, deadline=None)
@given(st.lists(table_sets(max_k=6), min_size=1, max_size=4),
       st.sampled_from(["OR", "RR", "RD"]))
def test_a_padded_batch_gives_each_analysis_its_own_result(groups: list[np.ndarray],
                                                           method: str) -> None:
    singles = [TwoByTwo.from_counts(*g) for g in groups]
    batch = _quiet_fit(method, TwoByTwo.stack(singles))
    for b, t in enumerate(singles):
        one = _quiet_fit(method, t)
        for field in ("estimate", "se", "q", "q_df", "i2", "h2", "cmh", "tarone"):
            _same(getattr(batch, field)[b], getattr(one, field)[0])
        assert batch.dropped[b] == one.dropped[0]


# ---- behaviour at the edges ----------------------------------------------------------------
def test_a_double_zero_table_is_named_left_out_of_q_and_kept_in_the_estimate() -> None:
    ai, bi, ci, di = [3, 0, 5], [20, 30, 18], [6, 0, 9], [17, 28, 14]
    with pytest.warns(DroppedStudyWarning, match="'Lee'"):
        rd = rma_mh(ai, bi, ci, di, measure="RD", study=["Ames", "Lee", "Park"])
    rd_without = rma_mh([3, 5], [20, 18], [6, 9], [17, 14], measure="RD")
    assert rd.to_dict()["dropped"] == ["Lee"]
    assert rd.q_df[0] == 1 == rd_without.q_df[0]
    assert rd.estimate[0] != pytest.approx(rd_without.estimate[0])   # pulled towards 0


def test_an_or_that_cannot_be_estimated_warns_and_is_nan() -> None:
    with pytest.warns(EquipoiseWarning, match="cannot be estimated"):
        r = rma_mh([0, 0], [10, 12], [3, 4], [8, 9])
    d = r.to_dict()
    assert d["estimate"] is None and d["se"] is None and d["tarone"] is None
    assert d["cmh"] is not None


def test_peto_with_no_events_anywhere_is_refused_as_metafor_refuses() -> None:
    with pytest.raises(ModelError, match="never occurred"):
        rma_peto([0, 0], [10, 12], [0, 0], [8, 9])


def test_tarone_stays_exact_when_the_pooled_or_rounds_to_one() -> None:
    # R = S exactly, but R/S = 1 + 2.2e-16 in floating point; metafor's (A - B) / (2 (psi - 1))
    # then gives X² = 3.7465 where the exact value (fitted counts n1 xt / N) is 4.3844.
    ai, bi, ci, di = [12, 13], [8, 9], [9, 8], [1, 12]
    exact = bd = dev = var = Fraction(0)
    for a, b, c, d in zip(ai, bi, ci, di, strict=True):
        n1, xt, n = a + b, a + c, a + b + c + d
        e = Fraction(n1 * xt, n)
        inv = 1 / e + 1 / (n1 - e) + 1 / (xt - e) + 1 / (e - n1 - xt + n)
        bd, dev, var = bd + (a - e) ** 2 * inv, dev + a - e, var + 1 / inv
    exact = bd - dev**2 / var
    assert rma_mh(ai, bi, ci, di).tarone[0] == pytest.approx(float(exact), rel=1e-12)


def test_a_batch_renders_as_one_row_per_analysis_and_draws_per_analysis() -> None:
    one = TwoByTwo.from_counts([4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209])
    two = TwoByTwo.from_counts([1, 9], [39, 126], [2, 23], [34, 112])
    r = MantelHaenszel("RR").fit(TwoByTwo.stack([one, two]))
    assert list(r.to_frame()["k"]) == [3, 2]
    draws = r.draw(np.random.default_rng(7), 5000)
    assert draws.shape == (5000, 2)
    assert np.allclose(draws.mean(axis=0), r.estimate, atol=5 * r.se.max() / np.sqrt(5000))


def test_results_serialise_the_documented_keys() -> None:
    ai, bi, ci, di = [4, 6, 3], [119, 300, 228], [11, 29, 11], [128, 274, 209]
    mh_or = rma_mh(ai, bi, ci, di).to_dict()
    assert {"estimate", "se", "zval", "pval", "ci_low", "ci_high", "q", "q_df", "q_pval", "i2",
            "h2", "cmh", "cmh_pval", "tarone", "tarone_df", "tarone_pval", "exp_estimate",
            "exp_ci_low", "exp_ci_high"} <= set(mh_or)
    rd = rma_mh(ai, bi, ci, di, measure="RD").to_dict()
    assert "exp_estimate" not in rd and "cmh" not in rd
    peto = rma_peto(ai, bi, ci, di).to_dict()
    assert peto["exp_estimate"] == pytest.approx(np.exp(peto["estimate"]))
    assert "cmh" not in peto


def test_sizes_and_cells_give_the_same_tables() -> None:
    by_cells = rma_mh([4, 6], [119, 300], [11, 29], [128, 274])
    by_sizes = rma_mh([4, 6], ci=[11, 29], n1i=[123, 306], n2i=[139, 303])
    assert by_sizes.estimate[0] == by_cells.estimate[0]


# ---- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ai": [1, -2], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}, "study 'B': ai is negative"),
    ({"ai": [1, 7], "ci": [1, 1], "n1i": [5, 6], "n2i": [5, 5]},
     "study 'B': ai \\(events\\) is larger than n1i"),
    ({"ai": [1, 2, 3], "bi": [5, 5], "ci": [1, 1], "di": [5, 5]}, "differ in length"),
    ({"ai": [1, 2], "bi": [5, 5], "ci": [1, 1], "di": [5, np.nan]}, "study 'B': di is not"),
    ({"ai": [0, 2], "bi": [0, 5], "ci": [1, 1], "di": [5, 5]},
     "study 'A': the treatment arm has no participants"),
    ({"ai": [1, 2], "bi": [5, 5], "ci": [1, 1], "n1i": [6, 8], "di": [5, 5]},
     "study 'B': n1i is not ai \\+ bi"),
    ({"ai": [1, 2], "ci": [1, 1], "di": [5, 5]}, "give bi .* or n1i"),
])
def test_bad_counts_raise_a_model_error_naming_the_study(kwargs: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(ModelError, match=message):
        TwoByTwo.from_counts(study=["A", "B"], **kwargs)


def test_study_labels_must_match_the_tables() -> None:
    with pytest.raises(ModelError, match="1 study labels for 2 tables"):
        TwoByTwo.from_counts([1, 2], [3, 4], [1, 2], [3, 4], study=["only"])
    with pytest.raises(ModelError, match="not one string"):
        TwoByTwo.from_counts([1, 2], [3, 4], [1, 2], [3, 4], study="AB")


def test_unknown_settings_are_refused_at_construction() -> None:
    with pytest.raises(ModelError, match="measure must be one of OR, RR, RD"):
        MantelHaenszel("SMD")
    with pytest.raises(ModelError, match="level"):
        MantelHaenszel("OR", level=95)
    with pytest.raises(ModelError, match="level"):
        Peto(level=0)
