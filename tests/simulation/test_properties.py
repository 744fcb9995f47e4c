"""Properties every compiled strategy model and every run must have, for any strategy file."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from equipoise.economics.cea import cost_effectiveness
from equipoise.simulation.files import parse_document
from equipoise.simulation.microsim import microsimulate, simulate_chunk
from equipoise.simulation.run import simulate_scenario
from equipoise.simulation.scenario import Scenario
from equipoise.simulation.strategies import load_strategies

TREATMENTS = ("ssri", "snri", "cbt", "ketamine_iv")


@st.composite
def strategy_files(draw: st.DrawFn) -> str:
    """A random but valid strategy file: 1-3 strategies of 1-3 lines each."""
    horizon = draw(st.integers(1, 40))
    lines_of = []
    for _ in range(draw(st.integers(1, 3))):
        lines = []
        for _ in range(draw(st.integers(1, 3))):
            chosen = draw(st.lists(st.sampled_from(TREATMENTS), min_size=1, max_size=2,
                                   unique=True))
            week = draw(st.integers(1, 14))
            lines.append(f"{{treatments: [{', '.join(chosen)}], assess_week: {week}}}")
        maintenance = draw(st.booleans())
        lines_of.append((lines, maintenance))
    body = "".join(
        f"  s{i}:\n    lines: [{', '.join(lines)}]\n"
        + ("    maintenance: ketamine_iv\n" if maintenance else "")
        for i, (lines, maintenance) in enumerate(lines_of))
    return (f"format: equipoise-strategies/1\nhorizon: {horizon}w\n"
            f"discount: {draw(st.sampled_from(['0', '0.035', '0.1']))}\n"
            f"strategies:\n{body}")


def _load(text: str, draws: int = 1, seed: int = 0) -> Scenario:
    return load_strategies(parse_document(text, "prop.yaml"), draws=draws, seed=seed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=strategy_files(), draws=st.sampled_from([1, 3]), seed=st.integers(0, 2 ** 32))
def test_every_compiled_probability_lies_in_0_1_and_every_row_sums_to_1(
        text: str, draws: int, seed: int) -> None:
    scenario = _load(text, draws, seed)
    for model in scenario.strategies.values():
        p = model.transitions
        assert ((p >= 0) & (p <= 1)).all()
        assert np.abs(p.sum(axis=-1) - 1).max() < 1e-12
        assert model.initial.sum() == 1
        for name, r in model.rewards.items():
            assert np.isfinite(r).all()
            if name != "gad7":
                assert (r >= 0).all(), name


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=strategy_files(), n=st.integers(1, 300), seed=st.integers(0, 2 ** 32))
def test_the_population_is_conserved_in_every_cycle(text: str, n: int, seed: int) -> None:
    result = simulate_scenario(_load(text), n, seed)
    for outcome in result.outcomes.values():
        assert np.allclose(outcome.occupancy.sum(axis=2), 1.0, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=strategy_files(), low=st.floats(0, 0.2), extra=st.floats(1e-3, 0.3),
       seed=st.integers(0, 2 ** 32))
def test_a_higher_discount_rate_never_raises_a_discounted_total(
        text: str, low: float, extra: float, seed: int) -> None:
    for model in _load(text).strategies.values():
        runs = [microsimulate(model, 50, seed, discount=rate, correction="none-skip-start",
                              patient_rewards=("cost", "qaly"))
                for rate in (low, low + extra)]
        for reward in ("cost", "qaly"):       # same patients, same paths: patient by patient
            assert (runs[1].totals[reward] <= runs[0].totals[reward] + 1e-12).all()


@settings(max_examples=50, deadline=None)
@given(points=st.lists(st.tuples(st.floats(0, 1e4), st.floats(0, 2)), min_size=1, max_size=6,
                       unique=True),
       draws=st.integers(1, 4), order=st.randoms(use_true_random=False))
def test_dominance_and_icers_do_not_depend_on_the_order_of_strategies(
        points: list[tuple[float, float]], draws: int, order: object) -> None:
    names = [f"s{i}" for i in range(len(points))]
    costs = np.array([[c for c, _ in points]] * draws)
    effects = np.array([[e for _, e in points]] * draws)
    assume(len(set(points)) == len(points))     # identical strategies are refused elsewhere
    perm = list(range(len(points)))
    order.shuffle(perm)                         # type: ignore[attr-defined]
    a = cost_effectiveness(costs, effects, names)
    b = cost_effectiveness(costs[:, perm], effects[:, perm], [names[i] for i in perm])
    rows_a = {r["strategy"]: r for r in a.to_dict()["incremental"]}
    rows_b = {r["strategy"]: r for r in b.to_dict()["incremental"]}
    assert rows_a == rows_b


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=strategy_files(), n=st.integers(2, 200), chunk=st.integers(1, 64),
       seed=st.integers(0, 2 ** 32))
def test_results_do_not_depend_on_how_patients_and_draws_are_chunked(
        text: str, n: int, chunk: int, seed: int) -> None:
    scenario = _load(text, draws=3, seed=seed % 1000)
    for model in scenario.strategies.values():
        whole = microsimulate(model, n, seed, discount=0.035, correction="none-skip-start")
        parts = microsimulate(model, n, seed, discount=0.035, correction="none-skip-start",
                              chunk_size=chunk)
        assert np.array_equal(whole.counts, parts.counts)
        for reward in whole.totals:
            assert np.array_equal(whole.totals[reward], parts.totals[reward])
        w = {r: np.ones(model.n_cycles + 1) for r in model.rewards}
        one = simulate_chunk(model, seed, range(1, 2), range(n), weights=w)
        both = simulate_chunk(model, seed, range(3), range(n), weights=w)
        assert np.array_equal(one.counts[0], both.counts[1])


def test_results_do_not_depend_on_the_number_of_dask_workers() -> None:
    pytest.importorskip("distributed")
    from equipoise.simulation.scheduler import microsimulate_distributed

    scenario = load_strategies(parse_document(
        "format: equipoise-strategies/1\nhorizon: 20w\ndiscount: 0.035\nstrategies:\n"
        "  b: {lines: [{treatments: [ketamine_iv, ssri], assess_week: 8}]}\n", "w.yaml"),
        draws=2, seed=4)
    model = scenario.strategies["b"]
    local = microsimulate(model, 400, 9, discount=0.035, correction="none-skip-start")
    for workers in (1, 2):
        remote = microsimulate_distributed(model, 400, 9, discount=0.035,
                                           correction="none-skip-start", n_workers=workers,
                                           chunk_patients=150)
        assert np.array_equal(remote.counts, local.counts)
        for reward in local.totals:
            assert np.array_equal(remote.totals[reward], local.totals[reward])
