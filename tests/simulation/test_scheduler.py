"""Distributed microsimulation: a real LocalCluster reproduces the single-process run exactly."""

from __future__ import annotations

import time

import numpy as np
import pytest

from equipoise.errors import ModelError
from equipoise.simulation.microsim import microsimulate
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.scheduler import microsimulate_distributed

N_CYCLES = 20


def _sick_sicker_two_draws() -> MultiStateModel:
    """Healthy, Sick, Sicker, Dead with two parameter draws (the second a 20 % worse course)."""
    base = np.array([[0.845, 0.15, 0.0, 0.005],
                     [0.5, 0.38, 0.105, 0.015],
                     [0.0, 0.0, 0.952, 0.048],
                     [0.0, 0.0, 0.0, 1.0]])
    worse = base.copy()
    worse[0] = [0.815, 0.18, 0.0, 0.005]
    worse[1] = [0.45, 0.41, 0.125, 0.015]
    p = np.broadcast_to(np.stack([base, worse])[:, None], (2, N_CYCLES, 4, 4)).copy()
    cost = np.broadcast_to([2000.0, 4000.0, 15000.0, 0.0], (2, N_CYCLES + 1, 4)).copy()
    qaly = np.broadcast_to([1.0, 0.75, 0.5, 0.0], (2, N_CYCLES + 1, 4)).copy()
    return MultiStateModel.build(["H", "S1", "S2", "D"], [1, 0, 0, 0], p, N_CYCLES,
                                 {"cost": cost, "qaly": qaly})


def test_a_local_cluster_reproduces_the_single_process_run_bit_for_bit() -> None:
    model = _sick_sicker_two_draws()
    kwargs = {"discount": {"cost": 0.03, "qaly": 0.015}, "correction": "half-cycle"}
    start = time.perf_counter()
    run = microsimulate_distributed(model, 3000, 2024, scheduler="local", n_workers=2,
                                    chunk_patients=700, **kwargs)   # 5 x 2 uneven chunks
    elapsed = time.perf_counter() - start
    whole = microsimulate(model, 3000, 2024, **kwargs)
    assert elapsed < 60
    assert run.seed == whole.seed and run.states == whole.states
    np.testing.assert_array_equal(run.counts, whole.counts)
    np.testing.assert_array_equal(run.trace(), whole.trace())
    for name in ("cost", "qaly"):
        np.testing.assert_array_equal(run.totals[name], whole.totals[name])
        np.testing.assert_array_equal(run.means[name], whole.means[name])
        np.testing.assert_array_equal(run.mcse[name], whole.mcse[name])


@pytest.mark.parametrize("scheduler", ["", "threads", "tcp://", "http://localhost:8786"])
def test_a_bad_scheduler_string_is_refused(scheduler: str) -> None:
    with pytest.raises(ModelError, match="scheduler must be"):
        microsimulate_distributed(_sick_sicker_two_draws(), 10, 1, discount=0.03,
                                  correction="none", scheduler=scheduler)


def test_an_unreachable_scheduler_is_reported_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(ModelError, match="cannot reach the Dask scheduler"):
        microsimulate_distributed(_sick_sicker_two_draws(), 10, 1, discount=0.03,
                                  correction="none", scheduler="tcp://127.0.0.1:1",
                                  timeout=1.0)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("chunk_patients", [110, None])   # split, or whole (reduced to means)
def test_a_whole_scenario_on_a_local_cluster_equals_the_in_process_run(
        chunk_patients: int | None) -> None:
    from functools import partial

    from equipoise.datasets.models import example_path
    from equipoise.simulation.run import simulate_scenario
    from equipoise.simulation.scheduler import simulate_scenario_distributed
    from equipoise.simulation.strategies import load_strategies

    build = partial(load_strategies, example_path("anxiety"), draws=5, seed=3, horizon="20w")
    ticks: list[tuple[int, int]] = []
    remote = simulate_scenario_distributed(build, 300, 17, scheduler="local", n_workers=2,
                                           chunk_patients=chunk_patients, chunk_draws=2,
                                           progress=lambda done, total: ticks.append(
                                               (done, total)))
    local = simulate_scenario(build(), 300, 17)
    assert list(remote.outcomes) == list(local.outcomes)
    for name, want in local.outcomes.items():
        got = remote.outcomes[name]
        assert np.array_equal(got.occupancy, want.occupancy)
        for reward in want.totals:
            assert np.array_equal(got.totals[reward], want.totals[reward])
            assert np.array_equal(got.mcse[reward], want.mcse[reward], equal_nan=True)
    blocks = 3 if chunk_patients else 1
    assert ticks[-1][0] == ticks[-1][1] == 6 * 3 * blocks  # strategies x draw x patient blocks
