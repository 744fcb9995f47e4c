"""Jackson's confidence interval for tau² from a generalised Cochran statistic.

With weights ``a_i`` the generalised Cochran statistic is ``Q_a = y' P_a y``, where
``P_a = A - A X (X'AX)^-1 X'A`` and ``A = diag(a)``. Under the random-effects model with
between-study variance tau², ``Q_a`` is distributed as ``sum_j lambda_j(tau²) chi²_1``, a
positive-weighted sum of independent chi-squares whose weights are the non-zero eigenvalues of
``S P_a S`` with ``S = diag(sqrt(v + tau²))``. Its distribution function falls as tau² grows,
so the interval is ``{tau²: alpha/2 <= P(Q_a(tau²) > q_a) <= 1 - alpha/2}`` (Jackson 2013).
Weights ``1/sqrt(v)`` give R meta's ``method.tau.ci = "J"`` and ``1/v`` its ``"BJ"``
(Biggerstaff and Jackson 2008), both computed there through metafor's ``method = "GENQ"``.

The distribution of the weighted sum is computed with Imhof's (1961) inversion formula, with
Ruben's (1962) series as a slower, independent alternative (the series Farebrother's 1984
algorithm AS 204 evaluates, which metafor calls through CompQuadForm).

References
----------
Jackson D. Confidence intervals for the between-study variance in random effects meta-analysis
using generalised Cochran heterogeneity statistics. Res Synth Methods 2013;4:220-229.
doi:10.1002/jrsm.1081
Biggerstaff BJ, Jackson D. The exact distribution of Cochran's heterogeneity statistic in
one-way random effects meta-analysis. Stat Med 2008;27:6093-6110.
Imhof JP. Computing the distribution of quadratic forms in normal variables. Biometrika
1961;48:419-426.
Ruben H. Probability content of regions under spherical normal distributions, IV: the
distribution of homogeneous and non-homogeneous quadratic functions of normal variables.
Ann Math Stat 1962;33:542-570.
Farebrother RW. Algorithm AS 204: the distribution of a positive linear combination of chi²
random variables. J R Stat Soc C 1984;33:332-339.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import integrate, stats

from equipoise.errors import ConvergenceError, ModelError
from equipoise.synthesis.heterogeneity import zeroin

Float = NDArray[np.float64]

#: R's ``uniroot`` default tolerance (machine epsilon ** 0.25), which metafor's ``confint`` and
#: hence R meta use; pass it as ``tol`` to reproduce their printed limits.
UNIROOT_TOL = float(np.finfo(float).eps) ** 0.25
METHODS = ("imhof", "ruben")
# Absolute accuracy asked of each quadrature; the sum of all pieces stays near 1e-14.
_EPSABS = 1e-15
# Tails below this are returned as exactly 0 (upper) or 1 (lower), by a Chernoff bound.
_NEGLIGIBLE = 1e-18


# ---- the distribution of sum_j w_j chi²_1 -------------------------------------------------
def _check_weights(weights: ArrayLike) -> Float:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ModelError("weights of a chi-square mixture must be finite, non-negative and "
                         "not all zero")
    return w[w > 0]


def chi2_mixture_sf(x: float, weights: ArrayLike, *, method: str = "imhof") -> float:
    """Upper tail ``P(sum_j w_j X_j > x)`` of independent ``X_j ~ chi²_1`` and weights ``w_j > 0``.

    Parameters
    ----------
    x
        The quantile.
    weights
        Positive weights ``w_j`` (zeros are dropped); a weight repeated ``m`` times is a
        ``chi²_m`` term.
    method
        ``"imhof"`` (default): Imhof's inversion integral, evaluated piecewise with adaptive
        quadrature and a Fourier-weighted quadrature for the oscillating tail; about 10 ms.
        ``"ruben"``: Ruben's mixture-of-chi-squares series with its truncation bound; its
        length grows with ``x / min(w)`` and ``max(w) / min(w)``, so it suits well-conditioned
        weights and serves as an independent check.

    Returns
    -------
    float
        The probability, accurate to about 1e-13 in absolute terms.

    Notes
    -----
    Imhof (1961) with central terms: ``P(Q > x) = 1/2 + (1/pi) int_0^inf sin(theta(u)) /
    (u rho(u)) du``, ``theta(u) = sum_j arctan(w_j u) / 2 - x u / 2``, ``rho(u) = prod_j
    (1 + w_j² u²)^(1/4)``. Tails below 1e-18 are returned as 0 (or the CDF as 0) by a Chernoff
    bound.

    References
    ----------
    Imhof JP. Biometrika 1961;48:419-426.
    Ruben H. Ann Math Stat 1962;33:542-570.
    Farebrother RW. Algorithm AS 204. J R Stat Soc C 1984;33:332-339.
    """
    if method not in METHODS:
        raise ModelError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    w = _check_weights(weights)
    x = float(x)
    if math.isnan(x):
        raise ModelError("x must be a number, not NaN")
    if x <= 0:
        return 1.0
    if method == "ruben":
        return float(min(1.0, max(0.0, 1.0 - _ruben_cdf(x, w))))
    return _imhof_sf(x, w)


def chi2_mixture_cdf(x: float, weights: ArrayLike, *, method: str = "imhof") -> float:
    """``P(sum_j w_j X_j <= x)`` for independent ``X_j ~ chi²_1``; see :func:`chi2_mixture_sf`.

    References
    ----------
    Imhof JP. Biometrika 1961;48:419-426.
    """
    return 1.0 - chi2_mixture_sf(x, weights, method=method)


def _imhof_sf(x: float, w: Float) -> float:
    scale = float(w.max())
    lam = w / scale               # largest weight 1: the integrand's features start at u ~ 1
    x /= scale
    if x <= 0.0:                  # a positive x below the weights' scale underflows to 0
        return 1.0
    n = lam.size
    # Chernoff bounds with t = 1/4 (upper) and t = n / (2x) (lower) settle the far tails.
    if -x / 4 + n / 2 * math.log(2) < math.log(_NEGLIGIBLE):
        return 0.0
    log_ratio = np.log(n * lam) - math.log(x)       # log(n lam / x) without overflow
    if n / 2 - 0.5 * float(np.logaddexp(0.0, log_ratio).sum()) < math.log(_NEGLIGIBLE):
        return 1.0
    omega = x / 2
    # |integrand| <= u^(-1-n/2) prod(lam)^(-1/2): beyond u_tail the rest is below 1e-16.
    log_tail = (2 / n) * (math.log(2 / n) - 0.5 * float(np.log(lam).sum())
                          - math.log(1e-16 * math.pi))
    u_tail = math.exp(min(log_tail, 700.0))
    u_end = min(u_tail, max(1.0, 16 * math.pi / omega))

    def integrand(u: float) -> float:
        if u == 0.0:
            return 0.5 * (float(lam.sum()) - x)
        lu = lam * u
        theta = 0.5 * float(np.arctan(lu).sum()) - omega * u
        return math.sin(theta) / (u * math.exp(0.25 * float(np.log1p(lu * lu).sum())))

    def envelope(u: float, trig: Any) -> float:
        lu = lam * u
        return float(trig(0.5 * float(np.arctan(lu).sum()))
                     / (u * math.exp(0.25 * float(np.log1p(lu * lu).sum()))))

    # Pieces double in length from u = 1 (features of weights down to 1e-300) and hold at
    # most ~16 oscillations each; past u_end, sin(A - omega u) splits into two Fourier
    # integrals of smooth envelopes (QUADPACK's QAWF).
    edges = [0.0, min(1.0, u_end)]
    step = 32 * math.pi / omega
    while edges[-1] < u_end:
        edges.append(min(2 * edges[-1], edges[-1] + step, u_end))
    total = 0.0
    with warnings.catch_warnings():
        # QUADPACK warns when 1e-15 is below its round-off floor; the value is still right.
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for lo, hi in itertools.pairwise(edges):
            total += integrate.quad(integrand, lo, hi, limit=200, epsabs=_EPSABS,
                                    epsrel=1e-13)[0]
        if u_end < u_tail:
            total += integrate.quad(envelope, u_end, np.inf, args=(np.sin,), weight="cos",
                                    wvar=omega, limlst=500, epsabs=_EPSABS)[0]
            total -= integrate.quad(envelope, u_end, np.inf, args=(np.cos,), weight="sin",
                                    wvar=omega, limlst=500, epsabs=_EPSABS)[0]
    return float(min(1.0, max(0.0, 0.5 + total / math.pi)))


def _ruben_cdf(x: float, w: Float, *, eps: float = 1e-14, max_terms: int = 200_000) -> float:
    """Ruben's series ``sum_m c_m P(chi²_{n+2m} <= x/beta)`` with ``beta = min(w)``.

    ``c_0 = prod (beta/w)^(1/2)``, ``c_m = (1/m) sum_{r<m} g_{m-r} c_r`` with
    ``g_j = sum_i (1 - beta/w_i)^j / 2``; the c_m are positive and sum to 1, so the terms
    left out weigh at most ``(1 - sum c) P(chi²_{n+2M+2} <= x/beta)``.
    """
    n = w.size
    beta = float(w.min())
    y = x / beta
    gamma = 1.0 - beta / w
    c = np.zeros(1025)
    g = np.zeros(1025)
    c[0] = math.exp(0.5 * float(np.log(beta / w).sum()))
    power = np.ones(n)
    cdf, total = float(c[0]) * float(stats.chi2.cdf(y, n)), float(c[0])
    m = 0
    while m < max_terms:
        end = m + 256
        if end >= c.size:
            c, g = np.resize(c, 2 * c.size), np.resize(g, 2 * g.size)
        for j in range(m + 1, end + 1):
            power *= gamma
            g[j] = 0.5 * power.sum()
            c[j] = float(np.dot(g[j:0:-1], c[:j])) / j
        terms = c[m + 1:end + 1]
        cdf += float(np.dot(terms, stats.chi2.cdf(y, n + 2.0 * np.arange(m + 1, end + 1))))
        total += float(terms.sum())
        m = end
        if max(0.0, 1.0 - total) * float(stats.chi2.cdf(y, n + 2.0 * (m + 1))) < eps:
            return min(1.0, cdf)
    raise ConvergenceError(f"Ruben's series needs more than {max_terms} terms here "
                           "(weights too unequal); use method='imhof'")


# ---- the generalised Q statistic ----------------------------------------------------------
def _design(yi: ArrayLike, vi: ArrayLike, weights: ArrayLike | None,
            mods: ArrayLike | None) -> tuple[Float, Float, Float, Float]:
    y = np.asarray(yi, dtype=np.float64).ravel()
    v = np.asarray(vi, dtype=np.float64).ravel()
    if y.size != v.size:
        raise ModelError(f"yi ({y.size}) and vi ({v.size}) differ in length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ModelError("yi must be finite and vi finite and positive")
    a = 1.0 / np.sqrt(v) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if a.size != y.size or not (np.all(np.isfinite(a)) and np.all(a > 0)):
        raise ModelError("weights must be finite, positive and one per study")
    X = np.ones((y.size, 1)) if mods is None else np.asarray(mods, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    if X.shape[0] != y.size:
        raise ModelError(f"mods has {X.shape[0]} rows for {y.size} studies")
    if y.size - np.linalg.matrix_rank(X) < 1:
        raise ModelError("the generalised Q statistic needs more studies than coefficients")
    return y, v, a, X


def _p_matrix(a: Float, X: Float) -> Float:
    """``P_a = A - A X (X'AX)^-1 X'A``."""
    AX = X * a[:, None]
    return np.asarray(np.diag(a) - AX @ np.linalg.solve(X.T @ AX, AX.T))


def generalised_q(yi: ArrayLike, vi: ArrayLike, weights: ArrayLike | None = None,
                  mods: ArrayLike | None = None) -> float:
    """The generalised Cochran statistic ``Q_a = sum_i a_i (y_i - x_i'b_a)²``.

    Parameters
    ----------
    yi, vi
        Effect sizes and their sampling variances.
    weights
        Weights ``a_i``; default ``1/sqrt(vi)`` (Jackson 2013). ``1/vi`` gives Cochran's Q.
    mods
        Design matrix (k x p); default an intercept only.

    References
    ----------
    Jackson D. Res Synth Methods 2013;4:220-229.
    DerSimonian R, Kacker R. Contemp Clin Trials 2007;28:105-114.
    """
    y, _, a, X = _design(yi, vi, weights, mods)
    return float(y @ _p_matrix(a, X) @ y)


def generalised_q_eigenvalues(vi: ArrayLike, tau2: float, weights: ArrayLike | None = None,
                              mods: ArrayLike | None = None) -> Float:
    """Weights ``lambda_j`` of the chi²_1 terms of ``Q_a`` when the heterogeneity is ``tau2``.

    They are the k - p non-zero eigenvalues of ``S P_a S``, ``S = diag(sqrt(vi + tau2))``,
    in decreasing order.

    References
    ----------
    Jackson D. Res Synth Methods 2013;4:220-229 (section 2).
    """
    v = np.asarray(vi, dtype=np.float64).ravel()
    _, v, a, X = _design(np.zeros(v.size), v, weights, mods)
    return _eigenvalues(_p_matrix(a, X), v, float(tau2), v.size - int(np.linalg.matrix_rank(X)))


def _eigenvalues(P: Float, v: Float, tau2: float, df: int) -> Float:
    s = np.sqrt(v + tau2)
    lam = np.linalg.eigvalsh(s[:, None] * P * s[None, :])[::-1]
    return np.asarray(lam[:df])


@dataclass(frozen=True, eq=False)
class GeneralisedQInterval:
    """A confidence interval for tau² (and tau) from a generalised Q statistic.

    ``low_sign``/``high_sign`` follow metafor: ``""`` for a solved or natural bound, ``"<"``
    when the bound is the search interval's lower end only because the data are very
    homogeneous, ``">"`` when the upper end of the search interval was reached.
    """

    q: float
    df: int
    level: float
    tau2_low: float
    tau2_high: float
    low_sign: str
    high_sign: str
    tau2_max: float

    @property
    def tau_low(self) -> float:
        return math.sqrt(self.tau2_low)

    @property
    def tau_high(self) -> float:
        return math.sqrt(self.tau2_high)

    def to_dict(self) -> dict[str, Any]:
        return {"q": self.q, "df": self.df, "level": self.level, "tau2_low": self.tau2_low,
                "tau2_high": self.tau2_high, "tau_low": self.tau_low,
                "tau_high": self.tau_high, "low_sign": self.low_sign,
                "high_sign": self.high_sign, "tau2_max": self.tau2_max}


def jackson_tau2_interval(yi: ArrayLike, vi: ArrayLike, *, weights: ArrayLike | None = None,
                          mods: ArrayLike | None = None, level: float = 0.95,
                          tau2_max: float | None = None, tol: float = 1e-12,
                          maxiter: int = 1000) -> GeneralisedQInterval:
    """Jackson's (2013) confidence interval for tau² from the generalised Q statistic.

    The limits solve ``P(Q_a(tau²) > q_a) = alpha/2`` (lower) and ``= 1 - alpha/2`` (upper)
    on ``[0, tau2_max]``; a limit that does not exist there is set to the end of the range,
    as metafor's ``confint`` does for ``method = "GENQ"``.

    Parameters
    ----------
    yi, vi
        Effect sizes and sampling variances of one meta-analysis.
    weights
        Weights ``a_i`` of the statistic; default ``1/sqrt(vi)`` (R meta's ``"J"``); ``1/vi``
        gives the Biggerstaff-Jackson interval (``"BJ"``).
    mods
        Design matrix (k x p); default an intercept only.
    level
        Confidence level, e.g. 0.95.
    tau2_max
        Upper end of the search; default as metafor, ``max(100, 10 * tau2_GENQ)`` with
        ``tau2_GENQ`` the moment estimate ``(Q_a - tr(P_a V)) / tr(P_a)`` truncated at 0.
    tol
        Tolerance of Brent's root finder. The default solves to about 1e-12; R meta's
        printed limits carry ``uniroot``'s default tolerance, reproduced (step for step) with
        ``tol=UNIROOT_TOL``.
    maxiter
        Iterations of the root finder.

    Returns
    -------
    GeneralisedQInterval

    References
    ----------
    Jackson D. Confidence intervals for the between-study variance in random effects
    meta-analysis using generalised Cochran heterogeneity statistics. Res Synth Methods
    2013;4:220-229.
    Viechtbauer W. metafor: confint.rma.uni with method "GENQ" (R package, version 3.8).
    """
    if not 0 < level < 1:
        raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
    y, v, a, X = _design(yi, vi, weights, mods)
    df = y.size - int(np.linalg.matrix_rank(X))
    P = _p_matrix(a, X)
    q = float(y @ P @ y)
    if tau2_max is None:
        tau2_genq = max(0.0, (q - float(np.diag(P) @ v)) / float(np.trace(P)))
        tau2_max = max(100.0, 10 * tau2_genq)
    if not (math.isfinite(tau2_max) and tau2_max > 0):
        raise ModelError(f"tau2_max must be positive and finite, not {tau2_max!r}")
    alpha = 1 - level

    def sf(tau2: float) -> float:
        return chi2_mixture_sf(q, _eigenvalues(P, v, tau2, df))

    sf_min, sf_max = sf(0.0), sf(tau2_max)
    low_sign = high_sign = ""
    if sf_min > 1 - alpha / 2:              # Q_a below even its tau² = 0 lower quantile
        return GeneralisedQInterval(q, df, level, 0.0, 0.0, "<", "<", tau2_max)
    if sf_max < 1 - alpha / 2:
        high, high_sign = tau2_max, ">"
    else:
        high = zeroin(lambda t: (1 - sf(t)) - alpha / 2, 0.0, tau2_max, tol=tol,
                      maxiter=maxiter)
    if sf_max < alpha / 2:
        return GeneralisedQInterval(q, df, level, tau2_max, tau2_max, ">", ">", tau2_max)
    if sf_min > alpha / 2:
        low = 0.0
    else:
        low = zeroin(lambda t: sf(t) - alpha / 2, 0.0, tau2_max, tol=tol, maxiter=maxiter)
    return GeneralisedQInterval(q, df, level, float(low), float(high), low_sign, high_sign,
                                float(tau2_max))
