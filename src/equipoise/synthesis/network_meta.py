"""Network meta-analysis: contrast-based, multi-arm aware, common and random effects.

Each study contributes the contrasts of its arms against its first arm. Their covariance is
derived from the study's pairwise variances by Rücker's reduction (L+ = -1/2 C B C, C the
centring matrix), which is exact for additive variances and reproduces netmeta for multi-arm
studies. Estimation is generalised least squares; random effects add tau² to every pairwise
variance (tau² on the diagonal and tau²/2 between a study's contrasts, the consistency
structure). tau² is netmeta's generalised DerSimonian-Laird or REML (as metafor's rma.mv with
rho = 1/2). The algebra works study block by study block (synthesis/network_blocks.py): V is never
formed as an M x M matrix.

References
----------
Rücker G. Network meta-analysis, electrical networks and graph theory. Res Synth Methods
2012;3:312-324.
Jackson D, White IR, Riley RD. Quantifying the impact of between-study heterogeneity in
multivariate meta-analyses. Stat Med 2012;31:3805-3820 (generalised DL).
Higgins JPT, Thompson SG. Quantifying heterogeneity in a meta-analysis. Stat Med
2002;21:1539-1558 (I² and its interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from equipoise.errors import ModelError
from equipoise.evidence.network import StudyContrasts, TreatmentNetwork
from equipoise.synthesis.batch import Float
from equipoise.synthesis.network_blocks import blocks, design_fits, gls, reml_tau2

if TYPE_CHECKING:
    import pandas as pd

TAU2_NMA = ("DL", "REML")


def study_covariance(sc: StudyContrasts, tau2: float = 0.0) -> Float:
    """Covariance of a study's contrasts against its first arm (Rücker's reduction)."""
    p = sc.arms
    B = np.where(np.eye(p, dtype=bool), 0.0, sc.var + tau2)
    C = np.eye(p) - 1.0 / p
    L = -0.5 * C @ B @ C
    idx = np.arange(1, p)
    return np.asarray(L[np.ix_(idx, idx)] - L[idx, :1] - L[:1, idx] + L[0, 0])


def study_laplacian(sc: StudyContrasts, tau2: float = 0.0) -> Float:
    """Rücker's weight (Laplacian) matrix of a study: -W[a, b] is the weight of edge a-b."""
    p = sc.arms
    B = np.where(np.eye(p, dtype=bool), 0.0, sc.var + tau2)
    C = np.eye(p) - 1.0 / p
    return np.asarray(np.linalg.pinv(-0.5 * C @ B @ C))


def i2_interval(q: float, df: float, level: float) -> tuple[float, float, float]:
    """I² with Higgins and Thompson's interval from Q (as R meta and netmeta), in percent."""
    if df <= 0:
        return 0.0, 0.0, 0.0
    k = df + 1
    # Below 1, H is set to 1 before its interval is formed (as R meta does).
    h = max(float(np.sqrt(q / df)), 1.0)
    if k > 2:
        if q > k:
            se = 0.5 * (np.log(q) - np.log(k - 1)) / (np.sqrt(2 * q) - np.sqrt(2 * k - 3))
        else:
            se = np.sqrt(1 / (2 * (k - 2)) * (1 - 1 / (3 * (k - 2) ** 2)))
    else:
        se = 0.0
    z = stats.norm.isf((1 - level) / 2)
    lo, hi = max(np.exp(np.log(h) - z * se), 1.0), max(np.exp(np.log(h) + z * se), 1.0)

    def to_i2(x: float) -> float:
        return float(max(0.0, (x**2 - 1) / x**2) * 100)
    return to_i2(max(h, 1.0)), to_i2(lo), to_i2(hi)


@dataclass(frozen=True, eq=False)
class NetworkEstimate:
    """A fitted network: every treatment against the reference, heterogeneity, inconsistency."""

    model: str
    method: str
    reference: str
    treatments: tuple[str, ...]
    level: float
    d: Float
    cov: Float
    tau2: float
    q_total: float
    q_df: int
    q_within: float
    q_within_df: int
    i2: float
    i2_low: float
    i2_high: float
    k_studies: int
    m_pairwise: int
    n_designs: int
    n_observations: float
    network: TreatmentNetwork = field(repr=False)

    @property
    def q_between(self) -> float:
        return self.q_total - self.q_within

    @property
    def q_between_df(self) -> int:
        return self.q_df - self.q_within_df

    def _i(self, t: str) -> int:
        try:
            return self.treatments.index(t)
        except ValueError:
            raise ModelError(f"unknown treatment {t!r}; the network has "
                             f"{', '.join(self.treatments)}") from None

    def contrast(self, a: str, b: str) -> tuple[float, float]:
        """Estimate and SE of ``a`` minus ``b`` (log scale for OR/RR)."""
        i, j = self._i(a), self._i(b)
        var = self.cov[i, i] + self.cov[j, j] - 2 * self.cov[i, j]
        return float(self.d[i] - self.d[j]), float(np.sqrt(max(var, 0.0)))

    def summary(self, a: str, b: str) -> dict[str, float]:
        """estimate, se, ci, z, p of ``a`` vs ``b`` and the prediction interval for a new study
        (estimate ± z·sqrt(se² + tau²), as metafor's predict for rma.mv)."""
        est, se = self.contrast(a, b)
        z = float(stats.norm.isf((1 - self.level) / 2))
        zval = est / se if se > 0 else float("nan")
        pi = z * float(np.sqrt(se**2 + self.tau2))
        return {"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                "zval": zval, "pval": float(2 * stats.norm.sf(abs(zval))),
                "pi_low": est - pi, "pi_high": est + pi}

    def p_scores(self, small_values: str = "desirable") -> dict[str, float]:
        """P-scores (Rücker and Schwarzer 2015): mean certainty of being better than each other."""
        sign = 1.0 if small_values == "desirable" else -1.0
        out = {}
        for a in self.treatments:
            probs = []
            for b in self.treatments:
                if a != b:
                    est, se = self.contrast(b, a)
                    probs.append(float(stats.norm.cdf(sign * est / se)))
            out[a] = float(np.mean(probs))
        return out

    def q_pvals(self) -> dict[str, float]:
        def p(q: float, df: int) -> float:
            return float(stats.chi2.sf(q, df)) if df > 0 else float("nan")
        return {"total": p(self.q_total, self.q_df),
                "within": p(self.q_within, self.q_within_df),
                "between": p(self.q_between, self.q_between_df)}

    def to_frame(self) -> pd.DataFrame:
        """One row per treatment: its estimate against the reference."""
        import pandas as pd

        rows = [{"treatment": t, "reference": self.reference, **self.summary(t, self.reference)}
                for t in self.treatments if t != self.reference]
        return pd.DataFrame.from_records(rows)

    def draw(self, rng: np.random.Generator, n: int) -> Float:
        """``n`` joint draws of every treatment's effect vs the reference, shape ``(n, T)``
        (the reference column is 0); the draw axis feeds simulation (DESIGN.md)."""
        keep = [i for i, t in enumerate(self.treatments) if t != self.reference]
        out = np.zeros((n, len(self.treatments)))
        out[:, keep] = rng.multivariate_normal(self.d[keep], self.cov[np.ix_(keep, keep)], size=n)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON layout (docs/synthesis-json.md)."""
        pv = self.q_pvals()
        return {
            "model": self.model, "method": self.method, "reference": self.reference,
            "treatments": {t: self.summary(t, self.reference) for t in self.treatments
                           if t != self.reference},
            "tau2": self.tau2, "tau": float(np.sqrt(self.tau2)), "i2": self.i2,
            "i2_low": self.i2_low, "i2_high": self.i2_high,
            "q_total": self.q_total, "q_total_df": self.q_df, "q_total_pval": pv["total"],
            "q_within": self.q_within, "q_within_df": self.q_within_df,
            "q_within_pval": pv["within"], "q_between": self.q_between,
            "q_between_df": self.q_between_df, "q_between_pval": pv["between"],
            "p_scores": self.p_scores(),
            "league": {f"{a} vs {b}": self.summary(a, b)["estimate"]
                       for a, b in combinations(self.treatments, 2)},
            "counts": {"k_studies": self.k_studies, "m_pairwise": self.m_pairwise,
                       "n_treatments": len(self.treatments), "n_designs": self.n_designs},
        }


class NetworkMetaAnalysis:
    """Network meta-analysis with settings fixed at construction.

    Parameters
    ----------
    model
        ``"random"`` or ``"common"``.
    tau2
        ``"DL"`` (netmeta's generalised DerSimonian-Laird) or ``"REML"``.
    reference
        Treatment all others are compared with (default: the first in sorted order).
    """

    def __init__(self, *, model: str = "random", tau2: str = "DL", reference: str | None = None,
                 level: float = 0.95, threshold: float = 1e-10, maxiter: int = 500) -> None:
        if model not in ("random", "common"):
            raise ModelError(f"model must be 'random' or 'common', not {model!r}")
        if tau2.upper() not in TAU2_NMA:
            raise ModelError(f"network tau² must be DL or REML, not {tau2!r}")
        if not 0 < level < 1:
            raise ModelError("level must lie between 0 and 1")
        self.model, self.tau2_method, self.reference = model, tau2.upper(), reference
        self.level, self.threshold, self.maxiter = level, threshold, maxiter

    def fit(self, network: TreatmentNetwork) -> NetworkEstimate:
        names = network.treatments
        reference = self.reference or names[0]
        if reference not in names:
            raise ModelError(f"reference {reference!r} is not in the network "
                             f"({', '.join(names)})")
        ref = names.index(reference)
        stack = blocks(network.studies, names)
        m = stack.m
        df = m - (len(names) - 1)
        common = gls(stack, 0.0, ref)
        tau2 = 0.0
        if self.model == "random" and df > 0:
            tau2 = max(0.0, (common.q - df) / common.R_trace_P) if common.R_trace_P > 0 else 0.0
            if self.tau2_method == "REML":
                tau2 = reml_tau2(stack, ref, tau2, self.threshold, self.maxiter)
        fit = common if tau2 == 0.0 else gls(stack, tau2, ref)
        q_within, df_within = _within_designs(network)
        i2, lo, hi = i2_interval(common.q, df, self.level)
        return NetworkEstimate(
            model=self.model, method=self.tau2_method if self.model == "random" else "common",
            reference=reference, treatments=names, level=self.level, d=fit.d, cov=fit.cov,
            tau2=tau2, q_total=common.q, q_df=df, q_within=q_within, q_within_df=df_within,
            i2=i2, i2_low=lo, i2_high=hi, k_studies=len(network.studies),
            m_pairwise=network.n_pairwise, n_designs=len(network.designs),
            n_observations=network.n_observations, network=network)


def _within_designs(network: TreatmentNetwork) -> tuple[float, int]:
    """Q and df of heterogeneity within designs (common-effect fit per design)."""
    fits = design_fits(network, 0.0).values()
    return sum((f.q for f in fits), 0.0), sum(f.df for f in fits)
