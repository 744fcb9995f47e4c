"""A scenario: what a model or strategy file compiles to, ready to simulate and compare.

One `MultiStateModel` per strategy, all on the same states, cycles and draws, with the names of
the rewards that are costs, effects (QALYs) and life-years, the discounting and within-cycle
convention, and the assumptions the report must flag. Both the general model file format
(``simulation/model_file.py``) and the anxiety strategy files (``simulation/strategies.py``)
produce one; ``simulation/run.py`` runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.model import Float, MultiStateModel
from equipoise.simulation.outcomes import CORRECTIONS

METHODS = ("microsimulation", "cohort")


@dataclass(frozen=True)
class Assumption:
    """A parameter the evidence does not give: its value, why it was chosen, how to change it."""

    name: str
    value: str
    reason: str
    change: str = ""                  # how a user overrides it (e.g. the file field)


@dataclass(frozen=True)
class Citation:
    """Where a parameter came from: a source and the place in it (row id, JSON path, table)."""

    name: str
    value: str
    source: str
    where: str


@dataclass(frozen=True, eq=False)
class Scenario:
    """Strategies as models, with everything needed to turn their runs into a CEA.

    Attributes
    ----------
    strategies
        Strategy id -> model; every model has the same states, ``n_cycles``, ``cycle_length``,
        reward names and draw count (1 or D).
    cost, effect, life_years
        Reward names of the costs, the effects (QALYs) and, where the model has them, the
        life-years; ``life_years`` is None otherwise.
    discount
        Annual discount rate per reward name.
    cycle_unit
        What one cycle is, for display (``"year"``, ``"week"``).
    groups
        Named groups of states whose share over time the report shows (e.g. ``"remission"``).
    tracks
        Rewards whose mean per cycle the report draws as a trajectory (e.g. ``"gad7"``); they
        are reported undiscounted and without within-cycle correction.
    """

    title: str
    source: str
    strategies: Mapping[str, MultiStateModel]
    labels: Mapping[str, str]
    cost: str
    effect: str
    discount: Mapping[str, float]
    correction: str
    cycle_unit: str
    currency: str
    life_years: str | None = None
    method: str = "microsimulation"
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    tracks: tuple[str, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    citations: tuple[Citation, ...] = ()
    default_patients: int = 1000

    def __post_init__(self) -> None:
        if not self.strategies:
            raise ModelError("a scenario needs at least one strategy")
        models = list(self.strategies.values())
        first = models[0]
        for name, m in self.strategies.items():
            if (m.states, m.n_cycles, m.cycle_length) != (first.states, first.n_cycles,
                                                          first.cycle_length):
                raise ModelError(f"strategy {name!r} differs from the first in its states, "
                                 "cycles or cycle length; strategies must share them")
            if list(m.rewards) != list(first.rewards):
                raise ModelError(f"strategy {name!r} has rewards {list(m.rewards)}, the first "
                                 f"has {list(first.rewards)}")
        draws = {m.n_draws for m in models} - {1}
        if len(draws) > 1:
            raise ModelError(f"strategies disagree on the number of draws: {sorted(draws)}")
        rewards = list(first.rewards)
        roles: tuple[tuple[str, str | None], ...] = (
            ("cost", self.cost), ("effect", self.effect), ("life_years", self.life_years))
        for role, reward in roles:
            if reward is not None and reward not in rewards:
                raise ModelError(f"the {role} reward {reward!r} is not one of the model's "
                                 f"rewards ({', '.join(rewards) or 'none'})")
        for name in self.tracks:
            if name not in rewards:
                raise ModelError(f"tracked reward {name!r} is not one of the model's rewards")
        if sorted(self.discount) != sorted(rewards):
            raise ModelError(f"discount rates must name every reward ({', '.join(rewards)})")
        if self.correction not in CORRECTIONS:
            raise ModelError(f"within-cycle correction must be one of {', '.join(CORRECTIONS)}")
        if self.method not in METHODS:
            raise ModelError(f"method must be one of {', '.join(METHODS)}")
        for group, states in self.groups.items():
            unknown = [s for s in states if s not in first.states]
            if unknown:
                raise ModelError(f"group {group!r} names unknown states {unknown}")
        if self.method == "cohort" and any(m.needs_microsimulation for m in models):
            raise ModelError("a cohort run cannot follow patient history; use microsimulation")

    @property
    def states(self) -> tuple[str, ...]:
        return next(iter(self.strategies.values())).states

    @property
    def n_cycles(self) -> int:
        return next(iter(self.strategies.values())).n_cycles

    @property
    def cycle_length(self) -> float:
        return next(iter(self.strategies.values())).cycle_length

    @property
    def n_draws(self) -> int:
        return max(m.n_draws for m in self.strategies.values())


def _fit_time_axis(a: Float, length: int, what: str, defined: int) -> Float:
    """``a`` with its time axis (axis 1) cut or extended to ``length``; only an axis that is
    the same at every cycle can be extended (anything else would invent values)."""
    have = int(a.shape[1])
    if have in (1, length):
        return a
    if length < have:
        return a[:, :length]
    if np.array_equal(a, np.broadcast_to(a[:, :1], a.shape)):
        return a[:, :1]
    raise ModelError(f"horizon: {what} changes from cycle to cycle and is given for "
                     f"{defined} cycles only; a longer horizon needs values the model does "
                     "not give (shorten the horizon or extend the model)")


def with_horizon(scenario: Scenario, n_cycles: int) -> Scenario:
    """``scenario`` run for ``n_cycles`` cycles instead of its own horizon.

    Time-varying transitions and rewards are truncated; a longer horizon is allowed only where
    they are the same at every cycle (time-homogeneous), which are then extended.

    Raises
    ------
    ModelError
        If ``n_cycles`` is below 1, or a longer horizon meets a time-varying array.
    """
    if isinstance(n_cycles, bool) or not isinstance(n_cycles, int) or n_cycles < 1:
        raise ModelError(f"horizon: must be at least one cycle, got {n_cycles!r}")
    if n_cycles == scenario.n_cycles:
        return scenario
    models: dict[str, MultiStateModel] = {}
    for name, m in scenario.strategies.items():
        defined = m.n_cycles
        transitions = _fit_time_axis(m.transitions, n_cycles,
                                     f"strategy {name!r}'s transition matrix", defined)
        rewards = {r: _fit_time_axis(v, n_cycles + 1, f"strategy {name!r}'s reward {r!r}",
                                     defined)
                   for r, v in m.rewards.items()}
        moves = {r: _fit_time_axis(v, n_cycles,
                                   f"strategy {name!r}'s transition reward {r!r}", defined)
                 for r, v in m.transition_rewards.items()}
        models[name] = replace(m, transitions=transitions, rewards=rewards, n_cycles=n_cycles,
                               transition_rewards=moves)
    return replace(scenario, strategies=models)
