"""Mantel-Haenszel network meta-analysis: agreement with pairwise MH and with a slow oracle,
invariances, netmetabin's exclusion rules, SIDDE, and bad input."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from equipoise.errors import DroppedStudyWarning, EquipoiseWarning, ModelError
from equipoise.synthesis.mantel_haenszel import MantelHaenszel, TwoByTwo
from equipoise.synthesis.network_mh import (
    MantelHaenszelNetwork,
    MHNetworkEstimate,
    _design_mh,
)

Row = tuple[str, str, int, int]   # study, treatment, events, n


def fit(rows: Sequence[Row], reference: str | None = None) -> MHNetworkEstimate:
    study, treatment, events, n = zip(*rows, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedStudyWarning)
        return MantelHaenszelNetwork(reference=reference).fit(study, treatment, events, n)


def arm(lo: int = 0) -> st.SearchStrategy[tuple[int, int]]:
    """(events, n) with ``lo <= events <= n - lo``."""
    return st.integers(2 * lo + 1, 60).flatmap(
        lambda n: st.tuples(st.integers(lo, n - lo), st.just(n)))


DESIGNS = ("AB", "AC", "BC", "ABC")


@st.composite
def triangle(draw: st.DrawFn) -> list[Row]:
    """A connected A-B-C network of two- and three-arm studies, no zero cells."""
    designs = ["AB", "AC", *draw(st.lists(st.sampled_from(DESIGNS), max_size=5))]
    rows = []
    for k, design in enumerate(designs):
        for t in design:
            e, n = draw(arm(lo=1))
            rows.append((f"s{k}", t, e, n))
    return rows


def same(x: MHNetworkEstimate, y: MHNetworkEstimate) -> None:
    assert x.treatments == y.treatments
    for a in x.treatments:
        for b in x.treatments:
            assert x.contrast(a, b).estimate == pytest.approx(y.contrast(a, b).estimate,
                                                              rel=1e-9, abs=1e-12)
            assert x.contrast(a, b).se == pytest.approx(y.contrast(a, b).se, rel=1e-9, abs=1e-12)
    assert x.q == pytest.approx(y.q, rel=1e-8, abs=1e-10)
    assert x.q_df == y.q_df
    assert len(x.splits) == len(y.splits)
    for s, t in zip(x.splits, y.splits, strict=True):
        assert s.comparison == t.comparison and s.k == t.k
        assert (s.indirect is None) == (t.indirect is None)
        if s.indirect is not None and t.indirect is not None:
            assert s.indirect.estimate == pytest.approx(t.indirect.estimate, rel=1e-9, abs=1e-12)


# ---- agreement -------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(arm(), arm()), min_size=1, max_size=8))
def test_a_two_treatment_network_is_pairwise_mantel_haenszel(
        tables: list[tuple[tuple[int, int], tuple[int, int]]]) -> None:
    (ea, na), (eb, nb) = (list(zip(*side, strict=True)) for side in zip(*tables, strict=True))
    R = sum(a * (m - b) / (n + m) for a, n, b, m in zip(ea, na, eb, nb, strict=True))
    S = sum((n - a) * b / (n + m) for a, n, b, m in zip(ea, na, eb, nb, strict=True))
    assume(R > 0 and S > 0)   # otherwise the MH OR does not exist
    rows = [r for k in range(len(tables))
            for r in ((f"s{k}", "A", ea[k], na[k]), (f"s{k}", "B", eb[k], nb[k]))]
    net = fit(rows, reference="B")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EquipoiseWarning)
        pooled = MantelHaenszel("OR").fit(TwoByTwo.from_counts(ea, None, eb, None, n1i=na,
                                                               n2i=nb))
    got = net.contrast("A", "B")
    assert got.estimate == pytest.approx(pooled.estimate[0], rel=1e-9, abs=1e-12)
    assert got.se == pytest.approx(pooled.se[0], rel=1e-9)
    assert got.pval == pytest.approx(pooled.pval[0], rel=1e-7, abs=1e-12)
    direct = net.direct_estimate("A", "B")
    assert direct is not None and direct.estimate == pytest.approx(got.estimate, rel=1e-9,
                                                                     abs=1e-12)
    assert net.q_df == 0 and net.q == pytest.approx(0.0, abs=1e-9)


def slow_design_mh(e: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Efthimiou et al.'s design-level formulas written out element by element."""
    K, T = e.shape
    n = e + f
    N = n.sum(axis=1)
    C = np.array([[sum(e[s, x] * f[s, y] / N[s] for s in range(K)) for y in range(T)]
                  for x in range(T)])
    L = np.array([[0.0 if x == y else math.log(C[x, y] / C[y, x]) for y in range(T)]
                  for x in range(T)])

    def var(x: int, y: int) -> float:   # Robins-Breslow-Greenland variance of L[x, y]
        out = 0.0
        for s in range(K):
            cxy, cyx = e[s, x] * f[s, y] / N[s], e[s, y] * f[s, x] / N[s]
            dxy, dyx = (e[s, x] + f[s, y]) / N[s], (e[s, y] + f[s, x]) / N[s]
            out += (cxy * dxy / (2 * C[x, y] ** 2) + (cxy * dyx + cyx * dxy)
                    / (2 * C[x, y] * C[y, x]) + cyx * dyx / (2 * C[y, x] ** 2))
        return out

    def cov(x: int, y: int, z: int) -> float:   # covariance of L[x, y] and L[x, z]
        out = 0.0
        for s in range(K):
            w = 1 / N[s] ** 2
            out += (e[s, x] * f[s, y] * f[s, z] * w / (3 * C[x, y] * C[x, z])
                    + n[s, x] * f[s, y] * e[s, z] * w / (3 * C[x, y] * C[z, x])
                    + n[s, x] * e[s, y] * f[s, z] * w / (3 * C[y, x] * C[x, z])
                    + f[s, x] * e[s, y] * e[s, z] * w / (3 * C[y, x] * C[z, x]))
        return out

    def cov_L(x: int, y: int, u: int, v: int) -> float:   # Cov(L[x, y], L[u, v]), x != y
        if u == v:
            return 0.0
        if (u, v) == (x, y):
            return var(x, y)
        if (u, v) == (y, x):
            return -var(x, y)
        sign = 1.0
        if v in (x, y):   # make the shared treatment come first in both
            u, v, sign = v, u, -sign
        if u == y:
            x, y, sign = y, x, -sign
        return sign * cov(x, y, v) if u == x else 0.0   # disjoint pairs: 0

    # S_x = sum_y L[x, y]; the design estimates are (S_0 - S_j) / T.
    Sigma = np.array([[sum(cov_L(x, a, y, b) for a in range(T) if a != x for b in range(T))
                       for y in range(T)] for x in range(T)])
    S = L.sum(axis=1)
    y_out = np.array([(S[0] - S[j]) / T for j in range(1, T)])
    V = np.array([[(Sigma[0, 0] - Sigma[0, k] - Sigma[j, 0] + Sigma[j, k]) / T**2
                   for k in range(1, T)] for j in range(1, T)])
    return y_out, V


@settings(max_examples=80, deadline=None)
@given(st.integers(2, 4).flatmap(lambda T: st.lists(
    st.lists(arm(lo=1), min_size=T, max_size=T), min_size=1, max_size=4)))
def test_the_vectorised_design_estimates_match_the_formulas_written_out(
        studies: list[list[tuple[int, int]]]) -> None:
    e = np.array([[a[0] for a in s] for s in studies], dtype=float)
    n = np.array([[a[1] for a in s] for s in studies], dtype=float)
    T = e.shape[1]
    y, V = _design_mh(e, n - e, n, [chr(65 + t) for t in range(T)], "design")
    y_slow, V_slow = slow_design_mh(e, n - e)
    np.testing.assert_allclose(y, y_slow, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(V, V_slow, rtol=1e-9, atol=1e-14)


# ---- invariances -----------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(triangle(), st.data())
def test_relabelling_and_reordering_studies_and_arms_changes_nothing(
        rows: list[Row], data: st.DataObject) -> None:
    studies = sorted({r[0] for r in rows})
    names = data.draw(st.permutations([f"trial {i}" for i in range(len(studies))]))
    rename = dict(zip(studies, names, strict=True))
    shuffled = data.draw(st.permutations(rows))
    same(fit(rows), fit([(rename[s], t, e, n) for s, t, e, n in shuffled]))


@settings(max_examples=40, deadline=None)
@given(triangle())
def test_swapping_the_reference_flips_the_signs(rows: list[Row]) -> None:
    a, b = fit(rows, reference="A"), fit(rows, reference="B")
    ab, ba = a.contrast("B", "A"), b.contrast("A", "B")
    assert ba.estimate == pytest.approx(-ab.estimate, rel=1e-9, abs=1e-12)
    assert ba.se == pytest.approx(ab.se, rel=1e-9)
    assert ba.zval == pytest.approx(-ab.zval, rel=1e-8, abs=1e-10)
    assert ba.pval == pytest.approx(ab.pval, rel=1e-8, abs=1e-12)
    assert (ba.ci_low, ba.ci_high) == pytest.approx((-ab.ci_high, -ab.ci_low), rel=1e-9,
                                                      abs=1e-12)
    assert a.q == pytest.approx(b.q, rel=1e-8, abs=1e-10)
    assert a.d[a.treatments.index("A")] == 0.0 and b.d[b.treatments.index("B")] == 0.0
    split, other = a.split("A", "B"), a.split("B", "A")
    assert split is not None and other is not None
    assert other.direct.estimate == -split.direct.estimate


# ---- netmetabin's exclusion rules --------------------------------------------------------------
ROWS: list[Row] = [
    ("s1", "A", 5, 50), ("s1", "B", 8, 50),
    ("s2", "A", 3, 40), ("s2", "B", 6, 40), ("s2", "C", 0, 40),   # C: no events in A:B:C
    ("s3", "A", 4, 30), ("s3", "C", 2, 30),
    ("s4", "B", 0, 20), ("s4", "C", 0, 20),                       # no events at all
    ("s5", "B", 2, 25), ("s5", "D", 0, 25),                       # B:D left with one arm
    ("s6", "A", 2, 30), ("s6", "C", 5, 30),
]


def test_studies_arms_and_designs_without_events_are_left_out_and_named() -> None:
    study, treatment, events, n = zip(*ROWS, strict=True)
    with pytest.warns(DroppedStudyWarning) as caught:
        net = MantelHaenszelNetwork(reference="A").fit(study, treatment, events, n)
    message = str(caught[0].message)
    for part in ("'s4'", "C in design A:B:C", "D in design B:D", "single arm: B:D"):
        assert part in message
    assert net.excluded.studies_without_events == ("s4",)
    assert net.excluded.arms_without_events == (("C", "A:B:C"), ("D", "B:D"))
    assert net.excluded.single_arm_designs == ("B:D",)
    assert net.treatments == ("A", "B", "C")
    assert (net.k_studies, net.m_pairwise, net.n_designs) == (4, 4, 3)
    assert net.designs == ("A:B", "A:B:C", "A:C")
    assert net.q_df == 1 and net.n_observations == 50 + 50 + 40 + 40 + 30 + 30 + 30 + 30


def test_a_study_without_events_changes_no_estimate() -> None:
    same(fit(ROWS), fit([r for r in ROWS if r[0] != "s4"]))


def test_sidde_refits_the_network_without_the_studies_of_the_split_comparison() -> None:
    rows: list[Row] = [("ab1", "A", 4, 40), ("ab1", "B", 9, 41), ("ab2", "A", 7, 60),
                       ("ab2", "B", 5, 55), ("ac", "A", 3, 30), ("ac", "C", 8, 33),
                       ("bc", "B", 6, 35), ("bc", "C", 4, 36), ("cd", "C", 5, 20),
                       ("cd", "D", 9, 22)]
    net = fit(rows)
    split = net.split("A", "B")
    rest = fit([r for r in rows if not r[0].startswith("ab")])
    assert split is not None and split.k == 2 and split.indirect is not None
    assert split.indirect.estimate == pytest.approx(rest.contrast("A", "B").estimate)
    assert split.difference is not None
    assert split.difference.estimate == pytest.approx(
        split.direct.estimate - split.indirect.estimate)
    assert split.difference.se == pytest.approx(math.hypot(split.direct.se, split.indirect.se))
    cd = net.split("C", "D")   # D hangs on C alone: no indirect evidence
    assert cd is not None and cd.indirect is None and cd.difference is None
    assert net.split("A", "D") is None and net.direct_estimate("A", "D") is None


# ---- bad input -------------------------------------------------------------------------------
def replaced(index: int, **change: Any) -> list[Row]:
    rows = list(ROWS)
    s, t, e, n = rows[index]
    rows[index] = (change.get("study", s), change.get("treatment", t), change.get("events", e),
                   change.get("n", n))
    return rows


@pytest.mark.parametrize(("rows", "match"), [
    (replaced(3, events=41), r"study 's2', arm 'B': events must lie between 0 and n=40"),
    (replaced(6, events=-1), r"study 's3', arm 'C': events must lie"),
    (replaced(0, n=0), r"study 's1', arm 'A': n must be a positive number"),
    (replaced(1, n=float("nan")), r"study 's1', arm 'B': n must be"),
    (replaced(1, treatment="A"), r"study 's1': treatment listed twice"),
    ([*ROWS, ("s7", "A", 1, 10)], r"study 's7' has a single arm"),
], ids=["events above n", "negative events", "empty arm", "missing n", "repeated arm",
        "single arm"])
def test_bad_counts_raise_an_error_that_names_the_study(rows: list[Row], match: str) -> None:
    with pytest.raises(ModelError, match=match):
        fit(rows)


def test_other_misuse_raises_model_errors() -> None:
    with pytest.raises(ModelError, match="reference 'Z' is not in the network"):
        fit(ROWS, reference="Z")
    with pytest.raises(ModelError, match="disconnected"):
        fit([("x", "A", 1, 9), ("x", "B", 2, 9), ("y", "C", 3, 9), ("y", "D", 4, 9)])
    with pytest.raises(ModelError, match="no study is left"):
        fit([("x", "A", 0, 9), ("x", "B", 0, 9)])
    with pytest.raises(ModelError, match=r"design A:B: .* A vs B cannot be estimated"):
        fit([("x", "A", 0, 10), ("x", "B", 5, 10), ("y", "A", 5, 10), ("y", "B", 10, 10)])
    with pytest.raises(ModelError, match="equal length"):
        MantelHaenszelNetwork().fit(["x", "x"], ["A", "B"], [1], [5, 5])
    with pytest.raises(ModelError, match="level"):
        MantelHaenszelNetwork(level=95)
    with pytest.raises(ModelError, match="unknown treatment 'Z'"):
        fit(ROWS).contrast("A", "Z")
