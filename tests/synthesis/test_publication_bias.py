"""Small-study-effect tests: behaviour beyond the reference case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.errors import ModelError
from equipoise.synthesis.publication_bias import ranktest, regtest


def _symmetric(k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    v = rng.uniform(0.01, 0.5, k)
    return rng.normal(0.3, np.sqrt(v)), v


def test_a_funnel_built_to_be_asymmetric_is_detected() -> None:
    v = np.linspace(0.01, 0.6, 30)
    noise = np.random.default_rng(0).normal(0, 0.01, 30)
    y = 0.2 + 2.0 * np.sqrt(v) + noise  # small studies show bigger effects
    t = regtest(y, v, model="lm")
    assert t.pval < 1e-6 and t.limit_estimate == pytest.approx(0.2, abs=0.02)


def test_the_classical_test_has_k_minus_2_df() -> None:
    y, v = _symmetric(12, np.random.default_rng(1))
    assert regtest(y, v, model="lm").df == 10
    assert regtest(y, v, model="rma").df is None


@settings(max_examples=30, deadline=None)
@given(st.integers(5, 25), st.integers(0, 10_000))
def test_rank_tau_lies_in_minus_one_to_one_and_ignores_order(k: int, seed: int) -> None:
    y, v = _symmetric(k, np.random.default_rng(seed))
    a = ranktest(y, v)
    perm = np.random.default_rng(seed + 1).permutation(k)
    b = ranktest(y[perm], v[perm])
    assert -1 <= a.tau <= 1 and 0 <= a.pval <= 1
    assert a.tau == pytest.approx(b.tau) and a.pval == pytest.approx(b.pval)


def test_sample_size_predictors_need_sample_sizes() -> None:
    y, v = _symmetric(8, np.random.default_rng(2))
    with pytest.raises(ModelError, match="needs the sample sizes"):
        regtest(y, v, predictor="ninv")
