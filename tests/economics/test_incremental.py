"""Incremental analysis reproduces dampack's published cases; properties of dominance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.economics.incremental import incremental
from equipoise.economics.uncertainty import ceac, evpi, net_benefit
from equipoise.errors import ModelError

CASE = json.loads((Path(__file__).resolve().parents[1] / "reference" / "simulation"
                   / "sim_icer_algorithm.json").read_text())["cases"]


def test_herc_six_strategies() -> None:
    data = CASE["herc_six"]
    costs = {k: v[0] for k, v in data["input"].items()}
    effects = {k: v[1] for k, v in data["input"].items()}
    got = [r.to_dict() for r in incremental(costs, effects)]
    for want, row in zip(data["expected_published"], got, strict=True):
        assert row["strategy"] == want["s"] and row["status"] == want["status"]
        for key in ("inc_cost", "inc_effect", "icer"):
            if key in want:
                assert row[key] == pytest.approx(want[key])


def test_cdiff_eleven_strategies() -> None:
    data = CASE["cdiff_eleven"]
    costs = {k: v[0] for k, v in data["input_cost_effect"].items()}
    effects = {k: v[1] for k, v in data["input_cost_effect"].items()}
    rows = incremental(costs, effects)
    want = data["expected_published"]
    nd = [(r.strategy, r.icer) for r in rows if r.status == "ND"]
    assert [s for s, _ in nd] == [s for s, _ in want["ND_order_with_icer"]]
    for (_, got), (_, icer) in zip(nd, want["ND_order_with_icer"], strict=True):
        # inputs and outputs were printed with 15 significant digits
        assert got == pytest.approx(icer, rel=1e-10) if icer is not None else got is None
    assert {r.strategy for r in rows if r.status == "ED"} == set(want["ED"])
    assert {r.strategy for r in rows if r.status == "D"} == set(want["D"])


def test_paltiel_annual_screening_is_strongly_dominated() -> None:
    data = CASE["paltiel_hiv_screening"]
    costs = {k: v[0] for k, v in data["input"].items()}
    effects = {k: v[1] / 12 for k, v in data["input"].items()}
    status = {r.strategy: r.status for r in incremental(costs, effects)}
    assert status["annual"] == "D"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 20)), min_size=1, max_size=8,
                unique_by=lambda t: t), st.randoms())
def test_dominance_does_not_depend_on_the_order_strategies_are_given(
        points: list[tuple[float, float]], rnd: object) -> None:
    names = [f"s{i}" for i in range(len(points))]
    order = names[:]
    rnd.shuffle(order)  # type: ignore[attr-defined]
    a = {r.strategy: r.status for r in incremental(
        {n: p[0] for n, p in zip(names, points, strict=True)},
        {n: p[1] for n, p in zip(names, points, strict=True)})}
    b = {r.strategy: r.status for r in incremental(
        {n: points[names.index(n)][0] for n in order},
        {n: points[names.index(n)][1] for n in order})}
    assert a == b


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e5), st.floats(0, 20)), min_size=2, max_size=8,
                unique_by=lambda t: t))
def test_icers_rise_along_the_frontier(points: list[tuple[float, float]]) -> None:
    names = [f"s{i}" for i in range(len(points))]
    rows = incremental({n: p[0] for n, p in zip(names, points, strict=True)},
                       {n: p[1] for n, p in zip(names, points, strict=True)})
    icers = [r.icer for r in rows if r.status == "ND" and r.icer is not None]
    assert icers == sorted(icers)


def test_evpi_matches_its_definition_and_is_never_negative() -> None:
    rng = np.random.default_rng(3)
    c = rng.normal([1000, 1500, 1800], 200, size=(5000, 3))
    e = rng.normal([1.0, 1.05, 1.08], 0.05, size=(5000, 3))
    nb = net_benefit(c, e, 20000)
    loss = nb.max(axis=1, keepdims=True) - nb
    assert evpi(c, e, 20000) == pytest.approx(loss.mean(axis=0).min())
    assert evpi(c, e, 20000) >= 0


def test_ceac_probabilities_sum_to_one_and_follow_wtp() -> None:
    rng = np.random.default_rng(4)
    c = rng.normal([1000, 3000], 100, size=(2000, 2))
    e = rng.normal([1.0, 1.1], 0.01, size=(2000, 2))
    curve = ceac(c, e, [0, 10000, 100000], ["cheap", "costly"])
    assert np.allclose(curve.probability.sum(axis=1), 1)
    assert curve.optimal == ("cheap", "cheap", "costly")


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ModelError, match="same strategies"):
        incremental({"a": 1}, {"b": 1})
    with pytest.raises(ModelError, match="same shape"):
        evpi(np.zeros((3, 2)), np.zeros((3, 3)), 1.0)
