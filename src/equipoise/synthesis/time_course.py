"""Onset and fade: an effect measured at several times, fitted as a function of log time.

From the rows of one source that report the same outcome at two or more times, the effect is
regressed on log(hours) by inverse-variance weighted least squares. With three or more points
the residual scatter widens the standard errors (Knapp-Hartung, never narrower than the sampling
error) and intervals use t with k - 2 df, so thin data give wide bands; with two points the line
passes through both and only their sampling error is propagated, which the result says. Nothing
is extrapolated: predictions outside the observed times are refused.

References
----------
Knapp G, Hartung J. Improved tests for a random effects meta-regression with a single
covariate. Stat Med 2003;22:2693-2710.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from equipoise.errors import ModelError
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis

GRID_HOURS = (1.0, 6.0, 12.0, 24.0, 72.0, 168.0, 336.0, 672.0, 1344.0, 2016.0, 4383.0, 8766.0)


def window_hours(window: tuple[float, float]) -> float:
    """One time for a reported window: its log-midpoint ("7-14 days" -> ~10 days), or its
    upper end when it opens at 0 ("<12 h" -> 12 h)."""
    lo, hi = window
    return float(np.sqrt(lo * hi)) if lo > 0 else float(hi)


@dataclass(frozen=True)
class TimePoint:
    """One measured effect: when (hours), how large, its standard error, and its row."""

    hours: float
    estimate: float
    se: float
    row_id: str


@dataclass(frozen=True, eq=False)
class TimeCourse:
    """A fitted effect-over-time line and what it says about onset and duration."""

    points: tuple[TimePoint, ...]
    intercept: float
    slope: float              # change in effect per e-fold increase in time
    cov: np.ndarray
    df: float | None          # None: two points, normal quantiles, no check of fit
    level: float
    favourable: int           # -1 when lower values favour the treatment, +1 otherwise

    @property
    def span(self) -> tuple[float, float]:
        hours = [p.hours for p in self.points]
        return min(hours), max(hours)

    def predict(self, hours: float) -> tuple[float, float, float]:
        """Estimate and interval at ``hours`` (inside the observed span only)."""
        lo, hi = self.span
        if not lo * (1 - 1e-9) <= hours <= hi * (1 + 1e-9):
            raise ModelError(f"{hours:g} h is outside the observed times ({lo:g}-{hi:g} h); "
                             "the time course is not extrapolated")
        x = np.array([1.0, np.log(hours)])
        est = float(x @ np.array([self.intercept, self.slope]))
        se = float(np.sqrt(x @ self.cov @ x))
        alpha = 1 - self.level
        crit = float(stats.norm.isf(alpha / 2) if self.df is None
                     else stats.t.isf(alpha / 2, self.df))
        return est, est - crit * se, est + crit * se

    def benefit(self, hours: float) -> bool:
        """Whether the interval at ``hours`` lies wholly on the favourable side of no effect."""
        _, low, high = self.predict(hours)
        return high < 0 if self.favourable < 0 else low > 0

    def grid(self) -> list[float]:
        """The observed times plus the standard grid points inside the span."""
        lo, hi = self.span
        return sorted({p.hours for p in self.points} | {h for h in GRID_HOURS if lo <= h <= hi})

    @property
    def onset(self) -> float | None:
        """Earliest time in the span at which benefit is distinguishable from no effect."""
        return next((h for h in self.grid() if self.benefit(h)), None)

    @property
    def lasts_until(self) -> float | None:
        """Latest time in the span at which benefit is still distinguishable from no effect."""
        return next((h for h in reversed(self.grid()) if self.benefit(h)), None)

    def draw(self, rng: np.random.Generator, n: int, hours: Sequence[float]) -> np.ndarray:
        """``n`` draws of the effect at each of ``hours`` (inside the span), shape
        ``(n, len(hours))``, from the coefficients' sampling distribution."""
        for h in hours:
            self.predict(h)  # refuses extrapolation
        coef = rng.multivariate_normal([self.intercept, self.slope], self.cov, size=n)
        x = np.column_stack([np.ones(len(hours)), np.log(np.asarray(hours, dtype=float))])
        return np.asarray(coef @ x.T)

    def to_frame(self) -> Any:
        """Predictions over the grid as a DataFrame."""
        import pandas as pd

        return pd.DataFrame.from_records(self.to_dict()["predictions"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": "effect = a + b log(hours), inverse-variance weighted"
                     + ("" if self.df is None else ", Knapp-Hartung (ad hoc) with t(k-2)"),
            "rows": [p.row_id for p in self.points], "intercept": self.intercept,
            "slope_per_log_hour": self.slope, "df": self.df, "level": self.level,
            "observed_hours": [p.hours for p in self.points],
            "predictions": [{"hours": h, **dict(zip(("estimate", "ci_low", "ci_high"),
                                                    self.predict(h), strict=True))}
                            for h in self.grid()],
            "onset_hours": self.onset, "lasts_until_hours": self.lasts_until,
            "note": ("two time points: the line passes through both; no check of fit"
                     if self.df is None else f"{len(self.points)} time points"),
        }


def fit_time_course(points: Sequence[TimePoint], *, favourable: int = -1,
                    level: float = 0.95) -> TimeCourse:
    """Fit effect = a + b log(hours) to two or more measured points of one outcome."""
    hours = np.array([p.hours for p in points], dtype=np.float64)
    if len(points) < 2 or len(np.unique(hours)) < 2:
        raise ModelError("a time course needs the effect at two or more different times")
    if (hours <= 0).any():
        raise ModelError("times must be positive hours")
    y = np.array([p.estimate for p in points])
    v = np.array([p.se for p in points]) ** 2
    batch = MetaBatch.from_arrays(y, v, np.log(hours), study=[p.row_id for p in points])
    thin = len(points) <= 2
    fit = MetaAnalysis("FE", test="z" if thin else "adhoc", level=level).fit(batch)
    return TimeCourse(tuple(sorted(points, key=lambda p: p.hours)), float(fit.beta[0, 0]),
                      float(fit.beta[0, 1]), np.asarray(fit.vb[0]), None if thin else
                      float(fit.df[0]), level, favourable)
