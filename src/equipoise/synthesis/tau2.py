"""Estimators of the between-study variance tau², one small class each (metafor's conventions).

Each estimator implements ``estimate(batch) -> Tau2Result``; every estimate is truncated at 0.
Formulas and standard errors follow metafor's ``rma.uni`` (Viechtbauer 2010); iterative
estimators start where metafor starts and stop when the change in tau² is below ``threshold``
(metafor's default is 1e-5; equipoise's default is tighter).

References
----------
DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-188.
Hedges LV, Olkin I. Statistical Methods for Meta-Analysis. Academic Press; 1985 (HE).
Hunter JE, Schmidt FL. Methods of Meta-Analysis. 2nd ed. Sage; 2004 (HS).
Sidik K, Jonkman JN. Simple heterogeneity variance estimation for meta-analysis. J R Stat Soc C
2005;54:367-384 (SJ).
Paule RC, Mandel J. Consensus values and weighting factors. J Res Natl Bur Stand 1982;87:377-385.
Morris CN. Parametric empirical Bayes inference. J Am Stat Assoc 1983;78:47-55 (EB).
DerSimonian R, Kacker R. Random-effects model for meta-analysis of clinical trials: an update.
Contemp Clin Trials 2007;28:105-114 (two-step estimators).
Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects
model. J Educ Behav Stat 2005;30:261-293 (ML, REML).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import ConvergenceError, ModelError
from equipoise.synthesis import linalg, reml_intercept
from equipoise.synthesis.batch import Float, MetaBatch

_CHUNK = 512


NDArrayInt = NDArray[np.int64]
NDArrayBool = NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Tau2Result:
    """tau² per analysis with its standard error and iteration bookkeeping."""

    tau2: Float
    se: Float
    iterations: NDArrayInt
    converged: NDArrayBool


def _df(batch: MetaBatch) -> Float:
    return np.asarray(batch.k - batch.p, dtype=np.float64)


def _safe(num: Float, den: Float) -> Float:
    """num / den with 0 where den is 0 (k = p leaves no information about tau²)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _pv_traces(batch: MetaBatch, w: Float) -> tuple[Float, Float, Float, Float, Float]:
    """tr(P), tr(PV), tr(PVPV), tr(PVP), tr(PP) for weights ``w``, computed in chunks."""
    out = np.zeros((5, batch.size))
    for start in range(0, batch.size, _CHUNK):
        sub = batch.rows(start, start + _CHUNK)
        f = linalg.fit(sub, w[start:start + _CHUNK])
        P = linalg.p_matrix(sub, f)
        V = np.where(sub.mask, sub.v, 0.0)
        PV = P * V[:, None, :]
        sl = slice(start, start + sub.size)
        out[0, sl] = np.einsum("bkk->b", P)
        out[1, sl] = np.einsum("bkk->b", PV)
        out[2, sl] = np.einsum("bkl,blk->b", PV, PV)
        out[3, sl] = np.einsum("bkl,bkl->b", PV, P)
        out[4, sl] = np.einsum("bkl,bkl->b", P, P)
    return out[0], out[1], out[2], out[3], out[4]


class Tau2Estimator:
    """Base class: subclasses implement :meth:`estimate` (and set ``name``)."""

    name: ClassVar[str] = ""
    iterative: ClassVar[bool] = False

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        raise NotImplementedError

    @staticmethod
    def _done(tau2: Float, se: Float, iterations: int | NDArrayInt = 0,
              converged: NDArrayBool | None = None) -> Tau2Result:
        n = tau2.shape[0]
        it = (np.full(n, iterations, dtype=np.int64) if isinstance(iterations, int)
              else np.asarray(iterations, dtype=np.int64))
        conv = np.ones(n, dtype=bool) if converged is None else converged
        return Tau2Result(np.maximum(tau2, 0.0), se, it, conv)


class HE(Tau2Estimator):
    """Hedges (Cochran ANOVA) estimator from the unweighted least-squares residuals."""

    name = "HE"

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        df = _df(batch)
        ones = batch.mask.astype(np.float64)
        f = linalg.fit(batch, ones)
        rss = f.rss
        _, tr_pv, tr_pvpv, _, _ = _pv_traces(batch, ones)
        tau2 = np.maximum(_safe(rss - tr_pv, df), 0.0)
        se = np.sqrt(_safe(2 * tr_pvpv + 4 * tau2 * tr_pv + 2 * tau2**2 * df, df**2))
        return self._done(tau2, se)


class DL(Tau2Estimator):
    """DerSimonian-Laird method-of-moments estimator (inverse-variance weights)."""

    name = "DL"

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        df = _df(batch)
        f = linalg.fit(batch, 1.0 / batch.v)
        tr_p = linalg.trace_p(batch, f)
        tau2 = np.maximum(_safe(f.rss - df, tr_p), 0.0)
        tr_pp = linalg.trace_pp(batch, f)
        se = np.sqrt(_safe(2 * df + 4 * tau2 * tr_p + 2 * tau2**2 * tr_pp, tr_p**2))
        return self._done(tau2, se)


class HS(Tau2Estimator):
    """Hunter-Schmidt estimator; ``small_sample=True`` gives metafor's HSk (k/(k-p) factor)."""

    def __init__(self, small_sample: bool = False) -> None:
        self.small_sample = small_sample

    @property
    def label(self) -> str:
        return "HSk" if self.small_sample else "HS"

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        df = _df(batch)
        k = batch.k.astype(np.float64)
        f = linalg.fit(batch, 1.0 / batch.v)
        sw = f.w.sum(axis=1)
        scale = _safe(k, df) if self.small_sample else np.ones_like(k)
        tau2 = np.maximum((scale * f.rss - k) / sw, 0.0)
        tr_p, tr_pp = linalg.trace_p(batch, f), linalg.trace_pp(batch, f)
        se = scale * np.sqrt((2 * df + 4 * tau2 * tr_p + 2 * tau2**2 * tr_pp) / sw**2)
        return self._done(tau2, se)


class SJ(Tau2Estimator):
    """Sidik-Jonkman two-step estimator starting from the (biased) variance of the y's."""

    name = "SJ"

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        df = _df(batch)
        k = batch.k.astype(np.float64)
        mean = (batch.y * batch.mask).sum(axis=1) / k
        tau0 = ((batch.y - mean[:, None]) ** 2 * batch.mask).sum(axis=1) / k
        w = 1.0 / (batch.v + tau0[:, None])
        f = linalg.fit(batch, w)
        tau2 = np.maximum(tau0 * _safe(f.rss, df), 0.0)
        _, _, tr_pvpv, tr_pvp, tr_pp = _pv_traces(batch, w)
        se = np.sqrt(_safe(tau0**2 * (2 * tr_pvpv + 4 * tau2 * tr_pvp + 2 * tau2**2 * tr_pp),
                           df**2))
        return self._done(tau2, se)


class GENQ(Tau2Estimator):
    """Generalised Q estimator with weights 1/(v + tau0²) from a first-step estimator.

    ``GENQ(DL())`` is DerSimonian and Kacker's two-step DL ("DL2"); ``GENQ(HE())`` their
    two-step Cochran estimator ("CA2" / "HE2").
    """

    def __init__(self, first: Tau2Estimator) -> None:
        self.first = first

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        tau0 = self.first.estimate(batch).tau2
        a = 1.0 / (batch.v + tau0[:, None])
        f = linalg.fit(batch, a)
        tr_p, tr_pv, tr_pvpv, tr_pvp, tr_pp = _pv_traces(batch, a)
        tau2 = np.maximum(_safe(f.rss - tr_pv, tr_p), 0.0)
        se = np.sqrt(_safe(2 * tr_pvpv + 4 * tau2 * tr_pvp + 2 * tau2**2 * tr_pp, tr_p**2))
        return self._done(tau2, se)


def solve_generalised_q(batch: MetaBatch, target: Float, *, threshold: float = 1e-12,
                        maxiter: int = 1000) -> tuple[Float, NDArrayInt]:
    """tau² at which the generalised Q statistic sum w(y - Xb)² equals ``target`` (0 if below).

    Q(tau²) is convex and decreasing, so Newton's method from tau² = 0 rises monotonically to
    the root; used by Paule-Mandel and by the Q-profile confidence interval.
    """
    tau2 = np.zeros(batch.size)
    active = np.asarray(target > 0, dtype=bool).copy()  # no residual df: nothing to solve
    iters = np.zeros(batch.size, dtype=np.int64)
    for _ in range(maxiter):
        if not active.any():
            break
        f = linalg.fit(batch, 1.0 / (batch.v + tau2[:, None]))
        gap = f.rss - target
        step = np.where(active & (gap > 0), _safe(gap, f.rss2), 0.0)
        tau2 = tau2 + step
        iters += active
        active &= np.abs(step) > threshold * np.maximum(1.0, tau2)
    if active.any():
        raise ConvergenceError(f"generalised Q equation did not converge in {maxiter} "
                               f"iterations for analyses {np.flatnonzero(active)[:10].tolist()}")
    return tau2, iters


class PM(Tau2Estimator):
    """Paule-Mandel: the tau² at which the generalised Q statistic equals its df (k - p)."""

    name = "PM"
    iterative = True

    def __init__(self, threshold: float = 1e-12, maxiter: int = 1000) -> None:
        self.threshold, self.maxiter = threshold, maxiter

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        df = _df(batch)
        tau2, iters = solve_generalised_q(batch, df, threshold=self.threshold,
                                          maxiter=self.maxiter)
        w = 1.0 / (batch.v + tau2[:, None]) * batch.mask
        k = batch.k.astype(np.float64)
        se = np.sqrt(_safe(2 * k**2, df) / w.sum(axis=1) ** 2)
        return self._done(tau2, se, iters)


class _FisherScoring(Tau2Estimator):
    """ML, REML and EB by Fisher scoring from the HE estimate, with step halving at 0."""

    iterative = True
    ll0check: ClassVar[bool] = False   # ML and REML: metafor's check of tau² = 0 (see below)

    def __init__(self, threshold: float = 1e-10, maxiter: int = 1000) -> None:
        self.threshold, self.maxiter = threshold, maxiter

    def _step(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        raise NotImplementedError

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        tau2 = HE().estimate(batch).tau2
        active = (batch.k > batch.p).copy()
        iters = np.zeros(batch.size, dtype=np.int64)
        # A bracket around the root of the score: Fisher steps that leave it are replaced by
        # bisection, so the iteration cannot oscillate on flat likelihoods (plain Fisher
        # scoring can); inside the bracket the path is metafor's.
        lo = np.zeros(batch.size)
        hi = np.full(batch.size, np.inf)
        for _ in range(self.maxiter):
            if not active.any():
                break
            f = linalg.fit(batch, 1.0 / (batch.v + tau2[:, None]))
            adj = np.where(active, self._step(batch, f), 0.0)
            lo = np.where(active & (adj > 0), np.maximum(lo, tau2), lo)
            hi = np.where(active & (adj < 0), np.minimum(hi, tau2), hi)
            for _halving in range(200):
                low = tau2 + adj < 0.0
                if not low.any():
                    break
                adj = np.where(low, adj / 2.0, adj)
            proposal = tau2 + adj
            outside = active & ((proposal >= hi) | ((proposal <= lo) & (lo > 0)))
            proposal = np.where(outside & np.isfinite(hi), (lo + hi) / 2, proposal)
            change = np.where(active, proposal - tau2, 0.0)
            tau2 = np.where(active, proposal, tau2)
            iters += active
            active &= np.abs(change) > self.threshold
        if active.any():
            raise ConvergenceError(f"{self.name} Fisher scoring did not converge in "
                                   f"{self.maxiter} iterations for analyses "
                                   f"{np.flatnonzero(active)[:10].tolist()}")
        tau2 = np.where(batch.k > batch.p, tau2, 0.0)
        if self.ll0check:
            tau2 = self._ll0check(batch, tau2)
        f = linalg.fit(batch, 1.0 / (batch.v + tau2[:, None]))
        return self._done(tau2, self._se(batch, f), iters)

    def _se(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        raise NotImplementedError

    def _loglik(self, batch: MetaBatch, tau2: Float) -> Float:
        raise NotImplementedError

    def _ll0check(self, batch: MetaBatch, tau2: Float) -> Float:
        """metafor's ``ll0check``: 0 where the log-likelihood there is higher by > LL0_TOL.

        Fisher scoring can stop at an interior local maximum when the likelihood also has
        one on the boundary; metafor then warns and sets tau² = 0 (equipoise sets 0 too).
        """
        gain = self._loglik(batch, np.zeros(batch.size)) - self._loglik(batch, tau2)
        return np.where((tau2 > self.threshold) & (gain > reml_intercept.LL0_TOL), 0.0, tau2)



class ML(_FisherScoring):
    """Maximum likelihood."""

    name = "ML"

    def _step(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        sw2 = (f.w**2).sum(axis=1)
        return _safe(f.rss2 - f.w.sum(axis=1), sw2)

    def _se(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        return np.sqrt(_safe(np.full(batch.size, 2.0), (f.w**2).sum(axis=1)))

    ll0check = True

    def _loglik(self, batch: MetaBatch, tau2: Float) -> Float:
        """Log-likelihood without its constant."""
        vt = batch.v + tau2[:, None]
        f = linalg.fit(batch, 1.0 / vt)
        return np.asarray(-0.5 * (np.where(batch.mask, np.log(vt), 0.0).sum(axis=1) + f.rss))


class REML(_FisherScoring):
    """Restricted maximum likelihood (metafor's default).

    Intercept-only batches go through a compiled per-analysis loop (``reml_intercept``); its
    safeguards (bracket, Newton steps, Brent's bisection) also converge where plain Fisher
    scoring oscillates. Models with moderators use the batched Fisher scoring above.
    """

    name = "REML"

    def estimate(self, batch: MetaBatch) -> Tau2Result:
        if not reml_intercept.is_intercept_only(batch):
            return super().estimate(batch)
        tau2, se, iters, conv = reml_intercept.fit_reml(batch, self.threshold, self.maxiter)
        if not conv.all():
            raise ConvergenceError(f"{self.name} Fisher scoring did not converge in "
                                   f"{self.maxiter} iterations for analyses "
                                   f"{np.flatnonzero(~conv)[:10].tolist()}")
        return self._done(tau2, se, iters)

    def _step(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        return _safe(f.rss2 - linalg.trace_p(batch, f), linalg.trace_pp(batch, f))

    def _se(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        return np.sqrt(_safe(np.full(batch.size, 2.0), linalg.trace_pp(batch, f)))

    ll0check = True

    def _loglik(self, batch: MetaBatch, tau2: Float) -> Float:
        """Restricted log-likelihood without its constant (log det X'WX = -log det A)."""
        vt = batch.v + tau2[:, None]
        f = linalg.fit(batch, 1.0 / vt)
        logdet_a = np.linalg.slogdet(f.A)[1]
        return np.asarray(-0.5 * (np.where(batch.mask, np.log(vt), 0.0).sum(axis=1)
                                  - logdet_a + f.rss))


class EB(_FisherScoring):
    """Empirical Bayes (Morris) estimator."""

    name = "EB"

    def _step(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        k = batch.k.astype(np.float64)
        return _safe(f.rss * _safe(k, _df(batch)) - k, f.w.sum(axis=1))

    def _se(self, batch: MetaBatch, f: linalg.WeightedFit) -> Float:
        k = batch.k.astype(np.float64)
        return np.asarray(np.sqrt(_safe(2 * k**2, _df(batch)) / f.w.sum(axis=1) ** 2))


def estimator(name: str, *, threshold: float | None = None,
              maxiter: int | None = None) -> Tau2Estimator:
    """The estimator called ``name`` (DL, HE, HS, HSk, SJ, PM, ML, REML, EB, DL2, HE2/CA2)."""
    key = name.upper()
    opts: dict[str, float | int] = {}
    if threshold is not None:
        opts["threshold"] = threshold
    if maxiter is not None:
        opts["maxiter"] = maxiter
    simple: dict[str, type[Tau2Estimator]] = {"DL": DL, "HE": HE, "SJ": SJ}
    if key in simple:
        return simple[key]()
    if key == "HS":
        return HS()
    if key == "HSK":
        return HS(small_sample=True)
    threshold_, maxiter_ = float(opts.get("threshold", 1e-10)), int(opts.get("maxiter", 1000))
    if key == "PM":
        return PM(threshold=min(threshold_, 1e-12), maxiter=maxiter_)
    if key in ("ML", "REML", "EB"):
        fisher: dict[str, type[_FisherScoring]] = {"ML": ML, "REML": REML, "EB": EB}
        return fisher[key](threshold=threshold_, maxiter=maxiter_)
    if key == "DL2":
        return GENQ(DL())
    if key in ("HE2", "CA2"):
        return GENQ(HE())
    raise ModelError(f"unknown tau² estimator {name!r}; use DL, HE, HS, HSk, SJ, PM, ML, "
                     "REML, EB, DL2 or HE2")


TAU2_METHODS = ("DL", "HE", "HS", "HSk", "SJ", "PM", "ML", "REML", "EB", "DL2", "HE2")
