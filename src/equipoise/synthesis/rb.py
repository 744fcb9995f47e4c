"""Crippa's R_b: the share of the pooled estimate's variance due to between-study variance.

``R_b = (1/k) sum_i tau² / (v_i + tau²)`` (Crippa et al. 2016, equation 4), with a Wald
interval from the delta-method standard error of their Appendix D, clipped to [0, 1], as R meta
reports it (``Rb``, ``lower.Rb``, ``upper.Rb``).

References
----------
Crippa A, Khudyakov P, Wang M, Orsini N, Spiegelman D. A new measure of between-studies
heterogeneity in meta-analysis. Stat Med 2016;35:3661-3675. doi:10.1002/sim.6980
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from equipoise.errors import ModelError


@dataclass(frozen=True, eq=False)
class RbEstimate:
    """R_b with its standard error and confidence interval (NaN when k < 2)."""

    rb: float
    se: float
    ci_low: float
    ci_high: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        return {"rb": self.rb, "se": self.se, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "level": self.level}


def crippa_rb(vi: ArrayLike, tau2: float, q: float, *, se_random: float | None = None,
              level: float = 0.95) -> RbEstimate:
    """Crippa's R_b and its interval, computed as R meta does.

    Parameters
    ----------
    vi
        Sampling variances of the k studies.
    tau2
        The between-study variance estimate.
    q
        Cochran's Q (inverse-variance weights), which enters the standard error.
    se_random
        Standard error of the random-effects estimate. When given, ``R_b = tau² / (k
        se_random²)``, R meta's form; it equals equation 4 for the usual standard error,
        ``1 / sqrt(sum 1/(v + tau²))``, which is used when ``se_random`` is None. R meta
        (4.x with ``hakn = TRUE``) passes the Hartung-Knapp standard error here.
    level
        Confidence level, e.g. 0.95.

    Returns
    -------
    RbEstimate
        The interval is ``R_b ± z se``, clipped to [0, 1]; R_b itself is not clipped.

    Notes
    -----
    With ``w = 1/v``, ``S_n = sum w^n`` and ``c = S_1 - S_2/S_1``, the standard error is
    ``|(1/k) sum_i a_i / (Q + a_i - (k-1))²| SE(Q)`` with ``a_i = v_i c`` and ``SE(Q)² =
    2(k-1) + 4 c tau² + 2 (S_2 - 2 S_3/S_1 + S_2²/S_1²) tau⁴`` (Appendix D).

    References
    ----------
    Crippa A, Khudyakov P, Wang M, Orsini N, Spiegelman D. A new measure of between-studies
    heterogeneity in meta-analysis. Stat Med 2016;35:3661-3675 (equation 4, Appendix D).
    """
    if not 0 < level < 1:
        raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
    v = np.asarray(vi, dtype=np.float64).ravel()
    if v.size == 0 or not (np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ModelError("vi must be finite and positive")
    tau2, q = float(tau2), float(q)
    if not (math.isfinite(tau2) and tau2 >= 0 and math.isfinite(q) and q >= 0):
        raise ModelError("tau2 and q must be finite and non-negative")
    k = v.size
    if k < 2:
        return RbEstimate(math.nan, math.nan, math.nan, math.nan, level)
    if se_random is None:
        rb = float(np.mean(tau2 / (v + tau2)))
    else:
        rb = tau2 / (k * float(se_random) ** 2)
    w = 1.0 / v
    s1, s2, s3 = float(w.sum()), float((w**2).sum()), float((w**3).sum())
    c = s1 - s2 / s1
    se_q = math.sqrt(2 * (k - 1) + 4 * c * tau2
                     + 2 * (s2 - 2 * s3 / s1 + s2**2 / s1**2) * tau2**2)
    a = v * c
    se = abs(float(np.sum(a / (q + a - (k - 1)) ** 2)) / k) * se_q
    z = float(stats.norm.isf((1 - level) / 2))
    return RbEstimate(rb, se, max(rb - z * se, 0.0), min(rb + z * se, 1.0), level)
