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

from dataclasses import asdict, dataclass
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

from equipoise.evidence.network import TreatmentNetwork
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
