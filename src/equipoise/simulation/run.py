"""Running a scenario: every strategy on the same patients and draws, into an outcome table.

Microsimulation runs each strategy with the same seed, so strategies share their random numbers
(common random numbers) and their differences carry less noise than their levels. Work is done
in (strategy, block of draws) chunks so long runs can report progress; the blocks assemble into
exactly the run `microsimulate` would give (random streams are keyed by global draw and patient).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.engine import cohort_trace
from equipoise.simulation.microsim import (
    MicrosimChunk,
    Microsimulation,
    as_seed,
    assemble_chunks,
    check_run,
    reward_weights,
    simulate_chunk,
    transition_weights,
)
from equipoise.simulation.model import Float, MultiStateModel
from equipoise.simulation.outcomes import accumulate, accumulate_transitions
from equipoise.simulation.scenario import Scenario

Progress = Callable[[int, int], None]       # (done, total) units of work


@dataclass(frozen=True, eq=False)
class StrategyOutcome:
    """One strategy's results: per-draw means of every reward and the state shares over time.

    ``totals`` and ``mcse`` map each reward to ``(D,)`` arrays (discounted, corrected);
    ``occupancy`` is ``(D, T + 1, S)``, the share of patients per state and cycle; ``tracks``
    maps each tracked reward to its undiscounted mean per cycle, ``(D, T + 1)``.
    """

    name: str
    label: str
    totals: Mapping[str, Float]
    mcse: Mapping[str, Float]
    occupancy: Float
    tracks: Mapping[str, Float]


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario run: its settings and one `StrategyOutcome` per strategy, in file order."""

    scenario: Scenario
    n_patients: int
    seed: int
    outcomes: Mapping[str, StrategyOutcome]

    @property
    def strategies(self) -> tuple[str, ...]:
        return tuple(self.outcomes)

    def matrix(self, reward: str) -> Float:
        """``(D, strategies)``: the per-draw mean of ``reward`` for each strategy."""
        return np.column_stack([o.totals[reward] for o in self.outcomes.values()])

    def group_share(self, group: str) -> dict[str, Float]:
        """Share of patients in the states of ``group`` per strategy, ``(D, T + 1)`` each."""
        states = self.scenario.groups.get(group)
        if states is None:
            raise ModelError(f"unknown state group {group!r}; the scenario has "
                             f"{', '.join(self.scenario.groups) or 'none'}")
        idx = [self.scenario.states.index(s) for s in states]
        return {name: o.occupancy[:, :, idx].sum(axis=2) for name, o in self.outcomes.items()}


def _track(model: MultiStateModel, name: str, occupancy: Float) -> Float:
    """Mean of reward ``name`` per cycle from state shares (exact: the reward is per state)."""
    r = model.reward_by_duration(name)
    if r.shape[2] > 1 or any(m.reward == name for m in model.modifiers):
        raise ModelError(f"tracked reward {name!r} depends on patient history; a tracked "
                         "reward must depend on state and cycle only")
    values = np.broadcast_to(r[:, :, 0], occupancy.shape)
    return np.asarray((occupancy * values).sum(axis=2))


def with_draws(model: MultiStateModel, d: int) -> MultiStateModel:
    """``model`` with every draw axis of length ``d`` (a strategy without uncertain inputs
    still meets each draw's patients with that draw's random numbers)."""
    if model.n_draws == d:
        return model
    def widen(v: Float) -> Float:
        return np.broadcast_to(v, (d, *v.shape[1:]))
    return replace(model, transitions=widen(model.transitions),
                   rewards={k: widen(v) for k, v in model.rewards.items()},
                   transition_rewards={k: widen(v) for k, v in model.transition_rewards.items()})


def _microsimulation(model: MultiStateModel, scenario: Scenario, n_patients: int, seed: int,
                     block: int, tick: Callable[[], None]) -> Microsimulation:
    weights = reward_weights(model, scenario.discount, scenario.correction)
    d = model.n_draws

    keep = patient_rewards(scenario, model)
    moves = transition_weights(model, scenario.discount)

    def chunks() -> Iterator[MicrosimChunk]:
        for start in range(0, d, block):
            yield simulate_chunk(model, seed, range(start, min(start + block, d)),
                                 range(n_patients), weights=weights, patient_rewards=keep,
                                 transition_weights=moves)
            tick()
    return assemble_chunks(model, seed, n_patients, chunks(), weights=weights)


def patient_rewards(scenario: Scenario, model: MultiStateModel) -> tuple[str, ...]:
    """Rewards a run totals patient by patient: the cost, effect and life-years (for their
    Monte Carlo errors) and any that depend on patient history; the others' means come
    exactly from the state counts."""
    roles = {scenario.cost, scenario.effect, scenario.life_years}
    modified = {m.reward for m in model.modifiers}
    return tuple(r for r in model.rewards
                 if r in roles or r in modified or r in model.transition_rewards
                 or model.reward_by_duration(r).shape[2] > 1)


def simulate_scenario(scenario: Scenario, n_patients: int | None = None,
                      seed: int | np.random.Generator = 0, *,
                      progress: Progress | None = None,
                      runner: Callable[[MultiStateModel, int, int], Microsimulation] | None = None,
                      ) -> ScenarioResult:
    """Run every strategy of ``scenario`` and collect its outcomes.

    Parameters
    ----------
    n_patients
        Patients per draw and strategy (microsimulation; default the scenario's); ignored by a
        cohort scenario, which is exact.
    seed
        One seed for every strategy (common random numbers).
    progress
        Called as ``progress(done, total)`` after each unit of work.
    runner
        Runs one strategy's microsimulation as ``runner(model, n_patients, seed)``, e.g. on a
        Dask cluster (`equipoise.simulation.scheduler`); by default, in this process.
    """
    n = scenario.default_patients if n_patients is None else n_patients
    check_run(n, None)
    seed = as_seed(seed)
    d = scenario.n_draws
    block = max(1, math.ceil(d / 20)) if runner is None else d
    per_strategy = 1 if scenario.method == "cohort" or runner is not None else -(-d // block)
    total = per_strategy * len(scenario.strategies)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    outcomes: dict[str, StrategyOutcome] = {}
    for name, model in scenario.strategies.items():
        model = with_draws(model, d)
        if scenario.method == "cohort":
            occupancy = np.broadcast_to(cohort_trace(model), (d, model.n_cycles + 1,
                                                              len(model.states)))
            weights = reward_weights(model, scenario.discount, scenario.correction)
            moves = transition_weights(model, scenario.discount)
            totals = {r: accumulate(occupancy, np.broadcast_to(
                          model.rewards[r], occupancy.shape), weights[r])
                      + (accumulate_transitions(occupancy, model.transitions,
                                                model.transition_rewards[r], moves[r])
                         if r in model.transition_rewards else 0.0)
                      for r in model.rewards}
            mcse = {r: np.zeros(d) for r in model.rewards}
            tick()
            tracks = {t: _track(model, t, occupancy) for t in scenario.tracks}
            outcomes[name] = StrategyOutcome(name, scenario.labels.get(name, name),
                                             {k: np.asarray(v) for k, v in totals.items()},
                                             {k: np.asarray(v) for k, v in mcse.items()},
                                             np.asarray(occupancy), tracks)
        else:
            if runner is None:
                sim = _microsimulation(model, scenario, n, seed, block, tick)
            else:
                sim = runner(model, n, seed)
                tick()
            outcomes[name] = outcome_of(scenario, name, model, sim)
    return ScenarioResult(scenario, n, seed, outcomes)


def outcome_of(scenario: Scenario, name: str, model: MultiStateModel,
               sim: Microsimulation) -> StrategyOutcome:
    """A strategy's outcome from its microsimulation (draw axes of length 1 broadcast)."""
    d = scenario.n_draws
    occupancy = np.asarray(np.broadcast_to(sim.trace(), (d, *sim.counts.shape[1:])))
    totals = {r: np.asarray(np.broadcast_to(sim.means[r], (d,))) for r in model.rewards}
    mcse = {r: np.asarray(np.broadcast_to(sim.mcse[r], (d,))) for r in model.rewards}
    tracks = {t: _track(model, t, occupancy) for t in scenario.tracks}
    return StrategyOutcome(name, scenario.labels.get(name, name), totals, mcse, occupancy,
                           tracks)
