"""Pairwise meta-analysis: common effect and random effects, batched (metafor's rma.uni).

Settings go in the constructor and are checked there; data go in :meth:`MetaAnalysis.fit`,
which returns an immutable :class:`~equipoise.synthesis.results.PooledEffect`.

References
----------
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48. doi:10.18637/jss.v036.i03
Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single
covariate. Stat Med 2003;22:2693-2710.
Riley RD, Higgins JPT, Deeks JJ. Interpretation of random effects meta-analyses. BMJ
2011;342:d549 (prediction interval with t(k-2)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from equipoise.errors import ModelError
from equipoise.synthesis import linalg
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.results import PooledEffect
from equipoise.synthesis.tau2 import TAU2_METHODS, Tau2Estimator, estimator

COMMON = ("FE", "EE", "CE")
TESTS = ("z", "t", "knha", "adhoc")
PREDICTIONS = ("metafor", "riley")


class MetaAnalysis:
    """Inverse-variance meta-analysis (and meta-regression with moderators).

    Parameters
    ----------
    method
        ``"FE"``/``"EE"``/``"CE"`` for a common (equal) effect, or a tau² estimator name
        (DL, HE, HS, HSk, SJ, PM, ML, REML, EB, DL2, HE2) or instance.
    test
        ``"z"``; ``"t"`` (t with k - p df); ``"knha"`` (Knapp-Hartung); ``"adhoc"`` (Knapp-Hartung
        truncated so the variance is never below the standard one).
    level
        Confidence level of intervals, e.g. 0.95.
    prediction
        ``"metafor"``: mu ± crit·sqrt(se² + tau²) with the test's critical value (z, or t(k - p));
        ``"riley"``: the t(k - 2) quantile (Riley et al. 2011).
    threshold, maxiter
        Convergence of iterative tau² estimators (change in tau² below ``threshold``).
    """

    def __init__(self, method: str | Tau2Estimator = "REML", *, test: str = "z",
                 level: float = 0.95, prediction: str = "metafor", threshold: float = 1e-10,
                 maxiter: int = 1000) -> None:
        if test not in TESTS:
            raise ModelError(f"test must be one of {', '.join(TESTS)}, not {test!r}")
        if not 0 < level < 1:
            raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
        if prediction not in PREDICTIONS:
            raise ModelError(f"prediction must be one of {', '.join(PREDICTIONS)}")
        self.common = isinstance(method, str) and method.upper() in COMMON
        if isinstance(method, Tau2Estimator):
            self.tau2_estimator: Tau2Estimator | None = method
            self.method = type(method).__name__
        elif self.common:
            self.tau2_estimator = None
            self.method = "FE"
        else:
            if method.upper() not in {m.upper() for m in TAU2_METHODS}:
                raise ModelError(f"unknown method {method!r}; use FE or one of "
                                 f"{', '.join(TAU2_METHODS)}")
            self.tau2_estimator = estimator(method, threshold=threshold, maxiter=maxiter)
            self.method = method.upper() if method.upper() != "HSK" else "HSk"
        self.test, self.level, self.prediction = test, level, prediction

    def fit(self, data: MetaBatch | Any) -> PooledEffect:
        """Fit every analysis in ``data`` (a MetaBatch, EffectSizes or a ``(yi, vi)`` pair)."""
        batch = as_batch(data)
        k = batch.k.astype(np.float64)
        p = batch.p
        df_resid = k - p
        if self.tau2_estimator is None:
            tau2 = np.zeros(batch.size)
            tau2_se = np.full(batch.size, np.nan)
            iterations = np.zeros(batch.size, dtype=np.int64)
        else:
            est = self.tau2_estimator.estimate(batch)
            # With no residual degrees of freedom tau² is not estimable: 0, as metafor sets it.
            tau2 = np.where(batch.k > p, est.tau2, 0.0)
            tau2_se, iterations = est.se, est.iterations
        f = linalg.fit(batch, 1.0 / (batch.v + tau2[:, None]))
        vb = f.A.copy()
        if self.test in ("knha", "adhoc"):
            rss = f.rss
            s2w = np.where(rss <= np.finfo(float).eps, 0.0,
                           rss / np.where(df_resid > 0, df_resid, np.nan))
            if self.test == "adhoc":
                s2w = np.maximum(s2w, 1.0)
            vb = vb * s2w[:, None, None]
        se = np.sqrt(np.einsum("bpp->bp", vb))
        stat = f.beta / se
        alpha = 1 - self.level
        if self.test == "z":
            df = np.full(batch.size, np.nan)
            pval = 2 * stats.norm.sf(np.abs(stat))
            crit = np.full(batch.size, float(stats.norm.isf(alpha / 2)))
        else:
            df = np.where(df_resid > 0, df_resid, np.nan)
            pval = 2 * stats.t.sf(np.abs(stat), df[:, None])
            crit = np.asarray(stats.t.isf(alpha / 2, df), dtype=np.float64)
        ci_low = f.beta - crit[:, None] * se
        ci_high = f.beta + crit[:, None] * se

        q, q_df, q_pval, i2, h2, vt = self._heterogeneity(batch, tau2)
        pi_se = np.sqrt(se[:, 0] ** 2 + tau2)
        if self.prediction == "riley":
            pcrit = np.asarray(stats.t.isf(alpha / 2, np.where(k > 2, k - 2, np.nan)),
                               dtype=np.float64)
        else:
            pcrit = crit
        intercept_only = p == 1
        pi_low = np.where(intercept_only, f.beta[:, 0] - pcrit * pi_se, np.nan)
        pi_high = np.where(intercept_only, f.beta[:, 0] + pcrit * pi_se, np.nan)
        weights = 100.0 * f.w / f.w.sum(axis=1, keepdims=True)
        return PooledEffect(
            method=self.method, test=self.test, level=self.level, k=batch.k, beta=f.beta,
            se=se, vb=vb, stat=stat, df=df, pval=pval, ci_low=ci_low, ci_high=ci_high,
            tau2=tau2, tau2_se=tau2_se, q=q, q_df=q_df, q_pval=q_pval, i2=i2, h2=h2, vt=vt,
            pi_low=pi_low, pi_high=pi_high, pi_se=pi_se, weights=weights,
            iterations=iterations, study=batch.study)

    def _heterogeneity(self, batch: MetaBatch, tau2: np.ndarray) -> tuple[np.ndarray, ...]:
        """Cochran's Q (common-effect residuals), its df and p, I², H² and the typical vi."""
        k = batch.k.astype(np.float64)
        df = k - batch.p
        f0 = linalg.fit(batch, 1.0 / batch.v)
        has_df = df > 0
        q = np.where(has_df, np.maximum(f0.rss, 0.0), 0.0)
        q_pval = np.where(has_df, stats.chi2.sf(q, np.where(has_df, df, 1.0)), 1.0)
        tr_p = linalg.trace_p(batch, f0)
        vt = np.where(has_df, df / np.where(tr_p > 0, tr_p, np.nan), 0.0)
        if self.common:
            with np.errstate(divide="ignore", invalid="ignore"):
                i2 = np.where(has_df & (q > 0), np.maximum(0.0, 100 * (q - df) / q), 0.0)
                h2 = np.where(has_df, q / np.where(has_df, df, 1.0), 1.0)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                i2 = np.where(has_df, 100 * tau2 / (vt + tau2), 0.0)
                h2 = np.where(has_df, tau2 / vt + 1, 1.0)
            i2 = np.nan_to_num(i2)
            h2 = np.where(np.isfinite(h2), h2, 1.0)
        return q, np.where(has_df, df, 0.0), q_pval, i2, h2, vt


def as_batch(data: MetaBatch | Any) -> MetaBatch:
    """Accept a MetaBatch, an object with ``yi``/``vi`` (EffectSizes) or a ``(yi, vi)`` pair."""
    if isinstance(data, MetaBatch):
        return data
    if hasattr(data, "yi") and hasattr(data, "vi"):
        study = getattr(data, "study", None)
        return MetaBatch.from_arrays(data.yi, data.vi, study=study)
    if isinstance(data, tuple) and len(data) == 2:
        return MetaBatch.from_arrays(data[0], data[1])
    raise ModelError("fit() takes a MetaBatch, EffectSizes or a (yi, vi) pair")


def rma(yi: Any, vi: Any, method: str = "REML", **settings: Any) -> PooledEffect:
    """Shorthand for ``MetaAnalysis(method, **settings).fit((yi, vi))`` (R users' ``rma``)."""
    return MetaAnalysis(method, **settings).fit(MetaBatch.from_arrays(yi, vi))


def leave_one_out(analysis: MetaAnalysis, data: MetaBatch | Any) -> PooledEffect:
    """Refit one meta-analysis k times, each time without one study (metafor ``leave1out``).

    Returns a batch whose analysis i omits study i; the k fits are one vectorised call.
    """
    batch = as_batch(data)
    if batch.size != 1:
        raise ModelError("leave_one_out takes a single meta-analysis")
    k = int(batch.k[0])
    if k < 2:
        raise ModelError("leave-one-out needs at least two studies")
    keep = np.flatnonzero(batch.mask[0])
    y, v, X = batch.y[0, keep], batch.v[0, keep], batch.X[0, keep, :]
    mask = ~np.eye(k, dtype=bool)
    labels = batch.study[0] if batch.study else tuple(str(i + 1) for i in range(k))
    loo = MetaBatch(np.where(mask, y[None, :], 0.0), np.where(mask, v[None, :], 1.0), mask,
                    np.where(mask[:, :, None], X[None, :, :], 0.0),
                    tuple(tuple(lab for j, lab in enumerate(labels) if j != i)
                          for i in range(k)))
    loo.validate()
    return analysis.fit(loo)
