"""REML's intercept-only fast path (synthesis/reml_intercept.py) against its two oracles.

* The general batched path of ``tau2.REML`` (K x K algebra, used for models with moderators)
  fits the same model when the intercept column is scaled (2 instead of 1): tau² and its
  standard error do not change, but the batch no longer counts as intercept-only.
* metafor on the datasets of benchmarks/pairwise_reml.py on which REML is hard:
  tests/reference/metafor_reml_hard.json (data from ``pairwise_reml.py --write-hard``, fits
  from validation/metafor_reml_hard.R): 75 candidates on which metafor's default Fisher
  scoring diverges or crawls (73 stop with an error; metafor then fits them with
  stepadj = 0.5) and 21 datasets whose restricted likelihood is bimodal, 5 of them where
  Fisher scoring stops at an interior maximum and metafor's ll0check returns tau² = 0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from equipoise.errors import ConvergenceError
from equipoise.synthesis import reml_intercept
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.tau2 import REML, Tau2Result

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference" / "metafor_reml_hard.json"
SCRIPT = ROOT / "validation" / "metafor_reml_hard.R"
LL0_WARNING = "Setting tau^2 = 0"


@cache
def _hard() -> list[dict[str, Any]]:
    doc = json.loads(REFERENCE.read_text(encoding="utf-8"))
    return doc["datasets"]  # type: ignore[no-any-return]


def _batch(datasets: list[dict[str, Any]]) -> MetaBatch:
    return MetaBatch.from_groups([(d["yi"], d["vi"]) for d in datasets])


def _general(batch: MetaBatch) -> MetaBatch:
    """The same analyses with the intercept column scaled by 2: REML's general path."""
    return MetaBatch(batch.y, batch.v, batch.mask, 2.0 * batch.X, batch.study)


def _metafor(datasets: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([d["metafor"][key] for d in datasets], dtype=np.float64)


# ---- fast path == general path ----------------------------------------------------------
@st.composite
def batches(draw: st.DrawFn) -> MetaBatch:
    """1-6 intercept-only analyses of 1-30 studies, effects and variances on several scales."""
    groups = []
    for _ in range(draw(st.integers(1, 6))):
        k = draw(st.integers(1, 30))
        scale = draw(st.sampled_from([0.01, 1.0, 100.0]))
        y = draw(st.lists(st.floats(-3, 3), min_size=k, max_size=k))
        v = draw(st.lists(st.floats(0.005, 2.0), min_size=k, max_size=k))
        groups.append((scale * np.array(y), scale**2 * np.array(v)))
    return MetaBatch.from_groups(groups)


@settings(max_examples=300, deadline=None)
@given(batches())
def test_the_fast_path_equals_the_general_path_on_random_batches(batch: MetaBatch) -> None:
    assert reml_intercept.is_intercept_only(batch)
    assert not reml_intercept.is_intercept_only(_general(batch))
    fast = REML(threshold=1e-13).estimate(batch)
    try:
        general = REML(threshold=1e-13, maxiter=100_000).estimate(_general(batch))
    except ConvergenceError:   # plain Fisher scoring crawls (see the hard cases below)
        assume(False)
        raise
    several = batch.k > 1
    scale = np.max(np.where(batch.mask, batch.v, 0.0), axis=1)   # tau² is on the v scale
    np.testing.assert_allclose(fast.tau2 / scale, general.tau2 / scale, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(fast.se[several] / scale[several],
                               general.se[several] / scale[several], rtol=1e-8, atol=1e-9)
    assert fast.converged.all()
    assert (fast.tau2[~several] == 0).all() and np.isnan(fast.se[~several]).all()


def test_one_study_gives_tau2_zero_with_no_standard_error_as_metafor() -> None:
    # metafor 3.8-1: rma(0.3, 0.07, method = "REML") has tau2 0 and se.tau2 NA.
    r = REML().estimate(MetaBatch.from_groups([([0.3], [0.07]), ([0.1, 0.5], [0.2, 0.3])]))
    assert r.tau2.tolist() == [0.0, 0.0]
    assert np.isnan(r.se[0])
    # metafor 3.8-1: rma(c(0.1, 0.5), c(0.2, 0.3), method = "REML")$se.tau2
    assert r.se[1] == pytest.approx(0.3535534, abs=1e-7)


def test_models_with_moderators_still_take_the_general_path() -> None:
    one = MetaBatch.from_arrays([0.1, 0.5, 0.3, 0.9], [0.1, 0.2, 0.15, 0.3], [0, 1, 0, 1])
    no_intercept = MetaBatch.from_arrays([0.1, 0.5, 0.3], [0.1, 0.2, 0.15], [1, 2, 3],
                                         intercept=False)
    assert not reml_intercept.is_intercept_only(one)
    assert not reml_intercept.is_intercept_only(no_intercept)


# ---- the hard datasets, against metafor --------------------------------------------------
def test_the_reference_holds_75_redrawn_and_21_bimodal_datasets() -> None:
    hard = _hard()
    assert [d["why"] for d in hard].count("redrawn") == 75
    assert [d["why"] for d in hard].count("bimodal") == 21
    assert sum(d["metafor"]["default_failed"] for d in hard) == 73
    assert all(len(d["yi"]) == len(d["vi"]) == d["k"] for d in hard)


@pytest.mark.parametrize(("threshold", "tol"), [(1e-12, 1e-9), (1e-10, 1e-6)])
def test_every_hard_dataset_converges_in_one_batch_to_metafors_answer(
        threshold: float, tol: float) -> None:
    hard = _hard()
    r = MetaAnalysis("REML", threshold=threshold).fit(_batch(hard))
    assert r.iterations.max() < 200
    np.testing.assert_allclose(r.tau2, _metafor(hard, "tau2"), rtol=0, atol=tol)
    np.testing.assert_allclose(r.tau2_se, _metafor(hard, "se_tau2"), rtol=0, atol=tol)
    np.testing.assert_allclose(r.beta[:, 0], _metafor(hard, "estimate"), rtol=0, atol=tol)
    np.testing.assert_allclose(r.se[:, 0], _metafor(hard, "se"), rtol=0, atol=tol)


def test_the_general_path_agrees_with_metafor_where_it_converges() -> None:
    bimodal = [d for d in _hard() if d["why"] == "bimodal"]
    r = REML(threshold=1e-12, maxiter=100_000).estimate(_general(_batch(bimodal)))
    np.testing.assert_allclose(r.tau2, _metafor(bimodal, "tau2"), rtol=0, atol=1e-9)


def test_where_fisher_scoring_stops_at_an_interior_maximum_ll0check_returns_zero() -> None:
    """metafor: 'Fisher scoring algorithm may have gotten stuck at a local maximum. Setting
    tau^2 = 0.' Both equipoise paths do the same."""
    stuck = [d for d in _hard() if any(LL0_WARNING in w for w in d["metafor"]["warnings"])]
    assert [d["id"] for d in stuck] == ["kept-1408", "kept-3329", "kept-4273", "kept-6359",
                                        "kept-8259"]
    assert (_metafor(stuck, "tau2") == 0).all()
    batch = _batch(stuck)
    fast, general = REML().estimate(batch), REML().estimate(_general(batch))
    assert fast.tau2.tolist() == general.tau2.tolist() == [0.0] * 5
    # Each has an interior local maximum, lower than the likelihood at 0.
    grid = np.linspace(0.0, 0.3, 601)
    for d in stuck:
        y, v = np.array(d["yi"]), np.array(d["vi"])
        ll = np.array([_restricted_loglik(y, v, t) for t in grid])
        rise = np.diff(ll) > 0
        peaks = np.flatnonzero(rise[:-1] & ~rise[1:]) + 1
        assert ll[0] > ll[1] and peaks.size == 1
        assert ll[0] - ll[peaks[0]] > reml_intercept.LL0_TOL


def test_where_fisher_scoring_goes_to_zero_a_higher_interior_maximum_is_not_sought() -> None:
    """Datasets 2910 and 5322: metafor returns 0 (a local maximum); so does equipoise."""
    at_zero = [d for d in _hard() if d["id"] in ("kept-2910", "kept-5322")]
    assert (_metafor(at_zero, "tau2") == 0).all()
    assert REML().estimate(_batch(at_zero)).tau2.tolist() == [0.0, 0.0]


def _restricted_loglik(y: np.ndarray, v: np.ndarray, tau2: float) -> float:
    w = 1.0 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return float(-0.5 * (np.log(v + tau2).sum() + np.log(w.sum()) + (w * (y - mu) ** 2).sum()))


# ---- convergence semantics --------------------------------------------------------------
def test_non_convergence_raises_and_names_the_analyses() -> None:
    hard = _batch(_hard()[:2])
    flat = MetaBatch.from_groups([([0.2, 0.2, 0.2], [0.1, 0.2, 0.3])])   # converges at once
    rows = [hard.rows(0, 1), _pad(flat, hard.y.shape[1]), hard.rows(1, 2)]
    mixed = MetaBatch(np.concatenate([r.y for r in rows]), np.concatenate([r.v for r in rows]),
                      np.concatenate([r.mask for r in rows]),
                      np.concatenate([r.X for r in rows]))
    with pytest.raises(ConvergenceError, match=r"REML Fisher scoring did not converge in 2 "
                                               r"iterations for analyses \[0, 2\]"):
        MetaAnalysis("REML", maxiter=2).fit(mixed)
    assert MetaAnalysis("REML", maxiter=1).fit(flat).iterations.tolist() == [1]


def _pad(batch: MetaBatch, width: int) -> MetaBatch:
    extra = width - batch.y.shape[1]
    return MetaBatch(np.pad(batch.y, ((0, 0), (0, extra))),
                     np.pad(batch.v, ((0, 0), (0, extra)), constant_values=1.0),
                     np.pad(batch.mask, ((0, 0), (0, extra))),
                     np.pad(batch.X, ((0, 0), (0, extra), (0, 0))))


def test_the_estimate_is_a_tau2_result_with_one_entry_per_analysis() -> None:
    r = REML().estimate(_batch(_hard()[:7]))
    assert isinstance(r, Tau2Result)
    assert r.tau2.shape == r.se.shape == r.iterations.shape == r.converged.shape == (7,)
    assert r.iterations.dtype == np.int64 and r.converged.dtype == np.bool_


# ---- live ---------------------------------------------------------------------------------
@pytest.mark.metafor
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript is not installed")
def test_rerunning_the_r_script_on_the_bimodal_datasets_reproduces_the_reference(
        tmp_path: Path) -> None:
    """The 21 bimodal datasets and 3 redrawn ones (the full script takes ~4 minutes)."""
    hard = _hard()
    subset = [d for d in hard if d["why"] == "bimodal"] + [d for d in hard
                                                             if d["why"] == "redrawn"][:3]
    data = tmp_path / "in.json"
    data.write_text(json.dumps({"data_from": "test", "datasets": [
        {"id": d["id"], "why": d["why"], "yi": d["yi"], "vi": d["vi"]} for d in subset]}),
        encoding="utf-8")
    out = tmp_path / "out.json"
    done = subprocess.run(["Rscript", str(SCRIPT), str(data), str(out)], capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    fresh = json.loads(out.read_text(encoding="utf-8"))["datasets"]
    assert [d["id"] for d in fresh] == [d["id"] for d in subset]
    for key in ("tau2", "se_tau2", "estimate", "se"):
        np.testing.assert_allclose(_metafor(fresh, key), _metafor(subset, key), rtol=1e-9,
                                   atol=1e-12)
    assert [d["metafor"]["warnings"] for d in fresh] == [d["metafor"]["warnings"]
                                                          for d in subset]
    r = MetaAnalysis("REML", threshold=1e-12).fit(_batch(fresh))
    np.testing.assert_allclose(r.tau2, _metafor(fresh, "tau2"), rtol=0, atol=1e-9)
