"""Decision uncertainty over draws: net monetary benefit, CEAC and EVPI.

Costs and effects arrive as arrays with a leading draw axis and one column per strategy.

References
----------
Claxton K. The irrelevance of inference: a decision-making approach to the stochastic
evaluation of health care technologies. J Health Econ 1999;18:341-364.
Fenwick E, Claxton K, Sculpher M. Representing uncertainty: the role of cost-effectiveness
acceptability curves. Health Econ 2001;10:779-787.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equipoise.errors import ModelError

Float = NDArray[np.float64]


def check_draws(costs: ArrayLike, effects: ArrayLike) -> tuple[Float, Float]:
    c = np.atleast_2d(np.asarray(costs, dtype=np.float64))
    e = np.atleast_2d(np.asarray(effects, dtype=np.float64))
    if c.shape != e.shape:
        raise ModelError(f"costs {c.shape} and effects {e.shape} must have the same shape "
                         "(draws x strategies)")
    if not (np.isfinite(c).all() and np.isfinite(e).all()):
        raise ModelError("costs and effects must be finite")
    return c, e


def net_benefit(costs: ArrayLike, effects: ArrayLike, wtp: float) -> Float:
    """Net monetary benefit wtp·E - C per draw and strategy."""
    c, e = check_draws(costs, effects)
    return np.asarray(wtp * e - c)


@dataclass(frozen=True, eq=False)
class Acceptability:
    """CEAC: probability each strategy has the highest net benefit, per willingness to pay."""

    wtp: Float
    strategies: tuple[str, ...]
    probability: Float          # (len(wtp), strategies)
    optimal: tuple[str, ...]    # strategy with the highest expected net benefit at each wtp


def ceac(costs: ArrayLike, effects: ArrayLike, wtp: Sequence[float],
         strategies: Sequence[str]) -> Acceptability:
    """Cost-effectiveness acceptability curves (and the expected-net-benefit frontier)."""
    c, e = check_draws(costs, effects)
    if c.shape[1] != len(strategies):
        raise ModelError("one strategy name per column")
    w = np.asarray(wtp, dtype=np.float64)
    nb = w[:, None, None] * e[None] - c[None]          # (wtp, draws, strategies)
    best = nb.argmax(axis=2)
    prob = np.stack([(best == j).mean(axis=1) for j in range(c.shape[1])], axis=1)
    optimal = tuple(strategies[j] for j in nb.mean(axis=1).argmax(axis=1))
    return Acceptability(w, tuple(strategies), prob, optimal)


def evpi(costs: ArrayLike, effects: ArrayLike, wtp: float) -> float:
    """Expected value of perfect information: E[max NMB] - max E[NMB] (per person)."""
    nb = net_benefit(costs, effects, wtp)
    # E[max] >= max E exactly; rounding can leave -1e-12 where the two are equal.
    return max(0.0, float(nb.max(axis=1).mean() - nb.mean(axis=0).max()))
