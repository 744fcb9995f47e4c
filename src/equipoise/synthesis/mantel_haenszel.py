"""Mantel-Haenszel and Peto pooling of 2x2 tables, as metafor's ``rma.mh`` and ``rma.peto``.

Settings go in the constructor (:class:`MantelHaenszel`, :class:`Peto`), tables in ``fit``
(:class:`TwoByTwo`), and ``fit`` returns an immutable :class:`PooledTables`. Every analysis of a
batch is computed at once: the tables are ``(B, K)`` arrays, padding masked out.

Conventions taken from metafor 3.8-1 (``print(metafor::rma.mh)``, ``print(metafor::rma.peto)``):

- The pooled estimate, its variance and the CMH and Tarone tests use the raw counts of every
  table (``add[2] = 0``, ``to[2] = "none"``, ``drop00[2] = FALSE``): a double-zero table (no
  events, or only events, in both arms) stays in; it adds nothing to OR or Peto, pulls RD towards
  0 and, with only events, RR towards 1.
- Q, I² and H² are the inverse-variance Q of the studies' own ``escalc`` effect sizes (log OR,
  log RR, or RD with the large-sample variance) around the pooled estimate, with 1/2 added to
  every cell of a table that has a zero cell and double-zero tables left out (``add[1] = 1/2``,
  ``to[1] = "only0"``, ``drop00[1] = TRUE``); the df is the number of studies kept minus 1.
- Peto's Q is the one-step ``sum((O-E)²/V) - (sum(O-E))²/sum(V)`` over tables with ``V > 0``,
  again from the raw counts.
- The CMH statistic is Mantel-Haenszel's (hypergeometric variance, ``N - 1``); with
  ``correct=True`` 1/2 is subtracted from ``|sum(O - E)|`` before squaring, without truncation
  at 0. Tarone's test is Breslow-Day's statistic less Tarone's correction, over the tables whose
  fitted count under the common OR is positive and that have events and non-events.

One deliberate difference: the fitted counts behind Tarone's test use an algebraically equal
form of metafor's quadratic root that does not cancel when the pooled OR rounds to 1 (there
metafor's X² can be off, e.g. 3.7465 for an exact 4.3844); elsewhere the two agree to ~1e-14.

References
----------
Mantel N, Haenszel W. Statistical aspects of the analysis of data from retrospective studies
of disease. J Natl Cancer Inst 1959;22:719-748.
Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance consistent in
both sparse data and large-strata limiting models. Biometrics 1986;42:311-323.
Greenland S, Robins JM. Estimation of a common effect parameter from sparse follow-up data.
Biometrics 1985;41:55-68.
Sato T, Greenland S, Robins JM. On the variance estimator for the Mantel-Haenszel risk
difference. Biometrics 1989;45:1323-1324.
Tarone RE. On heterogeneity tests based on efficient scores. Biometrika 1985;72:91-95.
Breslow NE, Day NE. Statistical methods in cancer research, vol. I. Lyon: IARC; 1980.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P. Beta blockade during and after myocardial
infarction: an overview of the randomized trials. Prog Cardiovasc Dis 1985;27:335-371.
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48. doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from equipoise.errors import DroppedStudyWarning, EquipoiseWarning, ModelError
from equipoise.synthesis.batch import Bool, Float

if TYPE_CHECKING:
    import pandas as pd

MEASURES = ("OR", "RR", "RD")
#: metafor's zero-cell correction of the per-study effect sizes behind Q (add=1/2, to="only0").
Q_ADD = 0.5

_CELLS = ("ai", "bi", "ci", "di")


def _frozen(x: ArrayLike, dtype: type = np.float64) -> NDArray[Any]:
    out: NDArray[Any] = np.array(x, dtype=dtype)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class TwoByTwo:
    """B analyses of up to K 2x2 tables, validated once.

    Arm 1 (``ai`` events, ``bi`` non-events) is the treatment, arm 2 (``ci``, ``di``) the
    control, so a log OR below 0 means fewer events on treatment. Build with
    :meth:`from_counts` (one analysis, or B analyses of the same studies) or :meth:`stack`.

    Attributes
    ----------
    ai, bi, ci, di : numpy.ndarray
        ``(B, K)`` read-only counts; padding entries are 0.
    mask : numpy.ndarray
        ``(B, K)``, True for a real table, False for padding.
    study : tuple of tuple of str
        Labels of the real tables of each analysis, in order.
    """

    ai: Float
    bi: Float
    ci: Float
    di: Float
    mask: Bool
    study: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        for name in _CELLS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "mask", _frozen(self.mask, np.bool_))

    @classmethod
    def from_counts(cls, ai: ArrayLike, bi: ArrayLike | None = None, ci: ArrayLike | None = None,
                    di: ArrayLike | None = None, *, n1i: ArrayLike | None = None,
                    n2i: ArrayLike | None = None,
                    study: Sequence[str] | None = None) -> TwoByTwo:
        """Tables from cell counts (``ai, bi, ci, di``) or events and sizes (``ai, n1i, ci, n2i``).

        1-D inputs give one analysis of K tables; 2-D inputs of shape ``(B, K)`` give B analyses
        of the same K studies (e.g. draws). Counts may be non-integer (metafor allows it).

        Raises
        ------
        ModelError
            Unequal lengths, a missing arm, non-finite or negative counts, events above the arm
            size, an arm with nobody in it, or ``n1i``/``n2i`` that disagree with the cells; the
            message names the study.
        """
        if ci is None:
            raise ModelError("ci (control-arm events) is required")
        given = {"ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i}
        arrays = {name: np.asarray(v, dtype=np.float64) for name, v in given.items()
                  if v is not None}
        shapes = {name: a.shape for name, a in arrays.items()}
        if len(set(shapes.values())) != 1:
            raise ModelError("counts differ in length: " + ", ".join(
                f"{name} {list(shape)}" for name, shape in shapes.items()))
        shape = arrays["ai"].shape
        if len(shape) not in (1, 2) or shape[-1] == 0:
            raise ModelError(f"counts must be 1-D (K tables) or 2-D (B, K), got shape {shape}")
        arrays = {name: np.atleast_2d(a) for name, a in arrays.items()}
        k = shape[-1]
        if study is None:
            labels = tuple(str(i) for i in range(1, k + 1))
        elif isinstance(study, str):
            raise ModelError("study must be a sequence of labels, not one string")
        else:
            labels = tuple(str(s) for s in study)
        if len(labels) != k:
            raise ModelError(f"{len(labels)} study labels for {k} tables")
        b_count = arrays["ai"].shape[0]
        study_labels = (labels,) * b_count

        def fail(bad: Bool, message: str, values: Float | None = None) -> None:
            if bad.any():
                b, i = (int(x) for x in np.argwhere(bad)[0])
                where = f"study {labels[i]!r}" if b_count == 1 else \
                    f"analysis {b}, study {labels[i]!r}"
                shown = "" if values is None else f" (got {values[b, i]:g})"
                raise ModelError(f"{where}: {message}{shown}")

        for name, a in arrays.items():
            fail(~np.isfinite(a), f"{name} is not a finite number", a)
            fail(a < 0, f"{name} is negative", a)
        cells: dict[str, Float] = {}
        for events, others, size in (("ai", "bi", "n1i"), ("ci", "di", "n2i")):
            if others not in arrays and size not in arrays:
                raise ModelError(f"give {others} (non-events) or {size} (arm size) with {events}")
            cells[events] = arrays[events]
            if size in arrays:
                n = arrays[size]
                fail(arrays[events] > n, f"{events} (events) is larger than {size}",
                     arrays[events])
                if others in arrays:
                    fail(arrays[others] != n - arrays[events],
                         f"{size} is not {events} + {others}", n)
                cells[others] = n - arrays[events]
            else:
                cells[others] = arrays[others]
            fail(cells[events] + cells[others] == 0,
                 f"the {'treatment' if events == 'ai' else 'control'} arm has no participants")
        return cls(cells["ai"], cells["bi"], cells["ci"], cells["di"],
                   np.ones(cells["ai"].shape, dtype=bool), study_labels)

    @classmethod
    def stack(cls, tables: Sequence[TwoByTwo]) -> TwoByTwo:
        """The analyses of several :class:`TwoByTwo` in one batch, padded to the largest K."""
        if not tables:
            raise ModelError("no tables given")
        width = max(t.ai.shape[1] for t in tables)

        def pad(x: NDArray[Any]) -> NDArray[Any]:
            return np.pad(x, ((0, 0), (0, width - x.shape[1])))

        ai, bi, ci, di, mask = (np.concatenate([pad(getattr(t, name)) for t in tables])
                                for name in (*_CELLS, "mask"))
        return cls(ai, bi, ci, di, mask, tuple(s for t in tables for s in t.study))

    @property
    def size(self) -> int:
        """Number of analyses B."""
        return int(self.ai.shape[0])

    @property
    def k(self) -> NDArray[np.int64]:
        """Number of tables in each analysis."""
        return np.asarray(self.mask.sum(axis=1), dtype=np.int64)

    def swapped(self) -> TwoByTwo:
        """The same tables with treatment and control exchanged."""
        return TwoByTwo(self.ci, self.di, self.ai, self.bi, self.mask, self.study)

    def labels(self, b: int, which: Bool) -> tuple[str, ...]:
        """Labels of the real tables of analysis ``b`` flagged in the ``(K,)`` mask ``which``."""
        hits = np.flatnonzero(which & self.mask[b])
        return tuple(self.study[b][int(i)] for i in hits)

    def double_zero(self) -> Bool:
        """Tables with no events, or only events, in both arms (metafor's ``drop00``)."""
        return np.asarray(self.mask & (((self.ai == 0) & (self.ci == 0))
                                       | ((self.bi == 0) & (self.di == 0))))


@dataclass(frozen=True, eq=False)
class PooledTables:
    """Common-effect pools of B analyses of 2x2 tables (arrays have one entry per analysis).

    OR and RR stay on the log scale, as in metafor; ``exp_*`` give the ratio scale. ``cmh*`` and
    ``tarone*`` are filled only for the Mantel-Haenszel OR (NaN otherwise). ``dropped`` names the
    double-zero tables left out of Q, I² and H² (they remain in the pooled estimate).
    """

    method: str
    measure: str
    level: float
    correct: bool
    k: NDArray[np.int64]
    estimate: Float
    se: Float
    zval: Float
    pval: Float
    ci_low: Float
    ci_high: Float
    q: Float
    q_df: NDArray[np.int64]
    q_pval: Float
    i2: Float
    h2: Float
    cmh: Float
    cmh_pval: Float
    tarone: Float
    tarone_df: Float
    tarone_pval: Float
    study: tuple[tuple[str, ...], ...] = ()
    dropped: tuple[tuple[str, ...], ...] = ()

    @property
    def size(self) -> int:
        return int(self.estimate.shape[0])

    @property
    def is_ratio(self) -> bool:
        """True for OR and RR (estimates on the log scale)."""
        return self.measure in ("OR", "RR")

    @property
    def exp_estimate(self) -> Float:
        return np.asarray(np.exp(self.estimate))

    @property
    def exp_ci_low(self) -> Float:
        return np.asarray(np.exp(self.ci_low))

    @property
    def exp_ci_high(self) -> Float:
        return np.asarray(np.exp(self.ci_high))

    def to_dict(self, index: int = 0) -> dict[str, Any]:
        """One analysis as plain JSON values (NaN -> None)."""
        b = index

        def num(x: Any) -> float | None:
            value = float(x)
            return None if np.isnan(value) else value

        out: dict[str, Any] = {
            "method": self.method, "measure": self.measure, "level": self.level,
            "k": int(self.k[b]),
            "estimate": num(self.estimate[b]), "se": num(self.se[b]), "zval": num(self.zval[b]),
            "pval": num(self.pval[b]), "ci_low": num(self.ci_low[b]),
            "ci_high": num(self.ci_high[b]),
            "q": num(self.q[b]), "q_df": int(self.q_df[b]), "q_pval": num(self.q_pval[b]),
            "i2": num(self.i2[b]), "h2": num(self.h2[b]),
        }
        if self.is_ratio:
            out |= {"exp_estimate": num(self.exp_estimate[b]),
                    "exp_ci_low": num(self.exp_ci_low[b]),
                    "exp_ci_high": num(self.exp_ci_high[b])}
        if self.method == "MH" and self.measure == "OR":
            df = num(self.tarone_df[b])
            out |= {"correct": self.correct, "cmh": num(self.cmh[b]), "cmh_df": 1,
                    "cmh_pval": num(self.cmh_pval[b]), "tarone": num(self.tarone[b]),
                    "tarone_df": None if df is None else int(df),
                    "tarone_pval": num(self.tarone_pval[b])}
        if self.study:
            out["study"] = list(self.study[b])
        if self.dropped:
            out["dropped"] = list(self.dropped[b])
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per analysis with the pooled effect and the heterogeneity statistics."""
        import pandas as pd

        columns: dict[str, Any] = {
            "k": self.k, "estimate": self.estimate, "se": self.se, "ci_low": self.ci_low,
            "ci_high": self.ci_high, "pval": self.pval, "q": self.q, "q_df": self.q_df,
            "i2": self.i2, "h2": self.h2}
        if self.method == "MH" and self.measure == "OR":
            columns |= {"cmh": self.cmh, "tarone": self.tarone}
        return pd.DataFrame(columns)

    def draw(self, rng: np.random.Generator, n: int) -> Float:
        """``n`` normal draws of each pooled estimate with its SE (shape ``(n, B)``)."""
        return np.asarray(rng.normal(self.estimate[None, :], self.se[None, :],
                                     size=(n, self.size)))


def _check_level(level: float) -> float:
    if not 0 < level < 1:
        raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
    return float(level)


class MantelHaenszel:
    """Mantel-Haenszel common-effect pooling of 2x2 tables (metafor's ``rma.mh``).

    Parameters
    ----------
    measure
        ``"OR"`` (variance of Robins, Breslow & Greenland 1986), ``"RR"`` (variance of
        Greenland & Robins 1985) or ``"RD"`` (variance of Sato, Greenland & Robins 1989, as in
        metafor; Greenland & Robins' 1985 RD variance differs).
    correct
        Continuity correction of the Cochran-Mantel-Haenszel test (OR only): metafor's
        default True subtracts 1/2 from ``|sum(O - E)|``.
    level
        Confidence level, e.g. 0.95.

    Notes
    -----
    With ``measure="OR"`` the fit also gives the CMH test (1 df) and Tarone's (1985) test for
    heterogeneity of the ORs (Breslow-Day with Tarone's correction). Exact (conditional) tests
    are not provided. See the module docstring for which tables and corrections each statistic
    uses.

    References
    ----------
    Mantel N, Haenszel W. J Natl Cancer Inst 1959;22:719-748.
    Robins J, Breslow N, Greenland S. Biometrics 1986;42:311-323.
    Greenland S, Robins JM. Biometrics 1985;41:55-68.
    Sato T, Greenland S, Robins JM. Biometrics 1989;45:1323-1324.
    Tarone RE. Biometrika 1985;72:91-95.
    """

    def __init__(self, measure: str = "OR", *, correct: bool = True,
                 level: float = 0.95) -> None:
        if measure not in MEASURES:
            raise ModelError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
        self.measure, self.correct, self.level = measure, bool(correct), _check_level(level)

    def fit(self, tables: TwoByTwo) -> PooledTables:
        """Pool every analysis of ``tables``; warns when a table leaves Q or an OR/RR is NA."""
        t = _arrays(tables)
        nan = np.full(tables.size, np.nan)
        cmh = cmh_p = tarone = tarone_df = tarone_p = nan
        if self.measure == "OR":
            beta, se, psi = _mh_or(t)
            cmh, cmh_p = _cmh(t, self.correct)
            tarone, tarone_df, tarone_p = _tarone(t, psi)
            _warn_not_estimable(tables, np.isnan(beta), "OR", "no table has both events on "
                                "treatment and non-events on control, or none has the reverse")
        elif self.measure == "RR":
            beta, se = _mh_rr(t)
            _warn_not_estimable(tables, np.isnan(beta), "RR",
                                "one arm has no events in any table")
        else:
            beta, se = _mh_rd(t)
        dz = tables.double_zero()
        yi, vi = _study_effects(self.measure, t, tables.mask & ~dz)
        q, q_df, q_p, i2, h2 = _inverse_variance_q(beta, yi, vi, tables.mask & ~dz)
        dropped = _warn_dropped(tables, dz, f"Mantel-Haenszel {self.measure}")
        return PooledTables("MH", self.measure, self.level, self.correct, tables.k,
                            *_wald(beta, se, self.level), q, q_df, q_p, i2, h2,
                            cmh, cmh_p, tarone, tarone_df, tarone_p, tables.study, dropped)


class Peto:
    """Peto's one-step log odds ratio (metafor's ``rma.peto``).

    ``log OR = sum(O - E) / sum(V)`` and ``SE = 1 / sqrt(sum(V))`` with O the treatment-arm
    events, E and V their hypergeometric mean and variance given the margins.

    Parameters
    ----------
    level
        Confidence level, e.g. 0.95.

    References
    ----------
    Yusuf S, Peto R, Lewis J, Collins R, Sleight P. Beta blockade during and after myocardial
    infarction: an overview of the randomized trials. Prog Cardiovasc Dis 1985;27:335-371.
    """

    measure = "OR"

    def __init__(self, *, level: float = 0.95) -> None:
        self.level = _check_level(level)

    def fit(self, tables: TwoByTwo) -> PooledTables:
        """Pool every analysis of ``tables``.

        Raises
        ------
        ModelError
            If in some analysis one outcome never occurs (every V is 0), as metafor stops.
        """
        t = _arrays(tables)
        a, n1, n2, N = t["a"], t["n1"], t["n2"], t["N"]
        xt, yt = a + t["c"], t["b"] + t["d"]
        E = xt * n1 / N
        V = xt * yt * (n1 / N) * (n2 / N) / (N - 1)
        sum_v = V.sum(axis=1)
        if (sum_v == 0).any():
            b = int(np.argmax(sum_v == 0))
            where = "" if tables.size == 1 else f"analysis {b}: "
            raise ModelError(f"{where}one of the two outcomes never occurred in any table, so "
                             "Peto's method cannot be used")
        oe = (a - E).sum(axis=1)
        beta = oe / sum_v
        se = np.sqrt(1 / sum_v)
        pos = V > 0
        k_pos = pos.sum(axis=1)
        q = np.maximum(0.0, np.where(pos, (a - E) ** 2 / np.where(pos, V, 1.0), 0.0).sum(axis=1)
                       - oe**2 / sum_v)
        q_df, q_p, i2, h2 = _q_summary(q, k_pos)
        dropped = _warn_dropped(tables, tables.double_zero(), "Peto OR")
        nan = np.full(tables.size, np.nan)
        return PooledTables("Peto", "OR", self.level, False, tables.k,
                            *_wald(beta, se, self.level), q, q_df, q_p, i2, h2,
                            nan, nan, nan, nan, nan, tables.study, dropped)


def _arrays(tables: TwoByTwo) -> dict[str, Float]:
    """Counts with padding zeroed, arm and table sizes (padding N = 2 keeps every ratio 0)."""
    m = tables.mask
    a, b, c, d = (np.where(m, getattr(tables, name), 0.0) for name in _CELLS)
    return {"a": a, "b": b, "c": c, "d": d, "n1": a + b, "n2": c + d,
            "N": np.where(m, a + b + c + d, 2.0)}


def _mh_or(t: dict[str, Float]) -> tuple[Float, Float, Float]:
    """MH log OR, its Robins-Breslow-Greenland SE, and the OR (NaN when R or S is 0)."""
    a, b, c, d, N = t["a"], t["b"], t["c"], t["d"], t["N"]
    P = a / N + d / N
    Q = b / N + c / N
    Ri = (a / N) * d
    Si = (b / N) * c
    R, S = Ri.sum(axis=1), Si.sum(axis=1)
    ok = (R != 0) & (S != 0)
    R1, S1 = np.where(ok, R, 1.0), np.where(ok, S, 1.0)
    psi = np.where(ok, R1 / S1, np.nan)
    var = 0.5 * ((P * Ri).sum(axis=1) / R1**2 + (P * Si + Q * Ri).sum(axis=1) / (R1 * S1)
                 + (Q * Si).sum(axis=1) / S1**2)
    return np.log(psi), np.where(ok, np.sqrt(var), np.nan), psi


def _mh_rr(t: dict[str, Float]) -> tuple[Float, Float]:
    """MH log RR and its Greenland-Robins SE (NaN when one arm has no events at all)."""
    a, c, n1, n2, N = t["a"], t["c"], t["n1"], t["n2"], t["N"]
    R = (a * (n2 / N)).sum(axis=1)
    S = (c * (n1 / N)).sum(axis=1)
    ok = (a.sum(axis=1) != 0) & (c.sum(axis=1) != 0)
    R1, S1 = np.where(ok, R, 1.0), np.where(ok, S, 1.0)
    var = ((n1 / N) * (n2 / N) * (a + c) - (a / N) * c).sum(axis=1) / (R1 * S1)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    return np.where(ok, np.log(R1 / S1), np.nan), np.where(ok, se, np.nan)


def _mh_rd(t: dict[str, Float]) -> tuple[Float, Float]:
    """MH risk difference and metafor's (Sato, Greenland & Robins 1989) SE."""
    a, c, n1, n2, N = t["a"], t["c"], t["n1"], t["n2"], t["N"]
    w = (n1 * (n2 / N)).sum(axis=1)
    beta = (a * (n2 / N) - c * (n1 / N)).sum(axis=1) / w
    first = (c * (n1 / N) ** 2 - a * (n2 / N) ** 2 + (n1 / N) * (n2 / N) * (n2 - n1) / 2)
    second = (a * (n2 - c) / N + c * (n1 - a) / N).sum(axis=1) / 2
    with np.errstate(invalid="ignore"):
        se = np.sqrt((beta * first.sum(axis=1) + second) / w**2)
    return beta, se


def _cmh(t: dict[str, Float], correct: bool) -> tuple[Float, Float]:
    """Cochran-Mantel-Haenszel statistic (hypergeometric variance) and its 1-df p-value."""
    a, b, c, d, n1, n2, N = (t[x] for x in ("a", "b", "c", "d", "n1", "n2", "N"))
    xt, yt = a + c, b + d
    ok = (xt.sum(axis=1) != 0) & (yt.sum(axis=1) != 0)
    num = (np.abs((a - (n1 / N) * xt).sum(axis=1)) - (0.5 if correct else 0.0)) ** 2
    den = ((n1 / N) * (n2 / N) * (xt * (yt / (N - 1)))).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
    return stat, np.asarray(stats.chi2.sf(stat, 1))


def _tarone(t: dict[str, Float], psi: Float) -> tuple[Float, Float, Float]:
    """Tarone's heterogeneity statistic, its df (tables used - 1) and p-value."""
    a, n1, n2, N = t["a"], t["n1"], t["n2"], t["N"]
    xt, yt = a + t["c"], t["b"] + t["d"]
    ok = ~np.isnan(psi)
    p = np.where(ok, psi, 1.0)[:, None]
    A = p * (n1 + xt) + (n2 - xt)
    B = np.sqrt(np.maximum(A**2 - 4 * n1 * xt * p * (p - 1), 0.0))
    # The fitted treatment-arm count under the common OR, the smaller root of Breslow & Day's
    # quadratic. metafor writes it (A - B) / (2 (psi - 1)), which cancels catastrophically
    # when psi is within rounding of 1; this equal form is exact there (and n1 xt / N at 1).
    AB = A + B     # > 0 for every real table; 0 only on padding
    N11 = 2 * n1 * xt * p / np.where(AB > 0, AB, 1.0)
    pos = (N11 > 0) & (xt > 0) & (yt > 0) & ok[:, None]
    N11 = np.where(pos, N11, 1.0)
    inv = np.zeros_like(N11)
    for cell in (N11, n1 - N11, xt - N11, N11 - n1 - xt + N):
        inv += 1 / np.where(pos, cell, 1.0)
    inv = np.where(pos, inv, 1.0)
    dev = np.where(pos, a - N11, 0.0)
    var_sum = np.where(pos, 1 / inv, 0.0).sum(axis=1)
    bd = np.maximum(0.0, (np.where(pos, dev**2 * inv, 0.0)).sum(axis=1))
    tarone = np.maximum(0.0, bd - dev.sum(axis=1) ** 2 / np.where(ok, var_sum, 1.0))
    k_pos = pos.sum(axis=1)
    df = np.where(ok, k_pos - 1.0, np.nan)
    pval = np.where(ok & (k_pos > 1), stats.chi2.sf(tarone, np.maximum(k_pos - 1, 1)), np.nan)
    return np.where(ok, tarone, np.nan), df, pval


def _study_effects(measure: str, t: dict[str, Float], keep: Bool) -> tuple[Float, Float]:
    """Each kept study's escalc effect size and variance (1/2 added to tables with a zero)."""
    a, b, c, d = (np.where(keep, t[x], 1.0) for x in ("a", "b", "c", "d"))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (np.where(zero, x + Q_ADD, x) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "OR":
        yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    elif measure == "RR":
        yi = np.log(p1) - np.log(p2)
        vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
    else:
        yi = p1 - p2
        vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    return yi, vi


def _inverse_variance_q(beta: Float, yi: Float, vi: Float,
                        keep: Bool) -> tuple[Float, NDArray[np.int64], Float, Float, Float]:
    """Cochran's Q of the kept studies around the pooled ``beta``, with df, p, I² and H²."""
    w = np.where(keep, 1 / vi, 0.0)
    q = np.maximum(0.0, (w * (np.where(keep, yi, 0.0) - beta[:, None]) ** 2).sum(axis=1))
    k_q = keep.sum(axis=1)
    q = np.where(k_q > 1, q, 0.0)
    return (q, *_q_summary(q, k_q))


def _q_summary(q: Float, k: NDArray[np.int64]) -> tuple[NDArray[np.int64], Float, Float, Float]:
    """df, p-value, I² and H² of Q over k studies (metafor: p = 1, I² = 0, H² = 1 if k <= 1)."""
    has = k > 1
    df = np.maximum(k - 1, 0)
    df1 = np.maximum(df, 1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        pval = np.where(has, stats.chi2.sf(q, df1), 1.0)
        i2 = np.where(has, np.maximum(0.0, 100 * (q - df1) / q), 0.0)
        h2 = np.where(has, q / df1, 1.0)
    return np.asarray(df, dtype=np.int64), pval, i2, h2


def _wald(beta: Float, se: Float, level: float) -> tuple[Float, Float, Float, Float, Float, Float]:
    """beta, se, z, two-sided p and the normal confidence interval."""
    crit = float(stats.norm.isf((1 - level) / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = beta / se
    pval = 2 * stats.norm.sf(np.abs(z))
    return beta, se, z, np.asarray(pval), beta - crit * se, beta + crit * se


def _where(tables: TwoByTwo, b: int) -> str:
    return "" if tables.size == 1 else f"analysis {b}: "


def _warn_dropped(tables: TwoByTwo, dz: Bool, what: str) -> tuple[tuple[str, ...], ...]:
    """Labels of the double-zero tables per analysis; one DroppedStudyWarning naming them."""
    dropped = tuple(tables.labels(b, dz[b]) for b in range(tables.size))
    lines = [_where(tables, b) + ", ".join(repr(s) for s in names)
             for b, names in enumerate(dropped) if names]
    if lines:
        warnings.warn(
            f"{what}: left out of Q, I² and H² (no events, or only events, in both arms; "
            f"metafor drop00) but kept in the pooled estimate: {'; '.join(lines)}",
            DroppedStudyWarning, stacklevel=3)
    return dropped


def _warn_not_estimable(tables: TwoByTwo, bad: Bool, measure: str, why: str) -> None:
    if bad.any():
        which = ", ".join(str(int(b)) for b in np.flatnonzero(bad))
        where = "" if tables.size == 1 else f" in analysis {which}"
        warnings.warn(f"the Mantel-Haenszel {measure} cannot be estimated{where}: {why}; "
                      "estimate, SE and Q are NaN (metafor: NA)", EquipoiseWarning,
                      stacklevel=3)


def rma_mh(ai: ArrayLike, bi: ArrayLike | None = None, ci: ArrayLike | None = None,
           di: ArrayLike | None = None, *, n1i: ArrayLike | None = None,
           n2i: ArrayLike | None = None, study: Sequence[str] | None = None,
           measure: str = "OR", correct: bool = True, level: float = 0.95) -> PooledTables:
    """Shorthand for ``MantelHaenszel(measure, ...).fit(TwoByTwo.from_counts(...))``."""
    tables = TwoByTwo.from_counts(ai, bi, ci, di, n1i=n1i, n2i=n2i, study=study)
    return MantelHaenszel(measure, correct=correct, level=level).fit(tables)


def rma_peto(ai: ArrayLike, bi: ArrayLike | None = None, ci: ArrayLike | None = None,
             di: ArrayLike | None = None, *, n1i: ArrayLike | None = None,
             n2i: ArrayLike | None = None, study: Sequence[str] | None = None,
             level: float = 0.95) -> PooledTables:
    """Shorthand for ``Peto(level=level).fit(TwoByTwo.from_counts(...))``."""
    tables = TwoByTwo.from_counts(ai, bi, ci, di, n1i=n1i, n2i=n2i, study=study)
    return Peto(level=level).fit(tables)
