"""Ranking treatments in a network: P-scores, rankograms and SUCRA, league tables.

References
----------
Rücker G, Schwarzer G. Ranking treatments in frequentist network meta-analysis works without
resampling methods. BMC Med Res Methodol 2015;15:58 (P-scores).
Salanti G, Ades AE, Ioannidis JPA. Graphical methods and numerical summaries for presenting
results from multiple-treatment meta-analysis. J Clin Epidemiol 2011;64:163-171 (SUCRA).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from equipoise.errors import ModelError
from equipoise.synthesis.batch import Float
from equipoise.synthesis.network_meta import NetworkEstimate


@dataclass(frozen=True, eq=False)
class Rankogram:
    """Rank probabilities (rows: treatments, columns: rank 1 = best) and SUCRA."""

    treatments: tuple[str, ...]
    probabilities: Float
    sucra: dict[str, float]
    draws: int


def rankogram(fit: NetworkEstimate, rng: np.random.Generator, n: int = 100_000, *,
              small_values: str = "desirable") -> Rankogram:
    """Rank probabilities and SUCRA from ``n`` draws of the network estimates."""
    if small_values not in ("desirable", "undesirable"):
        raise ModelError("small_values must be 'desirable' or 'undesirable'")
    if n < 1:
        raise ModelError("n must be at least 1")
    t = len(fit.treatments)
    keep = [i for i, name in enumerate(fit.treatments) if name != fit.reference]
    draws = np.zeros((n, t))
    draws[:, keep] = rng.multivariate_normal(fit.d[keep], fit.cov[np.ix_(keep, keep)], size=n)
    order = draws if small_values == "desirable" else -draws
    ranks = order.argsort(axis=1).argsort(axis=1)  # 0 = best
    probs = np.stack([(ranks == r).mean(axis=0) for r in range(t)], axis=1)
    mean_rank = ranks.mean(axis=0) + 1
    sucra = {name: float((t - mean_rank[i]) / (t - 1)) for i, name in enumerate(fit.treatments)}
    return Rankogram(fit.treatments, probs, sucra, n)


def league_table(fit: NetworkEstimate) -> dict[tuple[str, str], dict[str, float]]:
    """Every ordered pair (row, column): the network estimate of row minus column."""
    return {(a, b): fit.summary(a, b) for a in fit.treatments for b in fit.treatments if a != b}
