"""Ranking: P-scores, SUCRA and rank probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from equipoise.synthesis.ranking import league_table, rankogram
from tests.reference.cases import analysis
from tests.reference.runners_network import _n01_fit


def test_sucra_matches_netmeta_within_monte_carlo_error() -> None:
    expected = analysis("N01", "rankogram_sucra_montecarlo")["expected"]
    r = rankogram(_n01_fit(), np.random.default_rng(1909), 100_000)
    # R used 1,000 draws: its values carry a Monte Carlo SE of about 0.015.
    for name, value in expected["SUCRA"].items():
        assert r.sucra[name] == pytest.approx(value, abs=0.045)
    for i, name in enumerate(r.treatments):
        assert r.probabilities[i] == pytest.approx(expected["rank_probabilities"][name],
                                                   abs=0.05)


def test_sucra_converges_to_the_p_scores() -> None:
    fit = _n01_fit()
    r = rankogram(fit, np.random.default_rng(7), 200_000)
    for name, p in fit.p_scores().items():
        assert r.sucra[name] == pytest.approx(p, abs=0.005)


def test_rank_probabilities_are_distributions_and_reproducible() -> None:
    fit = _n01_fit()
    a = rankogram(fit, np.random.default_rng(3), 2_000)
    b = rankogram(fit, np.random.default_rng(3), 2_000)
    assert np.allclose(a.probabilities.sum(axis=0), 1) and np.allclose(
        a.probabilities.sum(axis=1), 1)
    assert np.array_equal(a.probabilities, b.probabilities)


def test_undesirable_small_values_reverse_the_ranking() -> None:
    fit = _n01_fit()
    low = rankogram(fit, np.random.default_rng(1), 20_000)
    high = rankogram(fit, np.random.default_rng(1), 20_000, small_values="undesirable")
    for name in fit.treatments:
        assert low.sucra[name] == pytest.approx(1 - high.sucra[name], abs=1e-9)


def test_league_table_is_antisymmetric() -> None:
    table = league_table(_n01_fit())
    for (a, b), s in table.items():
        assert s["estimate"] == pytest.approx(-table[(b, a)]["estimate"])
        assert s["se"] == pytest.approx(table[(b, a)]["se"])


def test_network_draws_carry_the_estimates_and_their_correlation() -> None:
    fit = _n01_fit()
    draws = fit.draw(np.random.default_rng(8), 50_000)
    assert draws.shape == (50_000, len(fit.treatments))
    ref = fit.treatments.index(fit.reference)
    assert np.all(draws[:, ref] == 0)
    assert draws.mean(axis=0) == pytest.approx(fit.d, abs=0.01)
    assert len(fit.to_frame()) == len(fit.treatments) - 1
