"""Q-profile interval: exact by default, metafor's uniroot path on request."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.heterogeneity import q_profile, q_profile_metafor, zeroin
from equipoise.synthesis.pairwise import MetaAnalysis


def test_zeroin_finds_roots_like_brent() -> None:
    for f, a, b in ((lambda x: x**3 - 2, 0.0, 2.0), (lambda x: np.cos(x) - x, 0.0, 1.0)):
        assert zeroin(f, a, b, tol=1e-12) == pytest.approx(optimize.brentq(f, a, b), abs=1e-11)


def test_the_interval_brackets_the_estimate_and_solves_the_q_equations() -> None:
    rng = np.random.default_rng(4)
    v = rng.uniform(0.02, 0.3, 15)
    y = rng.normal(0, np.sqrt(v + 0.2))
    batch = MetaBatch.from_arrays(y, v)
    fit = MetaAnalysis("REML").fit(batch)
    ci = q_profile(batch, fit.vt)
    assert ci.tau2_low[0] <= fit.tau2[0] <= ci.tau2_high[0]
    loose = q_profile_metafor(batch, fit.vt, fit.tau2)
    assert loose.tau2_low[0] == pytest.approx(ci.tau2_low[0], abs=1e-3)
    assert loose.tau2_high[0] == pytest.approx(ci.tau2_high[0], abs=1e-3)


def test_homogeneous_data_give_a_lower_bound_of_zero() -> None:
    v = np.full(10, 0.1)
    y = np.zeros(10)
    batch = MetaBatch.from_arrays(y, v)
    ci = q_profile(batch, MetaAnalysis("DL").fit(batch).vt)
    assert ci.tau2_low[0] == 0.0 and ci.tau2_high[0] == 0.0
