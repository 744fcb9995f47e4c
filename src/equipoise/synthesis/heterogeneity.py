"""Confidence intervals for tau², tau, I² and H² by the Q-profile method (metafor confint).

References
----------
Viechtbauer W. Confidence intervals for the amount of heterogeneity in meta-analysis. Stat Med
2007;26:37-52.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats

from equipoise.errors import ConvergenceError
from equipoise.synthesis import linalg
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


def zeroin(f: Callable[[float], float], a: float, b: float, *, tol: float,
           maxiter: int = 1000) -> float:
    """Brent's root finder with R's ``uniroot`` conventions (netlib zeroin), step for step.

    Used only to reproduce metafor's printed intervals, which carry uniroot's default
    tolerance (machine epsilon ** 0.25); equipoise's own intervals are solved exactly.

    References
    ----------
    Brent RP. Algorithms for Minimization without Derivatives. Prentice-Hall; 1973, ch. 4.
    """
    eps = float(np.finfo(float).eps)
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < 0.75 * cb * q - abs(tol_act * q) / 2 and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise ConvergenceError(f"root finder did not converge in {maxiter} iterations")


def q_profile_metafor(batch: MetaBatch, vt: Float, tau2: Float,
                      level: float = 0.95) -> HeterogeneityInterval:
    """The Q-profile interval as metafor's ``confint`` computes it (uniroot on [0, tau2_max],
    tau2_max = max(100, 10 tau2), tolerance eps ** 0.25) for reproducing its printed values."""
    df = (batch.k - batch.p).astype(np.float64)
    alpha = 1 - level
    low = np.zeros(batch.size)
    high = np.zeros(batch.size)
    tol = float(np.finfo(float).eps) ** 0.25
    for b in range(batch.size):
        one = batch.rows(b, b + 1)
        t_max = max(100.0, 10 * float(tau2[b]))
        for out, target in ((low, float(stats.chi2.isf(alpha / 2, df[b]))),
                            (high, float(stats.chi2.ppf(alpha / 2, df[b])))):
            gap = partial(_q_gap, one, target)
            if gap(0.0) > 0:
                out[b] = zeroin(gap, 0.0, t_max, tol=tol)
    return HeterogeneityInterval(low, high, vt)


def _q_gap(one: MetaBatch, target: float, tau2: float) -> float:
    """Generalised Q at tau² minus a target (one analysis)."""
    return float(linalg.fit(one, 1.0 / (one.v + tau2)).rss[0]) - target
