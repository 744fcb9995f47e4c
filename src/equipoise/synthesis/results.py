"""Immutable results of synthesis: PooledEffect (a batch of pairwise meta-analyses)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from equipoise.synthesis.batch import Float

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True, eq=False)
class PooledEffect:
    """Pooled estimates of B meta-analyses (arrays carry a leading analysis axis).

    ``beta`` holds the model coefficients (column 0 is the intercept, i.e. the pooled effect in
    an intercept-only model). Ratio measures stay on the log scale, as in metafor.
    """

    method: str
    test: str
    level: float
    k: np.ndarray
    beta: Float
    se: Float
    vb: Float
    stat: Float
    df: Float
    pval: Float
    ci_low: Float
    ci_high: Float
    tau2: Float
    tau2_se: Float
    q: Float
    q_df: Float
    q_pval: Float
    i2: Float
    h2: Float
    vt: Float
    pi_low: Float
    pi_high: Float
    pi_se: Float
    weights: Float
    iterations: np.ndarray
    study: tuple[tuple[str, ...], ...] = ()

    @property
    def size(self) -> int:
        return int(self.beta.shape[0])

    @property
    def estimate(self) -> Float:
        """The pooled effect (intercept) of each analysis."""
        return np.asarray(self.beta[:, 0])

    @property
    def tau(self) -> Float:
        return np.asarray(np.sqrt(self.tau2))

    @property
    def stat_name(self) -> str:
        return "zval" if self.test == "z" else "tval"

    def to_dict(self, index: int = 0) -> dict[str, Any]:
        """One analysis in the documented JSON layout (see docs/synthesis-json.md)."""
        b = index

        def num(x: Any) -> float | None:
            value = float(x)
            return None if np.isnan(value) else value

        k = int(self.k[b])
        out: dict[str, Any] = {
            "method": self.method, "test": self.test, "level": self.level, "k": k,
            "estimate": num(self.beta[b, 0]), "se": num(self.se[b, 0]),
            "ci_low": num(self.ci_low[b, 0]), "ci_high": num(self.ci_high[b, 0]),
            self.stat_name: num(self.stat[b, 0]), "pval": num(self.pval[b, 0]),
            "df": num(self.df[b]), "tau2": num(self.tau2[b]), "tau2_se": num(self.tau2_se[b]),
            "tau": num(self.tau[b]), "i2": num(self.i2[b]), "h2": num(self.h2[b]),
            "q": num(self.q[b]), "q_df": num(self.q_df[b]), "q_pval": num(self.q_pval[b]),
            "pi_low": num(self.pi_low[b]), "pi_high": num(self.pi_high[b]),
            "weights": [float(x) for x in self.weights[b, :k]],
        }
        if self.beta.shape[1] > 1:
            out["coefficients"] = [
                {"estimate": num(self.beta[b, j]), "se": num(self.se[b, j]),
                 self.stat_name: num(self.stat[b, j]), "pval": num(self.pval[b, j]),
                 "ci_low": num(self.ci_low[b, j]), "ci_high": num(self.ci_high[b, j])}
                for j in range(self.beta.shape[1])]
        if self.study:
            out["study"] = list(self.study[b])
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis with the pooled effect and heterogeneity statistics."""
        import pandas as pd

        return pd.DataFrame({
            "k": self.k, "estimate": self.estimate, "se": self.se[:, 0],
            "ci_low": self.ci_low[:, 0], "ci_high": self.ci_high[:, 0],
            "pval": self.pval[:, 0], "tau2": self.tau2, "i2": self.i2, "q": self.q,
            "pi_low": self.pi_low, "pi_high": self.pi_high})

    def draw(self, rng: np.random.Generator, n: int, *, predictive: bool = False) -> Float:
        """``n`` draws of each pooled effect (shape ``(n, B)``): normal with its SE, or with
        SE² + tau² when ``predictive`` (a new study's true effect)."""
        sd = self.pi_se if predictive else self.se[:, 0]
        return np.asarray(rng.normal(self.estimate[None, :], sd[None, :], size=(n, self.size)))
