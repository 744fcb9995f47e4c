"""Confidence intervals for tau², tau, I² and H² by the Q-profile method (metafor confint).

References
----------
Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. Stat Med
2007;26:37-52.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from equipoise.synthesis.batch import Float, MetaBatch
from equipoise.synthesis.tau2 import solve_generalised_q


@dataclass(frozen=True, eq=False)
class HeterogeneityInterval:
    """Q-profile limits per analysis; I² in percent, as metafor prints it."""

    tau2_low: Float
    tau2_high: Float
    vt: Float

    @property
    def tau_low(self) -> Float:
        return np.asarray(np.sqrt(self.tau2_low))

    @property
    def tau_high(self) -> Float:
        return np.asarray(np.sqrt(self.tau2_high))

    def i2(self, tau2: Float) -> Float:
        return np.asarray(100 * tau2 / (self.vt + tau2))

    def h2(self, tau2: Float) -> Float:
        return np.asarray(tau2 / self.vt + 1)


def q_profile(batch: MetaBatch, vt: Float, level: float = 0.95) -> HeterogeneityInterval:
    """Q-profile interval: the tau² values where the generalised Q meets the chi² quantiles.

    ``vt`` is the typical within-study variance used for I² and H² (``PooledEffect.vt``).
    """
    df = (batch.k - batch.p).astype(np.float64)
    alpha = 1 - level
    upper_q = np.asarray(stats.chi2.isf(alpha / 2, df), dtype=np.float64)
    lower_q = np.asarray(stats.chi2.ppf(alpha / 2, df), dtype=np.float64)
    low, _ = solve_generalised_q(batch, upper_q)
    high, _ = solve_generalised_q(batch, lower_q)
    return HeterogeneityInterval(low, high, vt)
