"""Effect sizes and sampling variances, pinned to R metafor's escalc() and R meta."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from equipoise.errors import DroppedStudyWarning, EffectSizeError, EquipoiseWarning, EvidenceError
from equipoise.evidence.effect_sizes import (
    MEAN_MEASURES,
    TABLE_MEASURES,
    VTYPES,
    ZERO_CELL_RULES,
    EffectSizes,
    escalc,
)

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "reference" / "cases"
METAFOR_JSON = ROOT / "tests" / "reference" / "metafor_escalc.json"
R_SCRIPT = ROOT / "validation" / "escalc_reference.R"


# --- loaders for the published reference cases (tests/reference/cases/README.md) -------------

def _case(case_id: str) -> dict[str, Any]:
    (path,) = CASES.glob(f"ma_{case_id}_*.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _analysis(case: dict[str, Any], analysis_id: str) -> dict[str, Any]:
    (found,) = [a for a in case["analyses"] if a["id"] == analysis_id]
    return dict(found)


def _data(case: dict[str, Any]) -> dict[str, list[str]]:
    with (CASES / case["data"]["file"]).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {name: [row[name] for row in rows] for name in rows[0]}


def _numbers(column: list[str]) -> np.ndarray:
    return np.array([float(x) for x in column])


def _assert_matches(actual: np.ndarray, expected: list[Any], what: str) -> None:
    """Compare with each expected value's own ``tol`` (absolute) or ``rtol``; plain = exact."""
    assert len(actual) == len(expected), what
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        if isinstance(want, dict) and "rtol" in want:
            assert got == pytest.approx(want["value"], rel=want["rtol"], abs=0), f"{what}[{i}]"
        elif isinstance(want, dict):
            assert got == pytest.approx(want["value"], abs=want["tol"], rel=0), f"{what}[{i}]"
        else:
            assert got == want, f"{what}[{i}]"


# --- 1. published R outputs -------------------------------------------------------------------

def test_log_risk_ratios_match_metafor_for_the_bcg_vaccine_trials() -> None:
    case = _case("P01")
    col = _data(case)
    expected = _analysis(case, "escalc_RR")["expected"]
    got = escalc("RR", ai=_numbers(col["tpos"]), bi=_numbers(col["tneg"]),
                 ci=_numbers(col["cpos"]), di=_numbers(col["cneg"]), add=0, study=col["trial"])
    _assert_matches(got.yi, expected["yi"], "yi")
    _assert_matches(got.vi, expected["vi"], "vi")
    assert got.study == tuple(col["trial"])


def test_log_odds_ratios_add_a_half_to_the_zero_cell_table_of_the_magnesium_trials() -> None:
    case = _case("P09")
    col = _data(case)
    analysis = _analysis(case, "escalc_OR_excl_ISIS4")
    rows = slice(0, 15)  # settings "rows": "1-15" leaves out ISIS-4
    got = escalc("OR", ai=_numbers(col["ai"])[rows], n1i=_numbers(col["n1i"])[rows],
                 ci=_numbers(col["ci"])[rows], n2i=_numbers(col["n2i"])[rows],
                 add=analysis["settings"]["add"], to=analysis["settings"]["to"])
    _assert_matches(got.yi, analysis["expected"]["yi"], "yi")
    ni = _numbers(col["n1i"])[rows] + _numbers(col["n2i"])[rows]
    assert ni.tolist() == analysis["expected"]["ni"]
    assert got.dropped == ()


def test_mean_differences_match_metafor_with_unpooled_and_pooled_sd_variances() -> None:
    case = _case("P10")
    col = _data(case)
    arms = {name: _numbers(col[name]) for name in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")}
    unpooled = _analysis(case, "escalc_MD")["expected"]
    got = escalc("MD", **arms)
    _assert_matches(got.yi, unpooled["yi"], "yi")
    _assert_matches(got.vi, unpooled["vi"], "vi")

    pooled = _analysis(case, "escalc_MD_pooledSD")["expected"]
    got = escalc("MD", vtype="HO", **arms)
    _assert_matches(got.yi, pooled["yi"], "yi")
    _assert_matches(got.vi, pooled["vi"], "vi")
    z = norm.ppf(0.975)
    _assert_matches(got.yi - z * got.sei, pooled["ci_lb"], "ci_lb")
    _assert_matches(got.yi + z * got.sei, pooled["ci_ub"], "ci_ub")


def _smd_arms() -> dict[str, np.ndarray]:
    col = _data(_case("P14"))
    names = {"m1i": "mean_t", "sd1i": "sd_t", "n1i": "n_t",
             "m2i": "mean_c", "sd2i": "sd_c", "n2i": "n_c"}
    return {ours: _numbers(col[theirs]) for ours, theirs in names.items()}


def test_hedges_g_uses_the_exact_correction_with_large_sample_or_unbiased_variance() -> None:
    expected = _analysis(_case("P14"), "metafor_SMD")["expected"]
    large_sample = escalc("SMD", **_smd_arms())
    unbiased = escalc("SMD", vtype="UB", **_smd_arms())
    _assert_matches(large_sample.yi, expected["yi"], "yi")
    _assert_matches(large_sample.vi, expected["vi_labelled_asy"], "vi LS")
    _assert_matches(unbiased.yi, expected["yi"], "yi")
    _assert_matches(unbiased.vi, expected["vi_UB"], "vi UB")


def test_heteroscedastic_smd_matches_metafor() -> None:
    # The source labels this "vtype=UB"; metafor 3.8-1 has one SMDH variance for it, "LS".
    expected = _analysis(_case("P14"), "metafor_SMDH")["expected"]
    got = escalc("SMDH", **_smd_arms())
    _assert_matches(got.yi, expected["yi"], "yi")
    _assert_matches(got.vi, expected["vi"], "vi")


def test_approximate_correction_with_unbiased_variance_reproduces_r_meta_hedges_g() -> None:
    # meta::metacont (exact.smd=FALSE): J = 1 - 3/(4m-1), variance term g^2 / (2(m - 1.94)).
    expected = _analysis(_case("P14"), "meta_metacont_SMD")["expected"]
    got = escalc("SMD", vtype="UB", correction="approx", **_smd_arms())
    _assert_matches(got.yi, expected["TE"], "TE")
    _assert_matches(got.vi, expected["seTE_squared"], "seTE^2")


def test_log_odds_ratios_match_r_meta_metabin_at_full_precision() -> None:
    case = _case("P08")
    col = _data(case)
    expected = _analysis(case, "study_level")["expected"]
    got = escalc("OR", ai=_numbers(col["event_e"]), n1i=_numbers(col["n_e"]),
                 ci=_numbers(col["event_c"]), n2i=_numbers(col["n_c"]))
    _assert_matches(got.yi, expected["TE"], "TE")
    _assert_matches(got.sei, expected["seTE"], "seTE")


# --- 2. cross-check against metafor itself (validation/escalc_reference.R) -------------------

def _metafor_cases(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["cases"])


def _assert_agrees_with_metafor(case: dict[str, Any]) -> None:
    want_yi = np.array([math.nan if v is None else v for v in case["yi"]])
    want_vi = np.array([math.nan if v is None else v for v in case["vi"]])
    labels = [str(i) for i in range(1, len(want_yi) + 1)]
    # metafor returns NA for what cannot be estimated; a variance of 0 is unusable too.
    lost = ~(np.isfinite(want_yi) & np.isfinite(want_vi) & (want_vi > 0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = escalc(case["measure"], **case["inputs"], **case["settings"])
    assert got.dropped == tuple(label for label, x in zip(labels, lost, strict=True) if x)
    assert [w.category for w in caught] == ([DroppedStudyWarning] if lost.any() else [])
    np.testing.assert_allclose(got.yi, want_yi[~lost], rtol=0, atol=1e-10)
    if case["agrees"]:
        np.testing.assert_allclose(got.vi, want_vi[~lost], rtol=0, atol=1e-10)


@pytest.mark.parametrize("case", _metafor_cases(METAFOR_JSON), ids=lambda c: c["id"])
def test_escalc_agrees_with_pinned_metafor_output(case: dict[str, Any]) -> None:
    _assert_agrees_with_metafor(case)


def test_the_metafor_cross_check_covers_every_measure_vtype_and_zero_cell_rule() -> None:
    cases = _metafor_cases(METAFOR_JSON)
    seen = {(c["measure"], c["settings"].get("vtype", "LS")) for c in cases}
    assert seen == {(m, v) for m, vtypes in VTYPES.items() for v in vtypes}
    for measure in TABLE_MEASURES:
        mine = [c for c in cases if c["measure"] == measure]
        assert {c["settings"].get("to", "only0") for c in mine} == set(ZERO_CELL_RULES), measure
        assert any(c["settings"].get("drop00") for c in mine), measure
        assert any("n1i" in c["inputs"] for c in mine), measure
    assert {"vi", "sei"} <= {n for c in cases if c["measure"] == "GEN" for n in c["inputs"]}
    assert json.loads(METAFOR_JSON.read_text(encoding="utf-8"))["metafor_version"] == "3.8.1"


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="needs R (Rscript) with metafor")
def test_escalc_agrees_with_a_fresh_run_of_metafor(tmp_path: Path) -> None:
    out = tmp_path / "metafor_escalc.json"
    done = subprocess.run(["Rscript", str(R_SCRIPT), str(out)], capture_output=True, text=True,
                          timeout=300, check=False)
    if "there is no package called" in done.stderr:
        pytest.skip(done.stderr.strip().splitlines()[-1])
    assert done.returncode == 0, done.stderr
    fresh = _metafor_cases(out)
    assert [c["inputs"] for c in fresh] == [c["inputs"] for c in _metafor_cases(METAFOR_JSON)]
    for case in fresh:
        _assert_agrees_with_metafor(case)


# --- 3. properties ----------------------------------------------------------------------------

@st.composite
def _tables(draw: st.DrawFn, zero_free: bool = False) -> dict[str, np.ndarray]:
    k = draw(st.integers(1, 6))
    cells: dict[str, list[int]] = {"ai": [], "bi": [], "ci": [], "di": []}
    for events, others in (("ai", "bi"), ("ci", "di")):
        for _ in range(k):
            n = draw(st.integers(2 if zero_free else 1, 300))
            low, high = (1, n - 1) if zero_free else (0, n)
            e = draw(st.integers(low, high))
            cells[events].append(e)
            cells[others].append(n - e)
    return {name: np.array(values, dtype=float) for name, values in cells.items()}


@st.composite
def _arms(draw: st.DrawFn) -> dict[str, np.ndarray]:
    k = draw(st.integers(1, 6))
    mean = st.floats(-100, 100, allow_nan=False)
    sd = st.floats(0.1, 50, allow_nan=False)
    size = st.integers(2, 200)
    pick = {"m1i": mean, "sd1i": sd, "n1i": size, "m2i": mean, "sd2i": sd, "n2i": size}
    return {name: np.array(draw(st.lists(s, min_size=k, max_size=k)), dtype=float)
            for name, s in pick.items()}


def _swap_tables(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"ai": t["ci"], "bi": t["di"], "ci": t["ai"], "di": t["bi"]}


def _swap_arms(a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {"m1i": a["m2i"], "sd1i": a["sd2i"], "n1i": a["n2i"],
            "m2i": a["m1i"], "sd2i": a["sd1i"], "n2i": a["n1i"]}


@pytest.mark.parametrize("measure", MEAN_MEASURES)
@given(arms=_arms())
def test_swapping_the_arms_flips_a_mean_difference_and_keeps_its_variance(
        measure: str, arms: dict[str, np.ndarray]) -> None:
    got, swapped = escalc(measure, **arms), escalc(measure, **_swap_arms(arms))
    np.testing.assert_allclose(swapped.yi, -got.yi, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(swapped.vi, got.vi, rtol=1e-12, atol=0)


@pytest.mark.parametrize("measure", TABLE_MEASURES)
@given(tables=_tables())
def test_swapping_the_arms_flips_a_two_by_two_effect_and_keeps_its_variance(
        measure: str, tables: dict[str, np.ndarray]) -> None:
    got, swapped = escalc(measure, **tables), escalc(measure, **_swap_tables(tables))
    np.testing.assert_allclose(swapped.yi, -got.yi, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(swapped.vi, got.vi, rtol=1e-12, atol=0)


@pytest.mark.parametrize("measure", ["OR", "RR"])
@given(tables=_tables(zero_free=True), factor=st.integers(2, 50))
def test_scaling_every_cell_of_a_table_keeps_the_ratio_and_shrinks_the_variance(
        measure: str, tables: dict[str, np.ndarray], factor: int) -> None:
    got = escalc(measure, **tables)
    scaled = escalc(measure, **{name: factor * cells for name, cells in tables.items()})
    np.testing.assert_allclose(scaled.yi, got.yi, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(scaled.vi, got.vi / factor, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("measure", "vtype"),
                         [(m, v) for m, vs in VTYPES.items() if m != "GEN" for v in vs])
@given(data=st.data())
def test_every_study_gets_a_positive_finite_variance(
        measure: str, vtype: str, data: st.DataObject) -> None:
    inputs = data.draw(_tables() if measure in TABLE_MEASURES else _arms())
    got = escalc(measure, vtype=vtype, **inputs)
    assert got.dropped == ()
    assert np.all(np.isfinite(got.yi))
    assert np.all(np.isfinite(got.vi) & (got.vi > 0))


@pytest.mark.parametrize("measure", TABLE_MEASURES)
@given(tables=_tables())
@settings(max_examples=50)
def test_zero_cell_corrections_are_deterministic_and_touch_only_the_tables_they_name(
        measure: str, tables: dict[str, np.ndarray]) -> None:
    runs = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedStudyWarning)  # to="none" may drop tables
        for to in ZERO_CELL_RULES:
            first, again = escalc(measure, to=to, **tables), escalc(measure, to=to, **tables)
            assert np.array_equal(first.yi, again.yi) and np.array_equal(first.vi, again.vi)
            assert first.study == again.study and first.dropped == again.dropped
            runs[to] = first
    has_zero = (np.stack(list(tables.values())) == 0).any(axis=0)
    clean = [str(i + 1) for i in np.flatnonzero(~has_zero)]
    for rule, same_as in (("only0", "none"), ("if0all", "all" if has_zero.any() else "none")):
        left, right = runs[rule], runs[same_as]
        keep = clean if rule == "only0" else list(left.study)
        for label in keep:
            i, j = left.study.index(label), right.study.index(label)
            assert (left.yi[i], left.vi[i]) == (right.yi[j], right.vi[j])
    assert runs["only0"].dropped == ()


@given(tables=_tables())
def test_reversing_the_studies_reverses_the_effect_sizes(tables: dict[str, np.ndarray]) -> None:
    got = escalc("OR", **tables)
    backwards = escalc("OR", study=list(reversed(got.study)),
                       **{name: cells[::-1] for name, cells in tables.items()})
    assert backwards.study == got.study[::-1]
    assert np.array_equal(backwards.yi, got.yi[::-1])
    assert np.array_equal(backwards.vi, got.vi[::-1])


# --- 4. drops, results and errors -------------------------------------------------------------

DOUBLE_ZERO = {"ai": [0, 4, 12, 0], "bi": [20, 16, 0, 15], "ci": [0, 7, 10, 2],
               "di": [20, 13, 0, 13]}
LABELS = ["Alpha 2001", "Beta 2004", "Gamma 2010", "Delta 2015"]


@pytest.mark.parametrize("measure", TABLE_MEASURES)
def test_double_zero_studies_are_dropped_with_a_warning_that_names_them(measure: str) -> None:
    with pytest.warns(DroppedStudyWarning) as record:
        got = escalc(measure, study=LABELS, drop00=True, **DOUBLE_ZERO)
    assert got.dropped == ("Alpha 2001", "Gamma 2010")
    assert got.study == ("Beta 2004", "Delta 2015")
    assert len(got.yi) == len(got.vi) == 2
    message = str(record[0].message)
    assert "'Alpha 2001'" in message and "'Gamma 2010'" in message and "drop00" in message
    assert "Beta" not in message


def test_double_zero_studies_are_kept_with_a_half_added_by_default_as_in_metafor() -> None:
    got = escalc("OR", study=LABELS, **DOUBLE_ZERO)
    assert got.study == tuple(LABELS) and got.dropped == ()
    assert got.yi[0] == 0.0
    assert got.vi[0] == pytest.approx(2 / 0.5 + 2 / 20.5, abs=1e-15)


def test_tables_left_infinite_without_a_correction_are_dropped_and_named() -> None:
    with pytest.warns(DroppedStudyWarning, match=r"'Alpha 2001'.*to='none'") as record:
        got = escalc("OR", study=LABELS, to="none", **DOUBLE_ZERO)
    assert got.study == ("Beta 2004",)
    assert got.dropped == ("Alpha 2001", "Gamma 2010", "Delta 2015")
    assert issubclass(record[0].category, EquipoiseWarning)


def test_results_are_read_only_values_with_default_labels_and_a_frame() -> None:
    got = escalc("GEN", yi=[0.2, -0.1, 0.4], sei=[0.1, 0.2, 0.5])
    assert isinstance(got, EffectSizes)
    assert got.study == ("1", "2", "3")
    assert got.vi.tolist() == pytest.approx([0.01, 0.04, 0.25])
    assert got.yi.dtype == np.float64 and not got.yi.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        got.yi[0] = 1.0
    frame = got.to_frame()
    assert list(frame.columns) == ["study", "yi", "vi"]
    assert frame["study"].tolist() == ["1", "2", "3"]
    assert frame["yi"].tolist() == [0.2, -0.1, 0.4]


TABLE = {"ai": [3, 5], "bi": [7, 5], "ci": [2, 4], "di": [8, 6]}
ARMS = {"m1i": [10.0, 12.0], "sd1i": [2.0, 3.0], "n1i": [20, 25],
        "m2i": [9.0, 11.0], "sd2i": [2.5, 3.5], "n2i": [22, 24]}
TWO = ["Smith 2019", "Jones 2021"]


@pytest.mark.parametrize(("measure", "change", "study", "field", "fragment"), [
    ("OR", {"ai": [3, -1]}, "Jones 2021", "ai", "negative"),
    ("RD", {"di": [-2, 6]}, "Smith 2019", "di", "negative"),
    ("RR", {"bi": None, "n1i": [10, 4]}, "Jones 2021", "ai", "exceed n1i"),
    ("OR", {"bi": None, "n1i": [0, 10], "ai": [0, 5]}, "Smith 2019", "n1i", "positive"),
    ("OR", {"ai": [0, 5], "bi": [0, 5]}, "Smith 2019", "ai + bi", "positive"),
    ("OR", {"n1i": [10, 11]}, "Jones 2021", "n1i", "is not ai + bi"),
    ("PETO", {"ci": [2, math.nan]}, "Jones 2021", "ci", "finite number"),
    ("MD", {"n2i": [22, 0]}, "Jones 2021", "n2i", "positive"),
    ("SMD", {"sd1i": [2.0, -3.0]}, "Jones 2021", "sd1i", "negative"),
    ("MD", {"m1i": [math.nan, 12.0]}, "Smith 2019", "m1i", "finite number"),
    ("SMDH", {"sd2i": [2.5, math.inf]}, "Jones 2021", "sd2i", "finite number"),
    ("MD", {"sd1i": [0.0, 3.0], "sd2i": [0.0, 3.5]}, "Smith 2019", "sd1i, sd2i",
     "no positive sampling variance"),
    ("SMD", {"sd1i": [2.0, 0.0], "sd2i": [2.5, 0.0]}, "Jones 2021", "sd1i, sd2i", "undefined"),
    ("SMD", {"n1i": [1, 25], "n2i": [2, 24]}, "Smith 2019", "n1i, n2i", "n1i + n2i > 3"),
    ("GEN", {"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, "Jones 2021", "vi", "positive"),
    ("GEN", {"yi": [0.1, 0.2], "sei": [-0.3, 0.1]}, "Smith 2019", "sei", "positive"),
    ("GEN", {"yi": [math.nan, 0.2], "vi": [0.1, 0.1]}, "Smith 2019", "yi", "finite number"),
])
def test_a_bad_value_raises_an_error_naming_the_study_and_the_field(
        measure: str, change: dict[str, Any], study: str, field: str, fragment: str) -> None:
    base = {} if measure == "GEN" else dict(TABLE if measure in TABLE_MEASURES else ARMS)
    inputs = {k: v for k, v in {**base, **change}.items() if v is not None}
    with pytest.raises(EffectSizeError) as caught:
        escalc(measure, study=TWO, **inputs)
    assert caught.value.study == study and caught.value.field == field
    assert str(caught.value).startswith(f"study {study!r}: {field}: ")
    assert fragment in str(caught.value)


@pytest.mark.parametrize(("call", "field", "fragment"), [
    (lambda: escalc("OR", ai=[1, 2], bi=[3, 4], ci=[1, 2], di=[3]), "ai, bi, ci, di",
     "unequal length"),
    (lambda: escalc("OR", ai=[1], ci=[1]), "bi or n1i, di or n2i",
     "needs ai, bi, ci, di (or ai, n1i, ci, n2i)"),
    (lambda: escalc("SMD", m1i=[1], m2i=[0], n1i=[5], n2i=[5]), "sd1i, sd2i",
     "needs m1i, sd1i, n1i, m2i, sd2i, n2i"),
    (lambda: escalc("GEN", yi=[0.1]), "vi or sei", "needs yi and vi (or sei)"),
    (lambda: escalc("GEN", yi=[0.1], vi=[0.1], sei=[0.3]), "vi, sei", "not both"),
    (lambda: escalc("MD", ai=[1], **ARMS), "ai", "not used by measure MD"),
    (lambda: escalc("HR", yi=[0.1], vi=[0.1]), "measure", "unknown measure 'HR'"),
    (lambda: escalc("SMD", vtype="XX", **ARMS), "vtype", "unknown"),
    (lambda: escalc("OR", vtype="UB", **TABLE), "vtype", "measure OR, which takes LS"),
    (lambda: escalc("OR", to="some", **TABLE), "to", "unknown rule 'some'"),
    (lambda: escalc("OR", add=-0.5, **TABLE), "add", ">= 0"),
    (lambda: escalc("SMD", correction="rough", **ARMS), "correction", "unknown correction"),
    (lambda: escalc("MD", correction="approx", **ARMS), "correction", "SMD and SMDH"),
    (lambda: escalc("MD", drop00=True, **ARMS), "drop00", "2x2 measures"),
    (lambda: escalc("OR", study=["A"], **TABLE), "study", "1 labels for 2 studies"),
    (lambda: escalc("OR", study="AB", **TABLE), "study", "not one string"),
    (lambda: escalc("GEN", yi=[[0.1, 0.2]], vi=[[0.1, 0.2]]), "yi", "one-dimensional"),
    (lambda: escalc("GEN", yi=["big"], vi=[0.1]), "yi", "must be numbers"),
    (lambda: escalc("GEN", yi=[], vi=[]), "yi, vi", "no studies"),
])
def test_a_bad_argument_raises_an_error_naming_the_field(
        call: Any, field: str, fragment: str) -> None:
    with pytest.raises(EffectSizeError) as caught:
        call()
    assert caught.value.field == field and caught.value.study is None
    assert str(caught.value).startswith(f"{field}: ")
    assert fragment in str(caught.value)


def test_a_label_used_twice_is_named() -> None:
    with pytest.raises(EffectSizeError, match=r"^study 'A': study: label is used twice"):
        escalc("OR", study=["A", "A"], **TABLE)


def test_effect_size_errors_belong_to_the_evidence_branch_of_the_tree() -> None:
    assert issubclass(EffectSizeError, EvidenceError)
    assert issubclass(DroppedStudyWarning, EquipoiseWarning)
    assert issubclass(EquipoiseWarning, UserWarning)
