"""Per-study effect sizes and sampling variances, following R metafor's ``escalc()``.

:func:`escalc` turns what each trial reported (a 2x2 table, or means, SDs and group sizes, or a
ready-made estimate) into one effect size ``yi`` and sampling variance ``vi`` per study,
vectorised over studies. Argument names, defaults and formulas are those of metafor 3.8-1;
``validation/escalc_reference.R`` regenerates the cross-check in
``tests/reference/metafor_escalc.json``. Group 1 (``ai``, ``m1i``...) is the treatment arm, so a
positive ``yi`` favours more of the outcome on treatment.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from equipoise.errors import DroppedStudyWarning, EffectSizeError

if TYPE_CHECKING:
    import pandas as pd

Floats = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

TABLE_MEASURES = ("OR", "RR", "RD", "PETO")
MEAN_MEASURES = ("MD", "SMD", "SMDH")
MEASURES = (*MEAN_MEASURES, *TABLE_MEASURES, "GEN")
#: The variance types each measure accepts; the first is the default ("LS").
VTYPES: dict[str, tuple[str, ...]] = {
    "MD": ("LS", "UB", "HO"), "SMD": ("LS", "UB", "LS2", "AV"), "SMDH": ("LS", "LS2"),
    "OR": ("LS",), "RR": ("LS",), "RD": ("LS", "UB", "AV"), "PETO": ("LS",), "GEN": ("LS",),
}
ZERO_CELL_RULES = ("only0", "all", "if0all", "none")
CORRECTIONS = ("exact", "approx")

_TABLE_ARGS = ("ai", "bi", "ci", "di", "n1i", "n2i")
_MEAN_ARGS = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
_GEN_ARGS = ("yi", "vi", "sei")


@dataclass(frozen=True, eq=False)
class EffectSizes:
    """Effect sizes and sampling variances of the kept studies, in input order.

    Attributes
    ----------
    measure : str
        One of ``MEASURES``; OR, RR and PETO are on the log scale.
    yi, vi : numpy.ndarray
        Read-only float64 effect sizes and sampling variances, one per kept study.
    study : tuple of str
        Labels of the kept studies.
    dropped : tuple of str
        Labels of studies left out (double-zero tables with ``drop00``, or effects that cannot
        be estimated); :func:`escalc` warns with :class:`DroppedStudyWarning` when non-empty.
    """

    measure: str
    yi: Floats
    vi: Floats
    study: tuple[str, ...]
    dropped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("yi", "vi"):
            values = np.array(getattr(self, name), dtype=np.float64)
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        if not len(self.yi) == len(self.vi) == len(self.study):
            raise EffectSizeError(
                f"yi ({len(self.yi)}), vi ({len(self.vi)}) and study ({len(self.study)}) "
                "differ in length", field="yi, vi, study")

    @property
    def sei(self) -> Floats:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def to_frame(self) -> pd.DataFrame:
        """One row per kept study with columns ``study``, ``yi``, ``vi``."""
        import pandas as pd

        return pd.DataFrame({"study": list(self.study), "yi": self.yi.copy(),
                             "vi": self.vi.copy()})


def escalc(measure: str, *, ai: npt.ArrayLike | None = None, bi: npt.ArrayLike | None = None,
           ci: npt.ArrayLike | None = None, di: npt.ArrayLike | None = None,
           n1i: npt.ArrayLike | None = None, n2i: npt.ArrayLike | None = None,
           m1i: npt.ArrayLike | None = None, sd1i: npt.ArrayLike | None = None,
           m2i: npt.ArrayLike | None = None, sd2i: npt.ArrayLike | None = None,
           yi: npt.ArrayLike | None = None, vi: npt.ArrayLike | None = None,
           sei: npt.ArrayLike | None = None, study: Sequence[str] | None = None,
           add: float = 0.5, to: str = "only0", drop00: bool | None = None,
           vtype: str = "LS", correction: str = "exact") -> EffectSizes:
    """Compute effect sizes and sampling variances as metafor's ``escalc()`` does.

    Parameters
    ----------
    measure : str
        ``"MD"`` mean difference; ``"SMD"`` Hedges' g; ``"SMDH"`` SMD with heteroscedastic SDs
        (Bonett); ``"OR"``, ``"RR"`` log odds / risk ratio; ``"RD"`` risk difference;
        ``"PETO"`` log Peto odds ratio; ``"GEN"`` given ``yi`` with ``vi`` or ``sei``.
    ai, bi, ci, di : array_like, optional
        2x2 tables: events and non-events in group 1 (``ai``, ``bi``) and group 2 (``ci``,
        ``di``). ``n1i``/``n2i`` may replace ``bi``/``di`` (then ``bi = n1i - ai``).
    m1i, sd1i, n1i, m2i, sd2i, n2i : array_like, optional
        Means, standard deviations and sizes of the two groups (MD, SMD, SMDH).
    yi, vi, sei : array_like, optional
        Ready-made estimates for ``"GEN"``: ``vi``, or ``sei`` (then ``vi = sei**2``).
    study : sequence of str, optional
        Unique study labels; default ``"1"``, ``"2"``, ...
    add, to : float, str
        Zero-cell correction for 2x2 measures: add ``add`` to every cell of tables with a zero
        (``"only0"``, default), of all tables (``"all"``), of all tables if any has a zero
        (``"if0all"``), or never (``"none"``). As in metafor it applies to OR, RR, RD and PETO.
    drop00 : bool, optional
        Drop tables with no events, or only events, in both groups. ``None`` means metafor's
        default, False.
    vtype : str
        Variance type, see ``VTYPES``: ``"LS"`` large-sample (default), ``"UB"`` unbiased,
        ``"LS2"`` alternative large-sample, ``"HO"`` pooled SD (MD), ``"AV"`` based on
        sample-size-weighted averages (SMD: of ``yi``; RD: of the group risks).
    correction : str
        Small-sample bias correction of SMD and SMDH: ``"exact"`` gamma-function factor
        ``J = G(m/2) / (sqrt(m/2) G((m-1)/2))`` with ``m = n1i + n2i - 2`` (metafor), or
        ``"approx"`` ``J = 1 - 3/(4m - 1)``; with ``vtype="UB"`` the latter also uses
        ``1/(2(m - 1.94))`` for the variance term, which is R meta's Hedges' g (RevMan 5).

    Returns
    -------
    EffectSizes
        The kept studies' ``yi`` and ``vi``, and the labels of dropped ones.

    Raises
    ------
    EffectSizeError
        On any unusable input; the message names the study and the field.

    Warns
    -----
    DroppedStudyWarning
        When studies are dropped; the message names them and why.

    Notes
    -----
    Deliberate differences from metafor 3.8-1: missing or non-finite inputs are errors, not
    ``NA`` rows; studies metafor returns as ``NA`` (``drop00``, or infinite/undefined values with
    ``to="none"``) and tables whose variance is 0 are dropped and named; ``vtype`` must be one
    the measure uses; SMDH ``"LS2"`` uses the unit-free form of later metafor releases (3.8-1
    squares the SDs where their fourth powers belong).

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
    36(3):1-48. Hedges LV (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. J Educ Stat 6:107-128. Hedges LV, Olkin I (1985). Statistical Methods
    for Meta-Analysis. Academic Press. Bonett DG (2009). Meta-analytic interval estimation for
    standardized and unstandardized mean differences. Psychol Methods 14:225-238. Yusuf S et al.
    (1985). Beta blockade during and after myocardial infarction. Prog Cardiovasc Dis
    27:335-371. White IR, Thomas J (2005). Standardized mean differences in individually-
    randomized and cluster-randomized trials. Clin Trials 2:141-151.
    """
    _check_settings(measure, vtype, to, add, drop00, correction)
    args = {"ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i, "m1i": m1i,
            "sd1i": sd1i, "m2i": m2i, "sd2i": sd2i, "yi": yi, "vi": vi, "sei": sei}
    data = _as_arrays(measure, {name: value for name, value in args.items() if value is not None})
    labels = _labels(study, len(next(iter(data.values()))))
    for name, values in data.items():
        _check(~np.isfinite(values), labels, name, "is {value}; a finite number is required",
               values)
    double_zero = unestimable = np.zeros(len(labels), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):  # zero cells and SDs are checked below
        if measure in TABLE_MEASURES:
            est, var, double_zero, unestimable = _two_by_two(
                measure, data, labels, add, to, bool(drop00), vtype)
        elif measure in MEAN_MEASURES:
            est, var = _mean_difference(measure, data, labels, vtype, correction)
        else:
            est, var = _generic(data, labels)
    keep = ~(double_zero | unestimable)
    if not keep.all():
        warnings.warn(_dropped_message(measure, labels, double_zero, unestimable, to, add),
                      DroppedStudyWarning, stacklevel=2)
    return EffectSizes(measure, est[keep], var[keep],
                       tuple(label for label, k in zip(labels, keep, strict=True) if k),
                       tuple(label for label, k in zip(labels, keep, strict=True) if not k))


def _check_settings(measure: str, vtype: str, to: str, add: float, drop00: bool | None,
                    correction: str) -> None:
    if measure not in MEASURES:
        raise EffectSizeError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}",
                              field="measure")
    if vtype not in VTYPES[measure]:
        kind = "does not apply to" if any(vtype in v for v in VTYPES.values()) else "is unknown for"
        raise EffectSizeError(f"{vtype!r} {kind} measure {measure}, which takes "
                              f"{', '.join(VTYPES[measure])}", field="vtype")
    if to not in ZERO_CELL_RULES:
        raise EffectSizeError(f"unknown rule {to!r}; use one of {', '.join(ZERO_CELL_RULES)}",
                              field="to")
    if not (np.isfinite(add) and add >= 0):
        raise EffectSizeError(f"must be a finite number >= 0, got {add!r}", field="add")
    if drop00 and measure not in TABLE_MEASURES:
        raise EffectSizeError(f"applies to 2x2 measures ({', '.join(TABLE_MEASURES)}), "
                              f"not {measure}", field="drop00")
    if correction not in CORRECTIONS:
        raise EffectSizeError(f"unknown correction {correction!r}; use one of "
                              f"{', '.join(CORRECTIONS)}", field="correction")
    if correction != "exact" and measure not in ("SMD", "SMDH"):
        raise EffectSizeError(f"applies to SMD and SMDH, not {measure}", field="correction")


def _as_arrays(measure: str, given: dict[str, npt.ArrayLike]) -> dict[str, Floats]:
    allowed: tuple[str, ...]
    needs: tuple[tuple[str, ...], ...]
    if measure in TABLE_MEASURES:
        allowed, needs = _TABLE_ARGS, (("ai",), ("bi", "n1i"), ("ci",), ("di", "n2i"))
        wanted = "ai, bi, ci, di (or ai, n1i, ci, n2i)"
    elif measure in MEAN_MEASURES:
        allowed, needs = _MEAN_ARGS, tuple((name,) for name in _MEAN_ARGS)
        wanted = ", ".join(_MEAN_ARGS)
    else:
        allowed, needs, wanted = _GEN_ARGS, (("yi",), ("vi", "sei")), "yi and vi (or sei)"
    unused = [name for name in given if name not in allowed]
    if unused:
        raise EffectSizeError(f"not used by measure {measure}, which takes {wanted}",
                              field=", ".join(unused))
    missing = [" or ".join(group) for group in needs if not any(n in given for n in group)]
    if missing:
        raise EffectSizeError(f"measure {measure} needs {wanted}; missing {', '.join(missing)}",
                              field=", ".join(missing))
    if "vi" in given and "sei" in given:
        raise EffectSizeError("give vi or sei, not both", field="vi, sei")
    arrays: dict[str, Floats] = {}
    for name, value in given.items():
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise EffectSizeError(f"must be numbers ({exc})", field=name) from exc
        if array.ndim > 1:
            raise EffectSizeError(f"must be one-dimensional, got shape {array.shape}",
                                  field=name)
        arrays[name] = array.reshape(-1)
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise EffectSizeError("arrays of unequal length: " + ", ".join(
            f"{name}={n}" for name, n in lengths.items()), field=", ".join(lengths))
    if not next(iter(lengths.values())):
        raise EffectSizeError("no studies given", field=", ".join(lengths))
    return arrays


def _labels(study: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(str(i) for i in range(1, k + 1))
    if isinstance(study, str):
        raise EffectSizeError("must be a sequence of labels, not one string", field="study")
    labels = tuple(str(label) for label in study)
    if len(labels) != k:
        raise EffectSizeError(f"has {len(labels)} labels for {k} studies", field="study")
    twice = [label for label in dict.fromkeys(labels) if labels.count(label) > 1]
    if twice:
        raise EffectSizeError("label is used twice", field="study", study=twice[0])
    return labels


def _check(bad: Mask, labels: tuple[str, ...], field: str, message: str,
           values: Floats | None = None) -> None:
    """Raise for the first study flagged in ``bad``; ``{value}`` is that study's value."""
    hits = np.flatnonzero(bad)
    if hits.size:
        i = int(hits[0])
        shown = f"{values[i]:g}" if values is not None else ""
        raise EffectSizeError(message.format(value=shown), field=field, study=labels[i])


def _second_cell(data: dict[str, Floats], labels: tuple[str, ...], events: str, others: str,
                 size: str) -> Floats:
    if size not in data:
        return data[others]
    first, n = data[events], data[size]
    _check(first > n, labels, events, f"events ({{value}}) exceed {size}", first)
    if others in data:
        _check(data[others] != n - first, labels, size, f"{size} is not {events} + {others}", n)
        return data[others]
    return n - first


def _two_by_two(measure: str, data: dict[str, Floats], labels: tuple[str, ...], add: float,
                to: str, drop00: bool, vtype: str) -> tuple[Floats, Floats, Mask, Mask]:
    for name, values in data.items():
        _check(values < 0, labels, name, "is negative ({value}); counts must be >= 0", values)
    ai, ci = data["ai"], data["ci"]
    bi = _second_cell(data, labels, "ai", "bi", "n1i")
    di = _second_cell(data, labels, "ci", "di", "n2i")
    _check(ai + bi <= 0, labels, "n1i" if "n1i" in data else "ai + bi",
           "group 1 has no participants; group sizes must be positive")
    _check(ci + di <= 0, labels, "n2i" if "n2i" in data else "ci + di",
           "group 2 has no participants; group sizes must be positive")

    # metafor: drop00 looks at the raw table, and dropped tables neither get nor trigger `add`.
    double_zero = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
    if not drop00:
        double_zero = np.zeros_like(double_zero)
    cells = np.stack([ai, bi, ci, di])
    has_zero = (cells == 0).any(axis=0) & ~double_zero
    if to == "all" or (to == "if0all" and has_zero.any()):
        cells = cells + add
    elif to == "only0":
        cells = cells + add * has_zero
    a, b, c, d = cells
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    if measure == "OR":
        yi, vi = np.log(a / b) - np.log(c / d), 1 / a + 1 / b + 1 / c + 1 / d
    elif measure == "RR":
        yi, vi = np.log(p1) - np.log(p2), 1 / a - 1 / n1 + 1 / c - 1 / n2
    elif measure == "RD":
        yi = p1 - p2
        if vtype == "AV":  # sample-size-weighted mean risk per group, over the kept tables
            kept = ~double_zero
            q1 = np.sum(p1[kept] * n1[kept]) / np.sum(n1[kept])
            q2 = np.sum(p2[kept] * n2[kept]) / np.sum(n2[kept])
            vi = q1 * (1 - q1) / n1 + q2 * (1 - q2) / n2
        else:
            shift = 1.0 if vtype == "UB" else 0.0
            vi = p1 * (1 - p1) / (n1 - shift) + p2 * (1 - p2) / (n2 - shift)
    else:  # PETO: (O - E) / V from the hypergeometric mean and variance of `a`
        n = n1 + n2
        events, non_events = a + c, b + d
        variance = events * non_events * (n1 / n) * (n2 / n) / (n - 1)
        yi, vi = (a - events * n1 / n) / variance, 1 / variance
    unestimable = ~double_zero & ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    return yi, vi, double_zero, unestimable


def _hedges_j(m: Floats, correction: str) -> Floats:
    """Small-sample bias correction factor of Hedges (1981) for ``m`` degrees of freedom."""
    if correction == "approx":
        return 1 - 3 / (4 * m - 1)
    return np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2))


def _mean_difference(measure: str, data: dict[str, Floats], labels: tuple[str, ...],
                     vtype: str, correction: str) -> tuple[Floats, Floats]:
    m1, s1, n1, m2, s2, n2 = (data[name] for name in _MEAN_ARGS)
    for name in ("n1i", "n2i"):
        _check(data[name] <= 0, labels, name, "group size must be positive, got {value}",
               data[name])
    for name in ("sd1i", "sd2i"):
        _check(data[name] < 0, labels, name, "standard deviation is negative ({value})",
               data[name])
    total, df = n1 + n2, n1 + n2 - 2
    if measure == "MD":
        yi = m1 - m2
        if vtype == "HO":
            _check(df <= 0, labels, "n1i, n2i", "a pooled SD needs n1i + n2i > 2")
            vi = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df * (1 / n1 + 1 / n2)
        else:  # "LS" and "UB" coincide for MD
            vi = s1**2 / n1 + s2**2 / n2
        return _finite(measure, yi, vi, labels)
    _check(df <= 1, labels, "n1i, n2i", "the bias correction needs n1i + n2i > 3")
    j = _hedges_j(df, correction)
    if measure == "SMD":
        d = (m1 - m2) / np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df)
        yi = j * d
        if vtype == "UB":
            k = 1 / (2 * (df - 1.94)) if correction == "approx" else 1 - (df - 2) / (df * j**2)
            vi = 1 / n1 + 1 / n2 + k * yi**2
        elif vtype == "LS2":
            vi = j**2 * (1 / n1 + 1 / n2 + d**2 / (2 * total))
        else:
            centre = yi if vtype == "LS" else np.sum(total * yi) / np.sum(total)
            vi = 1 / n1 + 1 / n2 + centre**2 / (2 * total)
        return _finite(measure, yi, vi, labels)
    spread = s1**2 + s2**2  # SMDH standardises by sqrt(spread / 2)
    yi = j * (m1 - m2) / np.sqrt(spread / 2)
    if vtype == "LS":
        for name, n in (("n1i", n1), ("n2i", n2)):
            _check(n <= 1, labels, name, "SMDH with vtype 'LS' needs more than 1 per group")
        vi = j**2 * (yi**2 * (s1**4 / (n1 - 1) + s2**4 / (n2 - 1)) / (2 * spread**2)
                     + (s1**2 / (n1 - 1) + s2**2 / (n2 - 1)) / (spread / 2))
    else:
        vi = yi**2 * (s1**4 / n1 + s2**4 / n2) / (2 * spread**2) + 2 * (
            s1**2 / n1 + s2**2 / n2) / spread
    return _finite(measure, yi, vi, labels)


def _finite(measure: str, yi: Floats, vi: Floats,
            labels: tuple[str, ...]) -> tuple[Floats, Floats]:
    _check(~np.isfinite(yi), labels, "sd1i, sd2i",
           f"{measure} is undefined (standard deviations of 0?)")
    _check(~(np.isfinite(vi) & (vi > 0)), labels, "sd1i, sd2i",
           f"{measure} has no positive sampling variance (standard deviations of 0?)")
    return yi, vi


def _generic(data: dict[str, Floats], labels: tuple[str, ...]) -> tuple[Floats, Floats]:
    name = "sei" if "sei" in data else "vi"
    _check(data[name] <= 0, labels, name, "must be positive, got {value}", data[name])
    vi = data["sei"] ** 2 if name == "sei" else data["vi"].copy()
    return data["yi"].copy(), vi


def _dropped_message(measure: str, labels: tuple[str, ...], double_zero: Mask,
                     unestimable: Mask, to: str, add: float) -> str:
    def named(mask: Mask) -> str:
        return ", ".join(repr(label) for label, hit in zip(labels, mask, strict=True) if hit)

    count = int(double_zero.sum() + unestimable.sum())
    parts = []
    if double_zero.any():
        parts.append(f"{named(double_zero)} (no events, or only events, in both groups; "
                     "drop00=True)")
    if unestimable.any():
        parts.append(f"{named(unestimable)} (zero cells leave {measure} infinite, undefined or "
                     f"with variance 0 under to={to!r}, add={add:g})")
    noun = "study" if count == 1 else "studies"
    return f"escalc({measure}) dropped {count} of {len(labels)} {noun}: " + "; ".join(parts)
