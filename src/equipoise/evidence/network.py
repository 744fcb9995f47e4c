"""TreatmentNetwork: studies as sets of compared arms, with pairwise contrasts and variances.

Built from arm-level data (per arm: study, treatment, n and mean/sd or events), with netmeta
``pairwise()`` conventions, or from contrast-level data (study, treat1, treat2, TE, seTE). A
multi-arm study keeps every pairwise contrast of its arms; its within-study correlation is
handled by the synthesis step. Connectivity, designs and multi-arm consistency are checked here,
once, with errors that name the study.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equipoise.errors import ModelError

Matrix = NDArray[np.float64]
MEASURES = ("MD", "OR", "RR", "RD", "GEN")


@dataclass(frozen=True, eq=False)
class StudyContrasts:
    """One study: its arms in order, TE[i, j] = effect of arm i minus arm j, V[i, j] variances.

    Excluded comparisons (e.g. both arms without events) are NaN in both matrices.
    """

    study: str
    treatments: tuple[str, ...]
    te: Matrix
    var: Matrix
    n: tuple[float, ...] = ()

    @property
    def arms(self) -> int:
        return len(self.treatments)

    @property
    def design(self) -> tuple[str, ...]:
        return tuple(sorted(self.treatments))

    def pairs(self) -> list[tuple[int, int]]:
        """Index pairs (i < j) of the comparisons kept."""
        return [(i, j) for i, j in combinations(range(self.arms), 2)
                if np.isfinite(self.te[i, j])]


def _arm_effects(measure: str, n: NDArray[np.float64], mean: NDArray[np.float64] | None,
                 sd: NDArray[np.float64] | None, events: NDArray[np.float64] | None,
                 incr: float) -> tuple[Matrix, Matrix, bool]:
    """Pairwise TE and variance matrices for one study's arms (netmeta pairwise conventions)."""
    p = n.shape[0]
    te = np.full((p, p), np.nan)
    var = np.full((p, p), np.nan)
    if measure == "MD":
        assert mean is not None and sd is not None
        v = sd**2 / n
        for i, j in combinations(range(p), 2):
            te[i, j], te[j, i] = mean[i] - mean[j], mean[j] - mean[i]
            var[i, j] = var[j, i] = v[i] + v[j]
        return te, var, False
    assert events is not None
    e = events.astype(np.float64)
    non = n - e
    zero = bool(((e == 0) | (non == 0)).any())
    # A continuity correction goes to every arm of a study with a zero cell, so that all
    # contrasts of a multi-arm study stay consistent (netmeta applies it per study).
    add = incr if zero else 0.0
    ee, nn = e + add, n + 2 * add
    for i, j in combinations(range(p), 2):
        both_none = e[i] == 0 and e[j] == 0
        both_all = non[i] == 0 and non[j] == 0
        if both_none or both_all:
            continue
        if measure == "OR":
            li, lj = np.log(ee[i] / (nn[i] - ee[i])), np.log(ee[j] / (nn[j] - ee[j]))
            vi = 1 / ee[i] + 1 / (nn[i] - ee[i])
            vj = 1 / ee[j] + 1 / (nn[j] - ee[j])
        elif measure == "RR":
            li, lj = np.log(ee[i] / nn[i]), np.log(ee[j] / nn[j])
            vi, vj = 1 / ee[i] - 1 / nn[i], 1 / ee[j] - 1 / nn[j]
        else:  # RD (no correction needed, but netmeta keeps it on the corrected counts)
            pi_, pj = e[i] / n[i], e[j] / n[j]
            li, lj = pi_, pj
            vi, vj = pi_ * (1 - pi_) / n[i], pj * (1 - pj) / n[j]
        te[i, j], te[j, i] = li - lj, lj - li
        var[i, j] = var[j, i] = vi + vj
    return te, var, zero


@dataclass(frozen=True, eq=False)
class TreatmentNetwork:
    """Studies comparing treatments; the nodes, designs and connectivity of the network."""

    measure: str
    studies: tuple[StudyContrasts, ...]
    treatments: tuple[str, ...]
    excluded: tuple[tuple[str, str, str], ...] = ()

    def __post_init__(self) -> None:
        if len(self.treatments) < 2:
            raise ModelError("a network needs at least two treatments; got "
                             f"{', '.join(self.treatments) or 'none'}")
        components = self.components()
        if len(components) > 1:
            listed = "; ".join("{" + ", ".join(sorted(c)) + "}" for c in components)
            raise ModelError(f"the network is disconnected: {len(components)} components: "
                             f"{listed}")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_arms(cls, study: Sequence[str], treatment: Sequence[str], n: ArrayLike, *,
                  mean: ArrayLike | None = None, sd: ArrayLike | None = None,
                  events: ArrayLike | None = None, measure: str = "MD",
                  incr: float = 0.5) -> TreatmentNetwork:
        """Arm-level rows (long format). Arms with missing values are left out of their study."""
        measure = measure.upper()
        if measure not in ("MD", "OR", "RR", "RD"):
            raise ModelError(f"arm-level networks support MD, OR, RR and RD, not {measure!r}")
        nn = np.asarray(n, dtype=np.float64)
        mm = None if mean is None else np.asarray(mean, dtype=np.float64)
        ss = None if sd is None else np.asarray(sd, dtype=np.float64)
        ev = None if events is None else np.asarray(events, dtype=np.float64)
        needed = (mm, ss) if measure == "MD" else (ev,)
        if any(x is None for x in needed):
            raise ModelError(f"{measure} needs " + ("mean and sd" if measure == "MD" else "events")
                             + " for every arm")
        order: dict[str, list[int]] = {}
        for i, s in enumerate(study):
            order.setdefault(str(s), []).append(i)
        out: list[StudyContrasts] = []
        excluded: list[tuple[str, str, str]] = []
        for s, rows in order.items():
            keep = []
            missing = []
            for i in rows:
                values = [nn[i]] + [x[i] for x in needed if x is not None]
                if not all(np.isfinite(values)):
                    missing.append(i)
                    continue
                _check_arm(s, str(treatment[i]), nn[i], None if mm is None else mm[i],
                           None if ss is None else ss[i], None if ev is None else ev[i])
                keep.append(i)
            # Comparisons that involve an arm without data are excluded (netmeta pairwise()).
            for a, b in combinations(rows, 2):
                if a in missing or b in missing:
                    excluded.append((s, str(treatment[a]), str(treatment[b])))
            names = [str(treatment[i]) for i in keep]
            if len(set(names)) != len(names):
                raise ModelError(f"study {s!r}: treatment listed twice ({', '.join(names)})")
            if len(keep) < 2:
                continue
            idx = np.array(keep)
            te, var, _ = _arm_effects(measure, nn[idx], None if mm is None else mm[idx],
                                      None if ss is None else ss[idx],
                                      None if ev is None else ev[idx], incr)
            for i, j in combinations(range(len(keep)), 2):
                if not np.isfinite(te[i, j]):
                    excluded.append((s, names[i], names[j]))
            sc = StudyContrasts(s, tuple(names), te, var, tuple(float(x) for x in nn[idx]))
            if not sc.pairs():
                continue
            if len(sc.pairs()) < sc.arms * (sc.arms - 1) // 2:
                kept = sorted({t for i, j in sc.pairs() for t in (i, j)})
                if len(sc.pairs()) != len(kept) * (len(kept) - 1) // 2:
                    raise ModelError(f"study {s!r}: some but not all comparisons of this "
                                     "multi-arm study are estimable; split or fix it")
                sc = _subset(sc, kept)
            out.append(sc)
        return cls._build(measure, out, tuple(excluded))

    @classmethod
    def from_contrasts(cls, study: Sequence[str], treat1: Sequence[str], treat2: Sequence[str],
                       te: ArrayLike, se: ArrayLike, *, measure: str = "GEN",
                       tolerance: float = 1e-6) -> TreatmentNetwork:
        """Contrast-level rows: TE = effect of treat1 minus treat2 with standard error se.

        A multi-arm study must give every pairwise contrast of its arms, and they must agree
        (TE_ab + TE_bc = TE_ac); otherwise the study is named in the error.
        """
        tt = np.asarray(te, dtype=np.float64)
        ss = np.asarray(se, dtype=np.float64)
        groups: dict[str, list[int]] = {}
        for i, s in enumerate(study):
            groups.setdefault(str(s), []).append(i)
        out: list[StudyContrasts] = []
        for s, rows in groups.items():
            names: list[str] = []
            for i in rows:
                if not (np.isfinite(tt[i]) and np.isfinite(ss[i]) and ss[i] > 0):
                    raise ModelError(f"study {s!r}: {treat1[i]} vs {treat2[i]}: TE must be "
                                     f"finite and seTE positive (got {tt[i]!r}, {ss[i]!r})")
                for t in (str(treat1[i]), str(treat2[i])):
                    if t not in names:
                        names.append(t)
            p = len(names)
            mat = np.full((p, p), np.nan)
            var = np.full((p, p), np.nan)
            for i in rows:
                a, b = names.index(str(treat1[i])), names.index(str(treat2[i]))
                if a == b:
                    raise ModelError(f"study {s!r}: compares {treat1[i]} with itself")
                if np.isfinite(mat[a, b]):
                    raise ModelError(f"study {s!r}: {treat1[i]} vs {treat2[i]} given twice")
                mat[a, b], mat[b, a] = tt[i], -tt[i]
                var[a, b] = var[b, a] = ss[i] ** 2
            missing = [(names[a], names[b]) for a, b in combinations(range(p), 2)
                       if not np.isfinite(mat[a, b])]
            if missing:
                raise ModelError(f"study {s!r} is multi-arm ({', '.join(names)}) but lacks the "
                                 f"contrasts {', '.join(f'{a} vs {b}' for a, b in missing)}")
            for a, b, c in combinations(range(p), 3):
                gap = mat[a, b] + mat[b, c] - mat[a, c]
                if abs(gap) > tolerance * max(1.0, abs(mat[a, c])):
                    raise ModelError(
                        f"study {s!r}: inconsistent multi-arm contrasts: {names[a]}-{names[b]} "
                        f"+ {names[b]}-{names[c]} = {mat[a, b] + mat[b, c]:.6g} but "
                        f"{names[a]}-{names[c]} = {mat[a, c]:.6g}")
            out.append(StudyContrasts(s, tuple(names), mat, var))
        return cls._build(measure.upper(), out, ())

    @classmethod
    def _build(cls, measure: str, studies: list[StudyContrasts],
               excluded: tuple[tuple[str, str, str], ...]) -> TreatmentNetwork:
        names: list[str] = []
        for sc in studies:
            for t in sc.treatments:
                if t not in names:
                    names.append(t)
        return cls(measure, tuple(studies), tuple(sorted(names)), excluded)

    # -- structure ----------------------------------------------------------------------------
    def components(self) -> list[set[str]]:
        """Connected components of the treatment graph."""
        return connected_components(self.treatments, (
            (sc.treatments[i], sc.treatments[j]) for sc in self.studies for i, j in sc.pairs()))

    @property
    def designs(self) -> tuple[tuple[str, ...], ...]:
        return tuple(dict.fromkeys(sc.design for sc in self.studies))

    @property
    def n_pairwise(self) -> int:
        return sum(len(sc.pairs()) for sc in self.studies)

    @property
    def n_observations(self) -> float:
        return float(sum(sum(sc.n) for sc in self.studies))

    def direct_studies(self, a: str, b: str) -> list[StudyContrasts]:
        """Studies that compare ``a`` and ``b`` directly."""
        return [sc for sc in self.studies if a in sc.treatments and b in sc.treatments
                and np.isfinite(sc.te[sc.treatments.index(a), sc.treatments.index(b)])]


def connected_components(nodes: Iterable[str],
                         edges: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Connected components of a graph (union-find), sorted for stable messages."""
    parent = {t: t for t in nodes}

    def find(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for t in parent:
        groups.setdefault(find(t), set()).add(t)
    return sorted(groups.values(), key=lambda g: sorted(g))


def _subset(sc: StudyContrasts, keep: list[int]) -> StudyContrasts:
    idx = np.array(keep)
    return StudyContrasts(sc.study, tuple(sc.treatments[i] for i in keep),
                          sc.te[np.ix_(idx, idx)], sc.var[np.ix_(idx, idx)],
                          tuple(sc.n[i] for i in keep) if sc.n else ())


def _check_arm(study: str, treatment: str, n: float, mean: float | None, sd: float | None,
               events: float | None) -> None:
    where = f"study {study!r}, arm {treatment!r}"
    if n <= 0:
        raise ModelError(f"{where}: n must be positive (got {n:g})")
    if sd is not None and sd < 0:
        raise ModelError(f"{where}: sd must not be negative (got {sd:g})")
    if events is not None and not 0 <= events <= n:
        raise ModelError(f"{where}: events must lie between 0 and n={n:g} (got {events:g})")
