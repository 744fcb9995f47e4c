"""Chi-square mixtures, Jackson's generalised-Q interval for tau², and Crippa's R_b."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from equipoise.errors import ModelError
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.generalised_q import (
    UNIROOT_TOL,
    chi2_mixture_cdf,
    chi2_mixture_sf,
    generalised_q,
    generalised_q_eigenvalues,
    jackson_tau2_interval,
)
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.rb import crippa_rb
from tests.reference.cases import analysis, columns

weights_st = st.lists(st.floats(0.05, 20.0), min_size=1, max_size=8)


def _simulated(seed: int, k: int = 15, tau2: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.02, 0.3, k)
    return rng.normal(0.3, np.sqrt(v + tau2)), v


def _p08() -> tuple[np.ndarray, np.ndarray]:
    d = columns("P08")
    a, b = d["event_e"], d["n_e"] - d["event_e"]
    c, e = d["event_c"], d["n_c"] - d["event_c"]
    return np.log(a * e / (b * c)), 1 / a + 1 / b + 1 / c + 1 / e


# ---- the distribution of a positive-weighted sum of chi-squares -----------------------------
@pytest.mark.parametrize("method", ["imhof", "ruben"])
@pytest.mark.parametrize("df", [1, 2, 3, 7, 30])
def test_equal_weights_give_a_scaled_chi_square(method: str, df: int) -> None:
    for x in (1e-6, 0.1, 1.0, 5.0, 30.0, 120.0):
        assert chi2_mixture_sf(x, [2.0] * df, method=method) == pytest.approx(
            stats.chi2.sf(x / 2, df), abs=1e-12)


def test_the_cdf_matches_a_seeded_monte_carlo_sample() -> None:
    rng = np.random.default_rng(20130601)
    w = np.array([0.3, 1.0, 2.5, 4.0, 0.05])
    draws = (rng.standard_normal((200_000, w.size)) ** 2) @ w
    for x in (0.5, 2.0, 5.0, 8.0, 15.0, 25.0):
        empirical = float(np.mean(draws <= x))
        se = math.sqrt(max(empirical * (1 - empirical), 1e-4) / draws.size)
        assert abs(chi2_mixture_cdf(x, w) - empirical) < 5 * se


def test_imhof_agrees_with_rubens_series_to_1e_12() -> None:
    rng = np.random.default_rng(7)
    for _ in range(25):
        w = np.exp(rng.uniform(-2, 2, int(rng.integers(1, 18))))
        x = float(rng.uniform(0, 3) * w.sum())
        assert chi2_mixture_sf(x, w) == pytest.approx(
            chi2_mixture_sf(x, w, method="ruben"), abs=1e-12)


def test_very_unequal_weights_and_extreme_quantiles_stay_exact() -> None:
    # 1e-6 chi2_1 + chi2_1 at 0.5: the small term only shifts the CDF in the 7th decimal.
    exact = stats.chi2.cdf(0.5, 1) - 1e-6 * stats.chi2.pdf(0.5, 1)
    assert chi2_mixture_cdf(0.5, [1.0, 1e-6]) == pytest.approx(exact, abs=1e-11)
    assert chi2_mixture_cdf(1e-10, [1.0]) == pytest.approx(stats.chi2.cdf(1e-10, 1), abs=1e-14)
    assert chi2_mixture_sf(400.0, [1.0, 2.0]) == 0.0
    assert chi2_mixture_sf(0.0, [1.0]) == 1.0


@settings(max_examples=30, deadline=None)
@given(weights_st, st.floats(0.0, 60.0), st.floats(0.0, 60.0))
@example([2.0], 0.0, 5e-324)          # x underflows to 0 once divided by the largest weight
def test_the_cdf_is_a_probability_and_never_decreases_in_x(
        weights: list[float], x1: float, x2: float) -> None:
    lo, hi = sorted((x1, x2))
    f_lo, f_hi = chi2_mixture_cdf(lo, weights), chi2_mixture_cdf(hi, weights)
    assert 0.0 <= f_lo <= 1.0 and 0.0 <= f_hi <= 1.0
    assert f_lo <= f_hi + 1e-12


def test_bad_weights_method_or_quantile_are_refused() -> None:
    for bad in ([], [0.0, 0.0], [1.0, -1.0], [1.0, math.inf]):
        with pytest.raises(ModelError, match="weights"):
            chi2_mixture_sf(1.0, bad)
    with pytest.raises(ModelError, match="method"):
        chi2_mixture_sf(1.0, [1.0], method="davies")
    with pytest.raises(ModelError, match="NaN"):
        chi2_mixture_sf(math.nan, [1.0])


# ---- the generalised Q statistic and Jackson's interval -------------------------------------
def test_inverse_variance_weights_give_cochrans_q() -> None:
    y, v = _simulated(1)
    q = MetaAnalysis("DL").fit(MetaBatch.from_arrays(y, v)).q[0]
    assert generalised_q(y, v, weights=1 / v) == pytest.approx(q, rel=1e-12)


def test_the_eigenvalues_give_the_mean_of_q_a() -> None:
    # E[Q_a] = tr(P_a (V + tau² I)) = sum of the chi² weights (Jackson 2013, section 2).
    _, v = _simulated(2)
    a = 1 / np.sqrt(v)
    P = np.diag(a) - np.outer(a, a) / a.sum()
    lam = generalised_q_eigenvalues(v, 0.2)
    assert lam.size == v.size - 1 and np.all(lam > 0)
    assert lam.sum() == pytest.approx(np.trace(P @ np.diag(v + 0.2)), rel=1e-12)


def test_the_interval_contains_the_dl_estimate_in_typical_data() -> None:
    for seed in range(5):
        y, v = _simulated(seed)
        tau2 = MetaAnalysis("DL").fit(MetaBatch.from_arrays(y, v)).tau2[0]
        ci = jackson_tau2_interval(y, v)
        assert ci.tau2_low <= tau2 <= ci.tau2_high
        assert ci.low_sign == ci.high_sign == ""


def test_the_limits_solve_their_defining_equations() -> None:
    y, v = _simulated(11, k=20, tau2=0.5)
    ci = jackson_tau2_interval(y, v, level=0.9)
    assert ci.tau2_low > 0
    q = generalised_q(y, v)
    assert chi2_mixture_sf(q, generalised_q_eigenvalues(v, ci.tau2_low)) == pytest.approx(
        0.05, abs=1e-10)
    assert chi2_mixture_sf(q, generalised_q_eigenvalues(v, ci.tau2_high)) == pytest.approx(
        0.95, abs=1e-10)
    assert ci.tau_high == pytest.approx(math.sqrt(ci.tau2_high))


def test_a_small_q_gives_a_lower_bound_of_zero() -> None:
    y, v = _p08()   # Q_a = 11.07 on 16 df
    ci = jackson_tau2_interval(y, v)
    assert ci.tau2_low == 0.0 and ci.tau2_high > 0


def test_identical_estimates_give_the_null_interval() -> None:
    v = np.linspace(0.05, 0.2, 8)
    ci = jackson_tau2_interval(np.zeros(8), v)
    assert (ci.tau2_low, ci.tau2_high, ci.low_sign, ci.high_sign) == (0.0, 0.0, "<", "<")


def test_an_upper_limit_beyond_the_search_range_is_flagged() -> None:
    y, v = _simulated(3, tau2=4.0)
    ci = jackson_tau2_interval(y, v, tau2_max=0.5)
    assert ci.tau2_high == 0.5 and ci.high_sign == ">"


def test_p08_is_reproduced_with_uniroots_tolerance() -> None:
    y, v = _p08()
    expected = analysis("P08", "random_DL_HK")["expected"]
    loose = jackson_tau2_interval(y, v, tol=UNIROOT_TOL)
    assert loose.tau2_high == pytest.approx(expected["tau2_ci_ub"]["value"], abs=1e-10)
    assert loose.tau_high == pytest.approx(expected["tau_ci_ub"]["value"], abs=1e-10)
    assert loose.tau2_low == 0.0 and loose.tau2_max == 100.0
    # R stopped 4e-7 short of the root; the default solves it.
    exact = jackson_tau2_interval(y, v)
    root = optimize.brentq(
        lambda t: chi2_mixture_cdf(exact.q, generalised_q_eigenvalues(v, t)) - 0.025,
        0.3, 0.6, xtol=1e-14)
    assert exact.tau2_high == pytest.approx(root, abs=1e-10)
    assert abs(exact.tau2_high - loose.tau2_high) < 1e-4


def test_bad_meta_analysis_inputs_are_refused() -> None:
    with pytest.raises(ModelError, match="level"):
        jackson_tau2_interval([0.1, 0.2], [0.1, 0.1], level=95)
    with pytest.raises(ModelError, match="more studies"):
        jackson_tau2_interval([0.1], [0.1])
    with pytest.raises(ModelError, match="weights"):
        generalised_q([0.1, 0.2], [0.1, 0.1], weights=[1.0, -1.0])
    with pytest.raises(ModelError, match="differ in length"):
        generalised_q([0.1, 0.2], [0.1])


# ---- Crippa's R_b ----------------------------------------------------------------------------
def test_rb_is_the_mean_share_of_tau2_in_each_studys_variance() -> None:
    y, v = _simulated(5)
    fit = MetaAnalysis("DL").fit(MetaBatch.from_arrays(y, v))
    tau2, q = float(fit.tau2[0]), float(fit.q[0])
    eq4 = crippa_rb(v, tau2, q)
    assert eq4.rb == pytest.approx(np.mean(tau2 / (v + tau2)), rel=1e-12)
    # R meta's tau2 / (k se²) is the same number for the usual random-effects SE.
    assert crippa_rb(v, tau2, q, se_random=float(fit.se[0, 0])).rb == pytest.approx(
        eq4.rb, rel=1e-12)
    assert 0.0 <= eq4.ci_low <= eq4.rb <= eq4.ci_high <= 1.0


def test_rb_is_zero_without_heterogeneity_and_undefined_for_one_study() -> None:
    r = crippa_rb([0.1, 0.2, 0.3], 0.0, 1.0)
    assert r.rb == 0.0 and r.ci_low == 0.0
    assert math.isnan(crippa_rb([0.1], 0.0, 0.0).rb)
