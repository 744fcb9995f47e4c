"""Small-study effects: Egger-type regression tests and the Begg-Mazumdar rank correlation test.

``regtest`` follows metafor's ``regtest``: the effect sizes are regressed on a measure of
precision (the standard error by default) either in a weighted least-squares model with a
multiplicative dispersion (``model="lm"``, Egger's classical test, t with k - 2 df) or in a
mixed-effects meta-regression (``model="rma"``, metafor's default, z test). The intercept is
the "limit estimate": the effect expected in a study of infinite precision.

References
----------
Egger M, Davey Smith G, Schneider M, Minder C. Bias in meta-analysis detected by a simple,
graphical test. BMJ 1997;315:629-634.
Sterne JAC, Egger M. Regression methods to detect publication and other bias in
meta-analysis. In: Publication Bias in Meta-Analysis. Wiley; 2005:99-110.
Begg CB, Mazumdar M. Operating characteristics of a rank correlation test for publication bias.
Biometrics 1994;50:1088-1101.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from equipoise.errors import ModelError
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis

PREDICTORS = ("sei", "vi", "ni", "ninv", "sqrtninv")


@dataclass(frozen=True)
class RegressionTest:
    """The slope test for small-study effects and the limit estimate (intercept)."""

    model: str
    predictor: str
    statistic: float          # z (model "rma") or t (model "lm")
    df: float | None
    pval: float
    limit_estimate: float | None
    limit_ci_low: float | None
    limit_ci_high: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def regtest(yi: ArrayLike, vi: ArrayLike, *, model: str = "rma", predictor: str = "sei",
            ni: ArrayLike | None = None, method: str = "REML", level: float = 0.95,
            threshold: float = 1e-10) -> RegressionTest:
    """Regression test for funnel-plot asymmetry (metafor ``regtest``)."""
    if predictor not in PREDICTORS:
        raise ModelError(f"predictor must be one of {', '.join(PREDICTORS)}")
    if model not in ("rma", "lm"):
        raise ModelError("model must be 'rma' (mixed-effects) or 'lm' (classical Egger)")
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if predictor in ("ni", "ninv", "sqrtninv"):
        if ni is None:
            raise ModelError(f"predictor {predictor!r} needs the sample sizes ni")
        n = np.asarray(ni, dtype=np.float64)
        x = {"ni": n, "ninv": 1 / n, "sqrtninv": 1 / np.sqrt(n)}[predictor]
    else:
        x = np.sqrt(v) if predictor == "sei" else v
    batch = MetaBatch.from_arrays(y, v, x)
    if model == "lm":
        fit = MetaAnalysis("FE", test="knha", level=level).fit(batch)
    else:
        fit = MetaAnalysis(method, level=level, threshold=threshold).fit(batch)
    df = None if np.isnan(fit.df[0]) else float(fit.df[0])
    has_limit = predictor != "ni"
    return RegressionTest(
        model=model, predictor=predictor, statistic=float(fit.stat[0, 1]), df=df,
        pval=float(fit.pval[0, 1]),
        limit_estimate=float(fit.beta[0, 0]) if has_limit else None,
        limit_ci_low=float(fit.ci_low[0, 0]) if has_limit else None,
        limit_ci_high=float(fit.ci_high[0, 0]) if has_limit else None)


@dataclass(frozen=True)
class RankTest:
    """Kendall's tau between standardised effects and their variances, with its p-value."""

    tau: float
    pval: float


def ranktest(yi: ArrayLike, vi: ArrayLike) -> RankTest:
    """Begg and Mazumdar's rank correlation test (metafor ``ranktest``; exact p without ties)."""
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    if y.shape != v.shape or y.size < 3:
        raise ModelError("ranktest needs at least 3 studies with one variance each")
    w = 1 / v
    theta = float(np.sum(w * y) / np.sum(w))
    vb = 1 / np.sum(w)
    y_star = (y - theta) / np.sqrt(v - vb)
    ties = len(np.unique(y_star)) < y.size or len(np.unique(v)) < v.size
    result = stats.kendalltau(y_star, v, method="asymptotic" if ties else "exact")
    return RankTest(float(result.statistic), float(result.pvalue))
