"""Pairwise meta-analysis: properties every estimator must keep, and slow oracles beside fast
paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from equipoise.errors import ModelError
from equipoise.evidence.effect_sizes import escalc
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis, leave_one_out
from equipoise.synthesis.tau2 import TAU2_METHODS
from tests.reference.cases import columns

METHODS = ("FE", *TAU2_METHODS)


@st.composite
def datasets(draw: st.DrawFn, min_k: int = 2) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(min_k, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.005, 1.0, k)
    tau2 = draw(st.sampled_from([0.0, 0.05, 0.5]))
    y = rng.normal(draw(st.floats(-2, 2)), np.sqrt(v + tau2))
    return y, v


@settings(max_examples=25, deadline=None)
@given(datasets(), st.sampled_from(METHODS), st.sampled_from(("z", "knha")))
def test_study_order_does_not_matter(data: tuple[np.ndarray, np.ndarray], method: str,
                                     test: str) -> None:
    y, v = data
    perm = np.random.default_rng(0).permutation(len(y))
    a = MetaAnalysis(method, test=test).fit((y, v))
    b = MetaAnalysis(method, test=test).fit((y[perm], v[perm]))
    assert a.estimate[0] == pytest.approx(b.estimate[0], abs=1e-9)
    assert a.tau2[0] == pytest.approx(b.tau2[0], abs=1e-9)
    assert a.se[0, 0] == pytest.approx(b.se[0, 0], rel=1e-7)


@settings(max_examples=25, deadline=None)
@given(datasets(), st.sampled_from(METHODS))
def test_tau2_is_never_negative_and_the_interval_holds_the_estimate(
        data: tuple[np.ndarray, np.ndarray], method: str) -> None:
    r = MetaAnalysis(method).fit(data)
    assert r.tau2[0] >= 0
    assert r.ci_low[0, 0] <= r.estimate[0] <= r.ci_high[0, 0]
    assert r.pi_low[0] <= r.ci_low[0, 0] and r.ci_high[0, 0] <= r.pi_high[0]


@settings(max_examples=25, deadline=None)
@given(datasets(), st.sampled_from(METHODS))
def test_swapping_arms_flips_the_sign(data: tuple[np.ndarray, np.ndarray], method: str) -> None:
    y, v = data
    a = MetaAnalysis(method).fit((y, v))
    b = MetaAnalysis(method).fit((-y, v))
    assert b.estimate[0] == pytest.approx(-a.estimate[0], abs=1e-9)
    assert b.tau2[0] == pytest.approx(a.tau2[0], abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_identical_effects_give_tau2_zero_and_the_common_effect(method: str) -> None:
    v = np.array([0.1, 0.2, 0.05, 0.3])
    y = np.full(4, 0.4)
    re = MetaAnalysis(method).fit((y, v))
    fe = MetaAnalysis("FE").fit((y, v))
    assert re.tau2[0] == pytest.approx(0.0, abs=1e-12)
    assert re.estimate[0] == pytest.approx(fe.estimate[0]) and re.se[0, 0] == pytest.approx(
        fe.se[0, 0])


@pytest.mark.parametrize("method", METHODS)
def test_a_single_study_returns_itself(method: str) -> None:
    r = MetaAnalysis(method).fit((np.array([0.7]), np.array([0.04])))
    assert r.estimate[0] == pytest.approx(0.7) and r.se[0, 0] == pytest.approx(0.2)
    assert r.tau2[0] == 0.0


@pytest.mark.parametrize("method", METHODS)
def test_one_batched_call_equals_a_loop_of_single_fits(method: str) -> None:
    rng = np.random.default_rng(11)
    groups = []
    for k in (3, 7, 12, 25):
        v = rng.uniform(0.01, 0.5, k)
        groups.append((rng.normal(0.2, np.sqrt(v + 0.1)), v))
    batched = MetaAnalysis(method).fit(MetaBatch.from_groups(groups))
    for b, (y, v) in enumerate(groups):
        single = MetaAnalysis(method).fit((y, v))
        assert batched.estimate[b] == pytest.approx(single.estimate[0], abs=1e-10)
        assert batched.tau2[b] == pytest.approx(single.tau2[0], abs=1e-10)


def _reml_oracle(y: np.ndarray, v: np.ndarray) -> float:
    """Maximise the REML log-likelihood directly (slow, obviously correct)."""
    def nll(t2: float) -> float:
        w = 1 / (v + t2)
        mu = np.sum(w * y) / np.sum(w)
        return 0.5 * (np.sum(np.log(v + t2)) + np.log(np.sum(w)) + np.sum(w * (y - mu) ** 2))
    res = optimize.minimize_scalar(nll, bounds=(0, 20), method="bounded",
                                   options={"xatol": 1e-12})
    return float(res.x)


@settings(max_examples=40, deadline=None)
@given(datasets(min_k=3))
def test_reml_fisher_scoring_agrees_with_direct_maximisation(
        data: tuple[np.ndarray, np.ndarray]) -> None:
    y, v = data
    assert MetaAnalysis("REML").fit((y, v)).tau2[0] == pytest.approx(_reml_oracle(y, v),
                                                                      abs=1e-6)


def test_leave_one_out_matches_metafor_leave1out() -> None:
    # metafor 3.8-1: leave1out(rma(yi, vi, data = dat.bcg RR, threshold = 1e-10)), rows 1-4.
    d = columns("P01")
    es = escalc("RR", ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"])
    r = leave_one_out(MetaAnalysis("REML"), (es.yi, es.vi))
    assert r.size == 13 and list(r.k) == [12] * 13
    assert r.estimate[:4] == pytest.approx([-0.7070838, -0.6540312, -0.6855544, -0.6284094],
                                           abs=1e-6)
    assert r.tau2[:4] == pytest.approx([0.3361567, 0.2925831, 0.3207379, 0.2627581], abs=1e-6)
    assert r.q[:4] == pytest.approx([151.58257, 145.31761, 150.19704, 96.56259], abs=1e-4)
    assert r.study[0][0] == "2"


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"method": "XYZ"}, "unknown method"), ({"test": "wald"}, "test must be"),
    ({"level": 95}, "level must be"), ({"prediction": "bayes"}, "prediction must be")])
def test_bad_settings_fail_at_construction(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ModelError, match=words):
        MetaAnalysis(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("y", "v", "words"), [
    ([0.1, 0.2], [0.1, -0.1], "study '2': sampling variance vi must be positive"),
    ([0.1, np.nan], [0.1, 0.1], "study '2': effect size yi is not finite"),
    ([0.1, 0.2], [0.1], "yi has 2 values but vi has 1")])
def test_bad_data_name_the_study(y: list[float], v: list[float], words: str) -> None:
    with pytest.raises(ModelError, match=words):
        MetaAnalysis("DL").fit((np.array(y), np.array(v)))


def test_draws_are_reproducible_with_a_seeded_generator() -> None:
    r = MetaAnalysis("REML").fit((np.array([0.1, 0.5, 0.3]), np.array([0.04, 0.02, 0.05])))
    a = r.draw(np.random.default_rng(5), 1000)
    b = r.draw(np.random.default_rng(5), 1000)
    assert a.shape == (1000, 1) and np.array_equal(a, b)
    assert a.mean() == pytest.approx(r.estimate[0], abs=4 * r.se[0, 0] / np.sqrt(1000))
