"""Inconsistency: direct evidence per comparison and node-splitting by back-calculation (SIDE).

Direct estimates pool each comparison's study contrasts by inverse variance, each contrast with
variance seTE² + tau² (tau² from the network), as netmeta does: a multi-arm study contributes
each of its contrasts without the multi-arm reduction. The indirect estimate is back-calculated
from the network and direct estimates, as netmeta's netsplit does.

References
----------
Dias S, Welton NJ, Caldwell DM, Ades AE. Checking consistency in mixed treatment comparison
meta-analysis. Stat Med 2010;29:932-944 (node-splitting; SIDE back-calculation).
König J, Krahn U, Binder H. Visualizing the flow of evidence in network meta-analysis and
characterizing mixed treatment comparisons. Stat Med 2013;32:5414-5429.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from equipoise.errors import ConvergenceError
from equipoise.evidence.network import StudyContrasts, TreatmentNetwork
from equipoise.synthesis.batch import Float
from equipoise.synthesis.network_blocks import DesignFit, blocks, design_fits, gls
from equipoise.synthesis.network_meta import NetworkEstimate, study_laplacian


@dataclass(frozen=True)
class Direct:
    """Pooled direct evidence for ``a`` minus ``b``."""

    estimate: float
    variance: float
    k: int


def direct_estimates(network: TreatmentNetwork, tau2: float = 0.0) -> dict[tuple[str, str], Direct]:
    """Inverse-variance pooled direct estimates for every directly compared pair (a < b)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for sc in network.studies:
        for i, j in sc.pairs():
            a, b = sc.treatments[i], sc.treatments[j]
            te, w = sc.te[i, j], 1.0 / (sc.var[i, j] + tau2)
            if a > b:
                a, b, te = b, a, -te
            acc = sums.setdefault((a, b), [0.0, 0.0, 0.0])
            acc[0] += w * te
            acc[1] += w
            acc[2] += 1
    return {k: Direct(v[0] / v[1], 1.0 / v[1], int(v[2])) for k, v in sums.items()}


def adjusted_se(network: TreatmentNetwork, tau2: float = 0.0) -> dict[tuple[str, str, str], float]:
    """Standard error of each study contrast after the multi-arm reduction (netmeta seTE.adj)."""
    out = {}
    for sc in network.studies:
        W = study_laplacian(sc, tau2)
        for i, j in sc.pairs():
            out[(sc.study, sc.treatments[i], sc.treatments[j])] = float(np.sqrt(-1.0 / W[i, j]))
    return out


@dataclass(frozen=True)
class Split:
    """Network, direct and indirect estimates of one comparison, and their disagreement."""

    comparison: tuple[str, str]
    k: int
    prop: float
    nma: float
    direct: float | None
    indirect: float | None
    diff: float | None
    z: float | None
    pval: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def netsplit(fit: NetworkEstimate) -> dict[tuple[str, str], Split]:
    """Back-calculation node-splitting for every pair of treatments (a < b, a minus b)."""
    direct = direct_estimates(fit.network, fit.tau2)
    out = {}
    for a, b in combinations(sorted(fit.treatments), 2):
        nma, se = fit.contrast(a, b)
        var_nma = se**2
        d = direct.get((a, b))
        if d is None:
            out[(a, b)] = Split((a, b), 0, 0.0, nma, None, nma, None, None, None)
            continue
        prop = min(var_nma / d.variance, 1.0)
        if prop >= 1.0 - 1e-12:
            out[(a, b)] = Split((a, b), d.k, 1.0, nma, d.estimate, None, None, None, None)
            continue
        indirect = (nma - prop * d.estimate) / (1 - prop)
        var_ind = 1.0 / (1.0 / var_nma - 1.0 / d.variance)
        diff = d.estimate - indirect
        z = diff / np.sqrt(d.variance + var_ind)
        out[(a, b)] = Split((a, b), d.k, prop, nma, d.estimate, indirect, diff, float(z),
                            float(2 * stats.norm.sf(abs(z))))
    return out


@dataclass(frozen=True)
class QTest:
    """A Q statistic with its degrees of freedom and p-value."""

    q: float
    df: int

    @property
    def pval(self) -> float:
        return float(stats.chi2.sf(self.q, self.df)) if self.df > 0 else float("nan")


@dataclass(frozen=True)
class DesignDecomposition:
    """Cochran's Q split into heterogeneity within designs and inconsistency between them.

    ``between_detached[D]`` is the between-designs Q once design D may differ from the rest;
    ``between_random`` is the design-by-treatment interaction test under random effects with
    tau² estimated from the within-design heterogeneity (netmeta's decomp.design).
    """

    total: QTest
    within: QTest
    between: QTest
    within_by_design: dict[tuple[str, ...], QTest]
    between_detached: dict[tuple[str, ...], QTest]
    tau2_within: float
    between_random: QTest


def _design_sums(fits: Sequence[DesignFit]) -> tuple[float, int, float]:
    """Sum over designs of Q, residual df and tr(R P) when each design has its own effects."""
    return (sum((f.q for f in fits), 0.0), sum(f.df for f in fits),
            sum((f.R_trace_P for f in fits), 0.0))


def _q_network(network: TreatmentNetwork, studies: Sequence[StudyContrasts],
               tau2: float = 0.0) -> tuple[float, int]:
    """Q and df of the consistency model fitted to ``studies`` (component by component)."""
    q, df = 0.0, 0
    sub = TreatmentNetwork.__new__(TreatmentNetwork)
    object.__setattr__(sub, "measure", network.measure)
    object.__setattr__(sub, "studies", tuple(studies))
    object.__setattr__(sub, "treatments", tuple(sorted({t for sc in studies
                                                         for t in sc.treatments})))
    object.__setattr__(sub, "excluded", ())
    for component in sub.components():
        members = tuple(sc for sc in studies if sc.treatments[0] in component)
        names = tuple(sorted(component))
        b = blocks(members, names)
        c_df = b.m - (len(names) - 1)
        if c_df > 0:
            q += gls(b, tau2, 0).q
            df += c_df
    return q, df


def decompose(fit: NetworkEstimate) -> DesignDecomposition:
    """Q decomposition into within-design and between-design parts (netmeta decomp.design)."""
    network = fit.network
    designs = network.designs
    total = QTest(fit.q_total, fit.q_df)
    fits = design_fits(network, 0.0)
    q_w, df_w, tr_w = _design_sums(list(fits.values()))
    within = QTest(q_w, df_w)
    between = QTest(fit.q_total - q_w, fit.q_df - df_w)
    by_design = {design: QTest(f.q, f.df) for design, f in fits.items()}
    detached = {}
    for design in designs:
        rest = [sc for sc in network.studies if sc.design != design]
        q_rest, _ = _q_network(network, rest)
        q_others, _, _ = _design_sums([f for d, f in fits.items() if d != design])
        detached[design] = QTest(max(q_rest - q_others, 0.0), between.df - (len(design) - 1))
    tau2_w = max(0.0, (q_w - df_w) / tr_w) if tr_w > 0 else 0.0
    q_total_re, _ = _q_network(network, list(network.studies), tau2_w)
    q_within_re, _, _ = _design_sums(list(design_fits(network, tau2_w).values()))
    return DesignDecomposition(total, within, between, by_design, detached, tau2_w,
                               QTest(q_total_re - q_within_re, between.df))


def _reml(y: Float, X: Float, S: Float, Z: list[Float], *, threshold: float = 1e-10,
          maxiter: int = 500) -> np.ndarray:
    """REML variance components theta (all >= 0) for V = S + sum theta_k Z_k (Fisher scoring)."""
    theta = np.zeros(len(Z))
    for _ in range(maxiter):
        V = S + sum(t * z for t, z in zip(theta, Z, strict=True))
        W = np.linalg.inv(V)
        A = np.linalg.inv(X.T @ W @ X)
        R = W - W @ X @ A @ X.T @ W
        Ry = R @ y
        RZ = [R @ z for z in Z]
        score = np.array([Ry @ z @ Ry - np.trace(rz) for z, rz in zip(Z, RZ, strict=True)]) / 2
        info = np.array([[np.trace(a @ b) for b in RZ] for a in RZ]) / 2
        free = ~((theta <= 0) & (score < 0))  # components held at the boundary
        step = np.zeros_like(theta)
        if free.any():
            step[free] = np.linalg.solve(info[np.ix_(free, free)], score[free])
        new = np.maximum(theta + step, 0.0)
        if np.max(np.abs(new - theta)) < threshold:
            return new
        theta = new
    raise ConvergenceError(f"REML with {len(Z)} variance components did not converge")


def design_inconsistency(fit: NetworkEstimate) -> tuple[float, float]:
    """(tau², gamma²) of the random-inconsistency model: study-level heterogeneity plus a
    design-level random effect with the same 1/2-correlation structure (Jackson et al. 2014;
    metafor: random = list(~ comp | study, ~ comp | design), rho = phi = 1/2)."""
    y, X, S, P, study_of = blocks(fit.network.studies, fit.network.treatments).dense()
    ref = fit.treatments.index(fit.reference)
    keep = [i for i in range(X.shape[1]) if i != ref]
    design_of = [fit.network.studies[s].design for s in study_of]
    same = np.array([[d1 == d2 for d2 in design_of] for d1 in design_of])
    G = 0.5 * (X @ X.T) * same
    theta = _reml(y, X[:, keep], S, [P, G])
    return float(theta[0]), float(theta[1])
