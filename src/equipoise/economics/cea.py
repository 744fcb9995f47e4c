"""A cost-effectiveness analysis from strategies' costs and effects per draw.

Takes plain ``(draws, strategies)`` arrays, so it knows nothing about how they were simulated:
incremental analysis on the means (strong and extended dominance, ICERs), and with two or more
draws the CEAC, the expected-net-benefit frontier and EVPI over a willingness-to-pay grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from equipoise.economics.incremental import IncrementalRow, incremental
from equipoise.economics.uncertainty import Acceptability, Float, ceac, check_draws, evpi

DEFAULT_WTP_MAX = 100_000.0
DEFAULT_WTP_STEPS = 101


def wtp_grid(maximum: float = DEFAULT_WTP_MAX, steps: int = DEFAULT_WTP_STEPS) -> Float:
    """``steps`` evenly spaced willingness-to-pay values from 0 to ``maximum``."""
    return np.linspace(0.0, float(maximum), int(steps))


@dataclass(frozen=True, eq=False)
class CostEffectiveness:
    """Incremental analysis on the means, and decision uncertainty when there are draws."""

    strategies: tuple[str, ...]
    costs: Float                          # (D, strategies)
    effects: Float                        # (D, strategies)
    incremental: tuple[IncrementalRow, ...]
    wtp: Float
    acceptability: Acceptability | None   # None with a single draw
    evpi: Float | None                    # per wtp; None with a single draw

    @property
    def n_draws(self) -> int:
        return int(self.costs.shape[0])

    def mean_costs(self) -> dict[str, float]:
        return {s: float(v) for s, v in zip(self.strategies, self.costs.mean(axis=0),
                                            strict=True)}

    def mean_effects(self) -> dict[str, float]:
        return {s: float(v) for s, v in zip(self.strategies, self.effects.mean(axis=0),
                                            strict=True)}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "incremental": [_row(r) for r in self.incremental],
        }
        if self.acceptability is not None and self.evpi is not None:
            out["ceac"] = {
                "wtp": self.wtp.tolist(),
                "probability": {s: self.acceptability.probability[:, j].tolist()
                                for j, s in enumerate(self.strategies)},
                "optimal": list(self.acceptability.optimal),
            }
            out["evpi"] = {"wtp": self.wtp.tolist(), "per_person": self.evpi.tolist()}
        return out


def _row(r: IncrementalRow) -> dict[str, Any]:
    status = {"ND": "non-dominated", "D": "dominated", "ED": "extendedly dominated"}
    return {"strategy": r.strategy, "cost": r.cost, "effect": r.effect,
            "status": status.get(r.status, r.status), "compared_with": r.compared_with,
            "incremental_cost": r.inc_cost, "incremental_effect": r.inc_effect, "icer": r.icer}


def cost_effectiveness(costs: ArrayLike, effects: ArrayLike, strategies: Sequence[str], *,
                       wtp: ArrayLike | None = None) -> CostEffectiveness:
    """Analyse ``(D, strategies)`` costs and effects.

    Parameters
    ----------
    wtp
        Willingness-to-pay values per unit of effect for the CEAC and EVPI (default
        `wtp_grid()`: 0 to 100,000 in 101 steps).
    """
    c, e = check_draws(costs, effects)
    names = tuple(strategies)
    grid = wtp_grid() if wtp is None else np.asarray(wtp, dtype=np.float64)
    rows = incremental(dict(zip(names, c.mean(axis=0).tolist(), strict=True)),
                       dict(zip(names, e.mean(axis=0).tolist(), strict=True)))
    if c.shape[0] < 2:
        return CostEffectiveness(names, c, e, rows, grid, None, None)
    curves = ceac(c, e, grid.tolist(), names)
    values = np.array([evpi(c, e, float(w)) for w in grid])
    return CostEffectiveness(names, c, e, rows, grid, curves, values)
