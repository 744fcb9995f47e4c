"""Mantel-Haenszel network meta-analysis of rare binary events, as netmeta's ``netmetabin``.

:class:`MantelHaenszelNetwork` takes arm-level counts (one row per arm: study, treatment, events,
n) and returns an immutable :class:`MHNetworkEstimate`: log odds ratios against the reference,
the full league, the between-design inconsistency Q, the direct (pairwise MH) estimates and the
SIDDE split of direct and indirect evidence.

Conventions taken from netmeta (R/netmetabin.R, R/netsplit.R, ``method = "MH"``,
``cc.pooled = FALSE``):

- A study's design is the set of its arms as given, fixed before any exclusion.
- Studies without any event, or with events only, are left out. Then, per design, an arm whose
  treatment has no events (or only events) summed over the design's studies is dropped from
  every study of that design; a design left with one treatment is left out.
- Within a design, each study is a stratum of size N (its remaining arms). The MH log OR of
  every pair of arms, its Robins-Breslow-Greenland variance and the covariances of Efthimiou
  et al. give, for each design of T arms, T - 1 log ORs of its first (alphabetical) arm against
  the others (the row means of the MH log-OR matrix) with their full covariance.
- These design-level estimates are pooled by generalised least squares; Q is the weighted
  residual sum of squares on ``sum(T - 1) - (n - 1)`` df (inconsistency between designs).
- Direct estimates pool every study contrast of a pair by pairwise Mantel-Haenszel (no
  continuity correction). SIDDE: the indirect estimate of a pair comes from refitting the
  network without the studies that compare it, with every exclusion rule applied afresh; it is
  missing when that network is disconnected or lacks one of the two treatments.

References
----------
Efthimiou O, Rücker G, Schwarzer G, Higgins JPT, Egger M, Salanti G. Network meta-analysis of
rare events using the Mantel-Haenszel method. Stat Med 2019;38:2992-3012. doi:10.1002/sim.8158
Robins J, Breslow N, Greenland S. Estimators of the Mantel-Haenszel variance consistent in
both sparse data and large-strata limiting models. Biometrics 1986;42:311-323.
Dias S, Welton NJ, Caldwell DM, Ades AE. Checking consistency in mixed treatment comparison
meta-analysis. Stat Med 2010;29:932-944.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats
from scipy.linalg import block_diag

from equipoise.errors import DroppedStudyWarning, EquipoiseWarning, ModelError
from equipoise.evidence.network import connected_components
from equipoise.synthesis.batch import Float
from equipoise.synthesis.mantel_haenszel import MantelHaenszel, TwoByTwo


@dataclass(frozen=True)
class Estimate:
    """A log odds ratio with its SE, confidence interval, z and two-sided p."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    zval: float
    pval: float

    @classmethod
    def wald(cls, estimate: float, se: float, level: float) -> Estimate:
        crit = float(special.ndtri(1 - (1 - level) / 2))
        z = estimate / se if se > 0 else float("nan")
        return cls(float(estimate), float(se), float(estimate - crit * se),
                   float(estimate + crit * se), float(z), float(2 * special.ndtr(-abs(z))))

    def flipped(self) -> Estimate:
        """The same comparison the other way round (b vs a)."""
        return Estimate(-self.estimate, self.se, -self.ci_high, -self.ci_low, -self.zval,
                        self.pval)

    def exp(self) -> dict[str, float]:
        """Odds ratio and its confidence limits."""
        return {"OR": float(np.exp(self.estimate)), "ci_lb": float(np.exp(self.ci_low)),
                "ci_ub": float(np.exp(self.ci_high))}


@dataclass(frozen=True)
class Split:
    """Direct and SIDDE indirect evidence on ``a`` vs ``b`` and their difference (log RoR)."""

    comparison: tuple[str, str]
    k: int
    direct: Estimate
    indirect: Estimate | None
    difference: Estimate | None

    def flipped(self) -> Split:
        a, b = self.comparison
        return Split((b, a), self.k, self.direct.flipped(),
                     None if self.indirect is None else self.indirect.flipped(),
                     None if self.difference is None else self.difference.flipped())


@dataclass(frozen=True)
class Exclusions:
    """What netmetabin's exclusion rules left out (each list sorted)."""

    studies_without_events: tuple[str, ...] = ()
    studies_all_events: tuple[str, ...] = ()
    arms_without_events: tuple[tuple[str, str], ...] = ()   # (treatment, design)
    arms_all_events: tuple[tuple[str, str], ...] = ()
    single_arm_designs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.studies_without_events, self.studies_all_events,
                    self.arms_without_events, self.arms_all_events, self.single_arm_designs))

    def describe(self) -> str:
        parts = [f"{what}: {', '.join(repr(s) for s in studies)}" for what, studies in (
            ("studies without events", self.studies_without_events),
            ("studies with only events", self.studies_all_events)) if studies]
        parts += [f"{what}: " + ", ".join(f"{t} in design {d}" for t, d in arms)
                  for what, arms in (("arms without events", self.arms_without_events),
                                     ("arms with only events", self.arms_all_events)) if arms]
        if self.single_arm_designs:
            parts.append("designs left with a single arm: " + ", ".join(self.single_arm_designs))
        return "; ".join(parts)


@dataclass(frozen=True)
class Direct:
    """Pairwise Mantel-Haenszel estimate of ``a`` vs ``b`` over its ``k`` studies (None if
    the MH OR is not estimable)."""

    comparison: tuple[str, str]
    k: int
    estimate: Estimate | None


@dataclass(frozen=True)
class _Arms:
    """Arm-level rows (validated); ``design`` labels each arm's study design."""

    study: tuple[str, ...]
    treatment: tuple[str, ...]
    events: tuple[float, ...]
    n: tuple[float, ...]
    design: tuple[str, ...] = ()

    def take(self, keep: Sequence[bool]) -> _Arms:
        def pick(xs: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(x for x, k in zip(xs, keep, strict=True) if k)
        return _Arms(pick(self.study), pick(self.treatment), pick(self.events), pick(self.n),
                     pick(self.design) if self.design else ())

    def studies(self) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = {}
        for i, s in enumerate(self.study):
            rows.setdefault(s, []).append(i)
        return rows


@dataclass(frozen=True, eq=False)
class MHNetworkEstimate:
    """A fitted Mantel-Haenszel network (common effect; log OR scale).

    ``d[i]`` is the log OR of ``treatments[i]`` against ``reference`` and ``cov`` their
    covariance; ``q`` is the inconsistency between designs on ``q_df`` df. ``direct`` and
    ``splits`` hold one entry per directly compared pair ``(a, b)`` with ``a < b``.
    """

    reference: str
    treatments: tuple[str, ...]
    level: float
    d: Float
    cov: Float
    q: float
    q_df: int
    k_studies: int
    m_pairwise: int
    n_designs: int
    n_observations: float
    designs: tuple[str, ...]
    excluded: Exclusions
    direct: tuple[Direct, ...] = field(repr=False)
    splits: tuple[Split, ...] = field(repr=False, default=())

    @property
    def q_pval(self) -> float:
        return float(stats.chi2.sf(self.q, self.q_df)) if self.q_df > 0 else float("nan")

    def _i(self, t: str) -> int:
        if t not in self.treatments:
            raise ModelError(f"unknown treatment {t!r}; the network has "
                             f"{', '.join(self.treatments)}")
        return self.treatments.index(t)

    def contrast(self, a: str, b: str) -> Estimate:
        """Network estimate of ``a`` vs ``b`` (log OR)."""
        i, j = self._i(a), self._i(b)
        var = self.cov[i, i] + self.cov[j, j] - 2 * self.cov[i, j]
        return Estimate.wald(float(self.d[i] - self.d[j]), float(np.sqrt(max(var, 0.0))),
                             self.level)

    def direct_estimate(self, a: str, b: str) -> Estimate | None:
        """Pairwise MH estimate of ``a`` vs ``b`` from the studies comparing them, if any."""
        for t in (a, b):
            self._i(t)
        for d in self.direct:
            if d.estimate is not None and d.comparison in ((a, b), (b, a)):
                return d.estimate if d.comparison[0] == a else d.estimate.flipped()
        return None

    def split(self, a: str, b: str) -> Split | None:
        """Direct vs SIDDE indirect evidence on ``a`` vs ``b`` (None without direct evidence)."""
        for s in self.splits:
            if s.comparison == (a, b):
                return s
            if s.comparison == (b, a):
                return s.flipped()
        return None

    def league(self) -> dict[tuple[str, str], tuple[Estimate, Estimate | None]]:
        """Network and direct estimate of every ordered pair ``(a, b)``, a vs b."""
        return {(a, b): (self.contrast(a, b), self.direct_estimate(a, b))
                for a in self.treatments for b in self.treatments if a != b}

    def to_dict(self) -> dict[str, Any]:
        return {"method": "MH", "measure": "OR", "reference": self.reference,
                "level": self.level,
                "treatments": {t: vars(self.contrast(t, self.reference)) for t in self.treatments
                               if t != self.reference},
                "q": self.q, "q_df": self.q_df, "q_pval": self.q_pval,
                "counts": {"k_studies": self.k_studies, "m_pairwise": self.m_pairwise,
                           "n_treatments": len(self.treatments), "n_designs": self.n_designs,
                           "n_observations": self.n_observations},
                "excluded": vars(self.excluded)}


class MantelHaenszelNetwork:
    """Mantel-Haenszel network meta-analysis of odds ratios (netmetabin, ``method="MH"``).

    Parameters
    ----------
    reference
        Treatment every other is compared with (default: the first in sorted order).
    level
        Confidence level, e.g. 0.95.

    Notes
    -----
    Common effect only (the method has no random-effects version). No continuity correction:
    zero-event studies and arms are excluded by netmetabin's rules (module docstring); a
    :class:`~equipoise.errors.DroppedStudyWarning` names them.

    References
    ----------
    Efthimiou O, Rücker G, Schwarzer G, Higgins JPT, Egger M, Salanti G. Network meta-analysis
    of rare events using the Mantel-Haenszel method. Stat Med 2019;38:2992-3012.
    """

    def __init__(self, *, reference: str | None = None, level: float = 0.95) -> None:
        if not 0 < level < 1:
            raise ModelError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}")
        self.reference, self.level = reference, float(level)

    def fit(self, study: Sequence[Any], treatment: Sequence[Any], events: ArrayLike,
            n: ArrayLike) -> MHNetworkEstimate:
        """Fit arm-level counts, one row per arm.

        Parameters
        ----------
        study, treatment
            Labels of each arm's study and treatment; a study's rows are its arms.
        events, n
            Number of events and of participants in each arm.

        Returns
        -------
        MHNetworkEstimate
            Network estimates, direct estimates and SIDDE splits; exclusions are recorded.

        Raises
        ------
        ModelError
            Bad counts, a single-arm study or a repeated arm (the message names the study), an
            unknown reference, or a network that is empty or disconnected after exclusions.
        """
        arms = _validate(study, treatment, events, n)
        fit, kept = _fit(arms, self.reference, self.level)
        if fit.excluded:
            warnings.warn(f"Mantel-Haenszel network: left out {fit.excluded.describe()}",
                          DroppedStudyWarning, stacklevel=2)
        return replace(fit, splits=_sidde(fit, kept))


def _validate(study: Sequence[Any], treatment: Sequence[Any], events: ArrayLike,
              n: ArrayLike) -> _Arms:
    ev, nn = np.asarray(events, dtype=np.float64), np.asarray(n, dtype=np.float64)
    sizes = {len(study), len(treatment), ev.shape[0] if ev.ndim else -1,
             nn.shape[0] if nn.ndim else -1}
    if len(sizes) != 1 or ev.ndim != 1 or nn.ndim != 1:
        raise ModelError("study, treatment, events and n must be 1-D and of equal length")
    arms = _Arms(tuple(str(s) for s in study), tuple(str(t) for t in treatment),
                 tuple(float(x) for x in ev), tuple(float(x) for x in nn))
    for s, rows in arms.studies().items():
        names = [arms.treatment[i] for i in rows]
        if len(rows) < 2:
            raise ModelError(f"study {s!r} has a single arm ({names[0]}); it compares nothing")
        if len(set(names)) != len(names):
            raise ModelError(f"study {s!r}: treatment listed twice ({', '.join(names)})")
        for i in rows:
            e, m = arms.events[i], arms.n[i]
            where = f"study {s!r}, arm {arms.treatment[i]!r}"
            if not (np.isfinite(m) and m > 0):
                raise ModelError(f"{where}: n must be a positive number (got {m:g})")
            if not 0 <= e <= m:
                raise ModelError(f"{where}: events must lie between 0 and n={m:g} (got {e:g})")
    return arms


def _exclude(arms: _Arms) -> tuple[_Arms, Exclusions]:
    """netmetabin's Stage I: drop event-free studies, event-free arms per design, lone arms."""
    by_study = arms.studies()
    label = {s: ":".join(sorted(arms.treatment[i] for i in rows)) for s, rows in by_study.items()}
    arms = replace(arms, design=tuple(label[s] for s in arms.study))
    ev = np.array(arms.events)
    non = np.array(arms.n) - ev
    none = sorted(s for s, rows in by_study.items() if ev[rows].sum() == 0)
    only = sorted(s for s, rows in by_study.items()
                  if non[rows].sum() == 0 and ev[rows].sum() > 0)
    arms = arms.take([s not in none and s not in only for s in arms.study])
    totals: dict[tuple[str, str], list[float]] = {}
    for d, t, e, m in zip(arms.design, arms.treatment, arms.events, arms.n, strict=True):
        acc = totals.setdefault((d, t), [0.0, 0.0])
        acc[0] += e
        acc[1] += m - e
    zero = sorted(key for key, (e, _) in totals.items() if e == 0)
    full = sorted(key for key, (_, f) in totals.items() if f == 0)
    arms = arms.take([(d, t) not in zero and (d, t) not in full
                      for d, t in zip(arms.design, arms.treatment, strict=True)])
    per_design: dict[str, set[str]] = {}
    for d, t in zip(arms.design, arms.treatment, strict=True):
        per_design.setdefault(d, set()).add(t)
    single = sorted(d for d, ts in per_design.items() if len(ts) == 1)
    arms = arms.take([d not in single for d in arms.design])
    return arms, Exclusions(tuple(none), tuple(only), tuple((t, d) for d, t in zero),
                            tuple((t, d) for d, t in full), tuple(single))


def _design_mh(e: Float, f: Float, n: Float, names: Sequence[str],
               label: str) -> tuple[Float, Float]:
    """A design's K x T counts -> log ORs of its first arm vs the others, and their covariance.

    ``c[s, x, y] = e_x f_y / N_s`` gives the MH log OR ``L[x, y] = log(C_xy / C_yx)``; its
    Robins-Breslow-Greenland variance and the covariance of ``L[x, y]`` and ``L[x, z]``
    (Efthimiou et al. 2019, appendix) give the covariance of the row sums of ``L``.
    """
    T = e.shape[1]
    inv_n = 1.0 / n.sum(axis=1)
    c = e[:, :, None] * f[:, None, :] * inv_n[:, None, None]
    dd = (e[:, :, None] + f[:, None, :]) * inv_n[:, None, None]
    C = c.sum(axis=0)
    off = ~np.eye(T, dtype=bool)
    if (C[off] <= 0).any():
        x, y = np.argwhere(off & (C <= 0))[0]
        raise ModelError(f"design {label}: the Mantel-Haenszel OR of {names[x]} vs {names[y]} "
                         "cannot be estimated (no study has events on one arm and non-events "
                         "on the other)")
    Cs = np.where(off, C, 1.0)
    Ct, cT, ddT = Cs.T, c.transpose(0, 2, 1), dd.transpose(0, 2, 1)
    L = np.where(off, np.log(Cs / Ct), 0.0)
    u_xyy = ((c * dd).sum(axis=0) / (2 * Cs**2) + (c * ddT + cT * dd).sum(axis=0) / (2 * Cs * Ct)
             + (cT * ddT).sum(axis=0) / (2 * Ct**2))
    u_xyy = np.where(off, u_xyy, 0.0)
    w = inv_n[:, None] ** 2

    def triple(a: Float, b: Float, g: Float) -> Float:
        return np.asarray(np.einsum("sx,sy,sz->xyz", a * w, b, g), dtype=np.float64)

    distinct = off[:, :, None] & off[:, None, :] & off[None, :, :]
    u_xyz = (triple(e, f, f) / (3 * Cs[:, :, None] * Cs[:, None, :])
             + triple(n, f, e) / (3 * Cs[:, :, None] * Ct[:, None, :])
             + triple(n, e, f) / (3 * Ct[:, :, None] * Cs[:, None, :])
             + triple(f, e, e) / (3 * Ct[:, :, None] * Ct[:, None, :]))
    u_xyz = np.where(distinct, u_xyz, 0.0)
    u_new = u_xyz.copy()
    u_new[:, np.arange(T), np.arange(T)] += u_xyy
    sigma = (u_new.sum(axis=0) - u_new.sum(axis=2) - u_new.sum(axis=2).T
             + u_new[:, np.arange(T), np.arange(T)])
    sigma[np.diag_indices(T)] = u_xyy.sum(axis=1) + u_xyz.sum(axis=(1, 2))
    A = np.zeros((T - 1, T))
    A[:, 0] = 1.0
    A[np.arange(T - 1), np.arange(1, T)] = -1.0
    return A @ L.sum(axis=1) / T, A @ sigma @ A.T / T**2


def _connected(arms: _Arms) -> bool:
    edges = ((arms.treatment[rows[0]], arms.treatment[i])
             for rows in arms.studies().values() for i in rows[1:])
    return len(connected_components(arms.treatment, edges)) == 1


def _fit(arms: _Arms, reference: str | None, level: float,
         direct: bool = True) -> tuple[MHNetworkEstimate, _Arms]:
    """Exclusions, design-level MH, GLS across designs; also returns the arms analysed."""
    kept, excluded = _exclude(arms)
    if not kept.study:
        raise ModelError("no study is left for the Mantel-Haenszel network; left out "
                         + excluded.describe())
    treatments = tuple(sorted(set(kept.treatment)))
    ref = reference if reference is not None else treatments[0]
    if ref not in treatments:
        raise ModelError(f"reference {ref!r} is not in the network ({', '.join(treatments)})")
    if not _connected(kept):
        raise ModelError("the network is disconnected after excluding studies and arms "
                         "without events")
    by_study = kept.studies()
    designs: dict[str, list[str]] = {}
    for s, rows in by_study.items():
        designs.setdefault(kept.design[rows[0]], []).append(s)
    ys, Vs, pairs = [], [], []
    for label in sorted(designs):
        trts = sorted({kept.treatment[i] for s in designs[label] for i in by_study[s]})
        cells = np.zeros((2, len(designs[label]), len(trts)))   # events, n: study x arm
        for k, s in enumerate(designs[label]):
            for i in by_study[s]:
                cells[:, k, trts.index(kept.treatment[i])] = kept.events[i], kept.n[i]
        y, V = _design_mh(cells[0], cells[1] - cells[0], cells[1], trts, label)
        ys.append(y)
        Vs.append(V)
        pairs += [(trts[0], t) for t in trts[1:]]
    d, cov, q = _gls(np.concatenate(ys), Vs, pairs, treatments, ref)
    m = sum(len(rows) * (len(rows) - 1) // 2 for rows in by_study.values())
    fit = MHNetworkEstimate(
        reference=ref, treatments=treatments, level=level, d=d, cov=cov,
        q=q, q_df=len(pairs) - (len(treatments) - 1),
        k_studies=len(by_study), m_pairwise=m, n_designs=len(designs),
        n_observations=float(sum(kept.n)), designs=tuple(sorted(designs)), excluded=excluded,
        direct=_direct(kept, treatments, level) if direct else ())
    return fit, kept


def _gls(y: Float, Vs: list[Float], pairs: list[tuple[str, str]], treatments: tuple[str, ...],
         reference: str) -> tuple[Float, Float, float]:
    """Pool design estimates ``y`` (first arm minus other, block covariances ``Vs``) by GLS:
    read-only log ORs vs the reference and their covariance, and the residual Q."""
    idx = {t: i for i, t in enumerate(treatments)}
    X = np.zeros((len(pairs), len(treatments)))
    for row, (first, other) in enumerate(pairs):
        X[row, idx[first]], X[row, idx[other]] = 1.0, -1.0
    keep = [i for i in range(len(treatments)) if i != idx[reference]]
    Xr, W = X[:, keep], block_diag(*(np.linalg.inv(V) for V in Vs))
    cov_b = np.linalg.inv(Xr.T @ W @ Xr)
    b = cov_b @ Xr.T @ W @ y
    resid = y - Xr @ b
    d = np.zeros(len(treatments))
    d[keep] = b
    cov = np.zeros((len(treatments),) * 2)
    cov[np.ix_(keep, keep)] = cov_b
    d.setflags(write=False)
    cov.setflags(write=False)
    return d, cov, max(float(resid @ W @ resid), 0.0)


def _direct(kept: _Arms, treatments: tuple[str, ...],
            level: float) -> tuple[Direct, ...]:
    """Pairwise MH OR of every directly compared pair over all its study contrasts."""
    tables: dict[tuple[str, str], list[tuple[str, float, float, float, float]]] = {}
    for s, rows in kept.studies().items():
        arm = {kept.treatment[i]: (kept.events[i], kept.n[i]) for i in rows}
        for a, b in combinations(sorted(arm), 2):
            tables.setdefault((a, b), []).append((s, *arm[a], *arm[b]))
    pairs = [p for p in combinations(treatments, 2) if p in tables]
    batch = []
    for pair in pairs:
        labels, ea, na, eb, nb = zip(*tables[pair], strict=True)
        batch.append(TwoByTwo.from_counts(ea, None, eb, None, n1i=na, n2i=nb, study=labels))
    with warnings.catch_warnings():
        # Double-zero tables add nothing to the MH OR (netmeta's metabin drops them).
        warnings.simplefilter("ignore", EquipoiseWarning)
        pooled = MantelHaenszel("OR", level=level).fit(TwoByTwo.stack(batch))
    return tuple(
        Direct(pair, int(k), Estimate.wald(float(est), float(se), level)
               if np.isfinite(est) else None)
        for pair, k, est, se in zip(pairs, pooled.k, pooled.estimate, pooled.se, strict=True))


def _sidde(fit: MHNetworkEstimate, kept: _Arms) -> tuple[Split, ...]:
    """Separate indirect from direct design evidence: refit without the pair's studies."""
    out = []
    by_study = kept.studies()
    for entry in fit.direct:
        (a, b), direct = entry.comparison, entry.estimate
        if direct is None:
            continue
        drop = {s for s, rows in by_study.items()
                if {a, b} <= {kept.treatment[i] for i in rows}}
        rest = kept.take([s not in drop for s in kept.study])
        indirect = None
        if rest.study and _connected(rest):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DroppedStudyWarning)
                    sub, _ = _fit(rest, None, fit.level, direct=False)
                if a in sub.treatments and b in sub.treatments:
                    indirect = sub.contrast(a, b)
            except ModelError:  # nothing estimable left: no indirect evidence
                indirect = None
        diff = None if indirect is None else Estimate.wald(
            direct.estimate - indirect.estimate, float(np.hypot(direct.se, indirect.se)),
            fit.level)
        out.append(Split((a, b), entry.k, direct, indirect, diff))
    return tuple(out)
