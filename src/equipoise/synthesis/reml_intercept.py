"""REML for many intercept-only meta-analyses: one compiled scalar loop per analysis.

With a single intercept every quantity REML needs reduces to sums over the studies
(w = 1/(v + tau²), r = y - mu):

    tr(P)   = sum w - sum w² / sum w
    tr(PP)  = sum w² - 2 sum w³ / sum w + (sum w² / sum w)²
    y'PPy   = sum w² r²,     y'PPPy = sum w³ r² - (sum w² r)² / sum w

so each analysis is fitted by a loop over scalars, on its own studies only (no padding, no
K x K algebra, and an analysis stops iterating as soon as it has converged).

The iteration is metafor's: Fisher scoring from the Hedges (HE) estimate, halving a step that
would cross 0, stopping when tau² changes by no more than ``threshold``. Two safeguards make
it converge where plain Fisher scoring oscillates or diverges: a bracket around the root of
the score (a step that leaves it is replaced by bisection, as in the general path), and, once
a Fisher step is no shorter than the one before (or after 100 of them, metafor's default
``maxiter``), Newton steps with the observed information, replaced by bisection whenever one
is more than half the step before last (Brent's rule). So wherever metafor's default
converges the path, and the answer at a loose threshold, is metafor's. After convergence
metafor's ``ll0check`` compares the restricted log-likelihood at tau² = 0 and returns 0 when
it is higher by more than ``LL0_TOL`` (metafor also warns; equipoise does not).

References
----------
Viechtbauer W. Bias and efficiency of meta-analytic variance estimators in the random-effects
model. J Educ Behav Stat 2005;30:261-293.
Brent RP. Algorithms for Minimization without Derivatives. Prentice-Hall; 1973 (ch. 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from equipoise.synthesis.batch import Float, MetaBatch

_F = TypeVar("_F", bound=Callable[..., Any])

LL0_TOL = float(np.finfo(np.float64).eps) ** 0.25
"""metafor's ``control$tol`` for ll0check: ll(0) must beat ll(tau²) by more than this."""
_HALVINGS = 200           # step halvings at the boundary 0 (as the general path)
_FISHER_ONLY = 100        # Fisher steps at most (metafor's default maxiter), then Newton


def _compiled(fn: _F) -> _F:
    """``numba.njit`` (cached, nogil) that keeps the function's type for mypy."""
    return cast(_F, numba.njit(cache=True, nogil=True)(fn))


def _vectorised(fn: _F) -> _F:
    """As :func:`_compiled`, letting LLVM reorder the sums so it can vectorise them."""
    return cast(_F, numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})(fn))


@_vectorised
def _moments(z: Float, v: Float, n: int,
             tau2: float) -> tuple[float, float, float, float, float, float]:
    """sum w, sum w², sum w³, sum w² r², sum w³ r², sum w² r at ``tau2``, in one pass.

    ``z`` is y centred at its mean, so expanding (z - mu)² loses no accuracy to speak of.
    """
    sw = 0.0
    sw2 = 0.0
    sw3 = 0.0
    swz = 0.0
    sw2z = 0.0
    sw2zz = 0.0
    sw3z = 0.0
    sw3zz = 0.0
    for i in range(n):
        w = 1.0 / (v[i] + tau2)
        w2 = w * w
        w3 = w2 * w
        zi = z[i]
        sw += w
        sw2 += w2
        sw3 += w3
        swz += w * zi
        sw2z += w2 * zi
        sw2zz += w2 * zi * zi
        sw3z += w3 * zi
        sw3zz += w3 * zi * zi
    mu = swz / sw
    a2 = sw2zz - mu * (2.0 * sw2z - mu * sw2)
    a3 = sw3zz - mu * (2.0 * sw3z - mu * sw3)
    b = sw2z - mu * sw2
    return sw, sw2, sw3, a2, a3, b


@_vectorised
def _final(z: Float, v: Float, n: int, tau2: float) -> tuple[float, float]:
    """tr(PP) at ``tau2`` and ll(0) - ll(tau2), the restricted log-likelihood difference."""
    sw0 = 0.0
    swz0 = 0.0
    swzz0 = 0.0
    sw = 0.0
    sw2 = 0.0
    sw3 = 0.0
    swz = 0.0
    swzz = 0.0
    for i in range(n):
        w0 = 1.0 / v[i]
        w = 1.0 / (v[i] + tau2)
        zi = z[i]
        sw0 += w0
        swz0 += w0 * zi
        swzz0 += w0 * zi * zi
        sw += w
        sw2 += w * w
        sw3 += w * w * w
        swz += w * zi
        swzz += w * zi * zi
    # sum log(v + tau2) - sum log(v) = log prod (1 + tau2 / v): a log only when it grows large
    logdet = 0.0
    prod = 1.0
    for i in range(n):
        q = 1.0 + tau2 / v[i]
        if q > 1e150:
            logdet += math.log(q)
        else:
            prod *= q
            if prod > 1e150:
                logdet += math.log(prod)
                prod = 1.0
    logdet += math.log(prod)
    rss0 = swzz0 - swz0 * swz0 / sw0
    rss = swzz - swz * swz / sw
    h = sw2 / sw
    tr_pp = sw2 - 2.0 * sw3 / sw + h * h
    return tr_pp, 0.5 * (logdet + math.log(sw / sw0) + rss - rss0)


@_compiled
def _fit_one(z: Float, v: Float, n: int, threshold: float,
             maxiter: int) -> tuple[float, int, bool]:
    """tau², iterations and convergence for one analysis of ``n`` >= 2 studies (z centred)."""
    sv = 0.0
    rss = 0.0
    for i in range(n):
        sv += v[i]
        rss += z[i] * z[i]
    tau2 = max((rss - sv * (1.0 - 1.0 / n)) / (n - 1), 0.0)      # HE, metafor's start
    lo = 0.0
    hi = math.inf
    newton = False
    newton_steps = 0
    prev_fisher = 0.0
    last = math.inf           # |change| of the last step, and of the one before
    before = math.inf
    for it in range(maxiter):
        sw, sw2, sw3, a2, a3, b = _moments(z, v, n, tau2)
        h = sw2 / sw
        tr_p = sw - h
        tr_pp = sw2 - 2.0 * sw3 / sw + h * h
        score = a2 - tr_p                                 # twice the score
        fisher = score / tr_pp if tr_pp > 0.0 else 0.0
        if fisher > 0.0:
            lo = max(lo, tau2)
        elif fisher < 0.0:
            hi = min(hi, tau2)
        # Fisher scoring is not contracting (or is too slow); a step cut short at 0 is not
        # counted: that is metafor's way to the boundary.
        if not newton and it > 0 and tau2 + fisher >= 0.0 and (
                abs(fisher) >= abs(prev_fisher) or it >= _FISHER_ONLY):
            newton = True
        prev_fisher = fisher
        step = fisher
        if newton:
            info = 2.0 * (a3 - b * b / sw) - tr_pp       # twice the observed information
            if info > 0.0:
                step = score / info
                newton_steps += 1
        for _ in range(_HALVINGS):
            if tau2 + step >= 0.0:
                break
            step /= 2.0
        proposal = tau2 + step
        if hi < math.inf:
            outside = proposal >= hi or (proposal <= lo and lo > 0.0)
            stalled = newton_steps > 2 and abs(step) > 0.5 * before
            if outside or stalled:
                proposal = 0.5 * (lo + hi)
        change = abs(proposal - tau2)
        tau2 = proposal
        before = last
        last = change
        if change <= threshold:
            return tau2, it + 1, True
    return tau2, maxiter, False


@_compiled
def _fit_all(y: Float, v: Float, mask: NDArray[np.bool_], threshold: float, maxiter: int,
             ll0_tol: float, tau2_out: Float, se_out: Float, iters_out: NDArray[np.int64],
             conv_out: NDArray[np.bool_]) -> None:
    """Fit every row of the padded (B, K) arrays; results go to the ``*_out`` arrays."""
    size, width = y.shape
    z = np.empty(width)
    vv = np.empty(width)
    for row in range(size):
        n = 0
        ybar = 0.0
        for j in range(width):          # gather this analysis's studies: no padding below
            if mask[row, j]:
                z[n] = y[row, j]
                vv[n] = v[row, j]
                ybar += z[n]
                n += 1
        tau2 = 0.0
        iters = 0
        converged = True
        se = math.nan                   # k = 1: not estimable (metafor: NA)
        if n > 1:
            ybar /= n
            for i in range(n):
                z[i] -= ybar
            tau2, iters, converged = _fit_one(z, vv, n, threshold, maxiter)
            tau2 = max(tau2, 0.0)
            tr_pp, ll0_gain = _final(z, vv, n, tau2)
            if converged and tau2 > threshold and ll0_gain > ll0_tol:
                tau2 = 0.0                # metafor's ll0check: a higher likelihood at 0
                tr_pp, _ = _final(z, vv, n, tau2)
            se = math.sqrt(2.0 / tr_pp) if tr_pp > 0.0 else 0.0
        tau2_out[row] = tau2
        se_out[row] = se
        iters_out[row] = iters
        conv_out[row] = converged


def is_intercept_only(batch: MetaBatch) -> bool:
    """Whether every analysis's model matrix is the intercept column alone."""
    return batch.p == 1 and bool(np.array_equal(batch.X[:, :, 0], batch.mask))


def fit_reml(batch: MetaBatch, threshold: float,
             maxiter: int) -> tuple[Float, Float, NDArray[np.int64], NDArray[np.bool_]]:
    """tau², its standard error, iterations and convergence for an intercept-only batch."""
    size = batch.size
    tau2, se = np.empty(size), np.empty(size)
    iters = np.empty(size, dtype=np.int64)
    conv = np.empty(size, dtype=np.bool_)
    _fit_all(np.ascontiguousarray(batch.y, dtype=np.float64),
             np.ascontiguousarray(batch.v, dtype=np.float64),
             np.ascontiguousarray(batch.mask, dtype=np.bool_), float(threshold),
             int(maxiter), LL0_TOL, tau2, se, iters, conv)
    return tau2, se, iters, conv
