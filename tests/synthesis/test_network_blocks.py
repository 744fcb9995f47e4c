"""The block-diagonal network fit (synthesis/network_blocks.py) against a slow dense oracle.

The oracle is the dense M x M implementation the block algebra replaced: V = S + tau² P is
formed and inverted whole, R = W - WX(X'WX)^-1X'W is built, and every trace is taken from it.
Random connected networks mix two-, three- and four-arm studies, arm-level (additive variances)
and contrast-level data (non-additive variances), with and without heterogeneity.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.evidence.network import StudyContrasts, TreatmentNetwork
from equipoise.synthesis.inconsistency import decompose
from equipoise.synthesis.network_blocks import blocks, design_fits, gls, reml_score
from equipoise.synthesis.network_meta import NetworkMetaAnalysis, study_covariance

Float = np.ndarray
SETTINGS = settings(max_examples=40, deadline=None, database=None)

# -- the dense oracle ---------------------------------------------------------------------------


def dense_blocks(studies: tuple[StudyContrasts, ...],
                 names: tuple[str, ...]) -> tuple[Float, Float, Float, Float]:
    """y, S, P (M x M) and X (M x T) in study order."""
    index = {t: i for i, t in enumerate(names)}
    ys, Ss, Ps, rows = [], [], [], []
    for sc in studies:
        ys.append(sc.te[1:, 0])
        Ss.append(study_covariance(sc))
        Ps.append(0.5 * (np.eye(sc.arms - 1) + 1.0))
        for j in range(1, sc.arms):
            row = np.zeros(len(names))
            row[index[sc.treatments[j]]] += 1.0
            row[index[sc.treatments[0]]] -= 1.0
            rows.append(row)
    m = sum(len(y) for y in ys)
    S, P = np.zeros((m, m)), np.zeros((m, m))
    at = 0
    for Sb, Pb in zip(Ss, Ps, strict=True):
        k = Sb.shape[0]
        S[at:at + k, at:at + k] = Sb
        P[at:at + k, at:at + k] = Pb
        at += k
    return np.concatenate(ys), S, P, np.array(rows)


def dense_gls(y: Float, S: Float, P: Float, X: Float, tau2: float,
              ref: int) -> tuple[Float, Float, float, Float]:
    """d (reference 0), cov, Q and R."""
    W = np.linalg.inv(S + tau2 * P)
    keep = [i for i in range(X.shape[1]) if i != ref]
    Xk = X[:, keep]
    A = np.linalg.inv(Xk.T @ W @ Xk)
    beta = A @ Xk.T @ W @ y
    r = y - Xk @ beta
    d = np.zeros(X.shape[1])
    cov = np.zeros((X.shape[1], X.shape[1]))
    d[keep] = beta
    cov[np.ix_(keep, keep)] = A
    return d, cov, float(r @ W @ r), W - W @ Xk @ A @ Xk.T @ W


def dense_score(y: Float, S: Float, P: Float, X: Float, tau2: float,
                ref: int) -> tuple[float, float]:
    d, _, _, R = dense_gls(y, S, P, X, tau2, ref)
    W = np.linalg.inv(S + tau2 * P)
    r = y - X @ d
    RP = R @ P
    return float(r @ W @ P @ W @ r) - float(np.trace(RP)), float(np.trace(RP @ RP))


def dense_fit(network: TreatmentNetwork, model: str, method: str,
              reference: str) -> dict[str, object]:
    """The dense NetworkMetaAnalysis.fit: common fit, DL start, REML by Fisher scoring."""
    y, S, P, X = dense_blocks(network.studies, network.treatments)
    ref = network.treatments.index(reference)
    df = y.shape[0] - (X.shape[1] - 1)
    _, _, q, R = dense_gls(y, S, P, X, 0.0, ref)
    trp = float(np.trace(R @ P))
    tau2 = 0.0
    if model == "random" and df > 0:
        tau2 = max(0.0, (q - df) / trp) if trp > 0 else 0.0
        if method == "REML":
            for _ in range(500):
                score, info = dense_score(y, S, P, X, tau2, ref)
                step = score / info
                while tau2 + step < 0:
                    step /= 2
                tau2 += step
                if abs(step) < 1e-10:
                    break
    d, cov, _, _ = dense_gls(y, S, P, X, tau2, ref)
    within = dense_designs(network, 0.0)
    return {"d": d, "cov": cov, "tau2": tau2, "q": q,
            "q_within": sum(v[0] for v in within.values()),
            "q_within_df": sum(v[1] for v in within.values())}


def dense_designs(network: TreatmentNetwork,
                  tau2: float) -> dict[tuple[str, ...], tuple[float, int, float]]:
    """Q, df, tr(RP) of each design with residual df > 0, fitted on its own."""
    out = {}
    for design in network.designs:
        studies = tuple(sc for sc in network.studies if sc.design == design)
        y, S, P, X = dense_blocks(studies, design)
        df = y.shape[0] - (len(design) - 1)
        if df > 0:
            _, _, q, R = dense_gls(y, S, P, X, tau2, 0)
            out[design] = (q, df, float(np.trace(R @ P)))
    return out


# -- random networks ----------------------------------------------------------------------------


def random_network(seed: int, studies: int, treatments: int, three: float, four: float,
                   tau2: float, contrasts: bool) -> TreatmentNetwork:
    """A connected network: a random spanning tree of two-arm studies, then random designs.

    ``contrasts``: contrast-level input whose multi-arm variances are not additive."""
    rng = np.random.default_rng(seed)
    names = [f"T{i:02d}" for i in range(treatments)]
    effect = np.concatenate([[0.0], rng.uniform(-1, 1, treatments - 1)])
    order = rng.permutation(treatments)
    designs = [[int(order[i]), int(order[rng.integers(0, i)])] for i in range(1, treatments)]
    for _ in range(max(studies - len(designs), 0)):
        u = rng.uniform()
        p = 4 if u < four else 3 if u < four + three else 2
        designs.append([int(t) for t in rng.choice(treatments, min(p, treatments),
                                                     replace=False)])
    designs = [designs[i] for i in rng.permutation(len(designs))]
    if not contrasts:
        rows: dict[str, list[object]] = {k: [] for k in ("study", "treatment", "n", "mean", "sd")}
        for s, arms in enumerate(designs):
            base = rng.normal()
            for t in arms:
                n, sd = int(rng.integers(10, 200)), rng.uniform(0.5, 2.0)
                rows["study"].append(f"S{s}")
                rows["treatment"].append(names[t])
                rows["n"].append(n)
                rows["mean"].append(base + effect[t] + rng.normal(0, np.sqrt(tau2 / 2))
                                    + rng.normal(0, sd / np.sqrt(n)))
                rows["sd"].append(sd)
        return TreatmentNetwork.from_arms(rows["study"], rows["treatment"], rows["n"],
                                          mean=rows["mean"], sd=rows["sd"], measure="MD")
    cols: dict[str, list[object]] = {k: [] for k in ("study", "t1", "t2", "te", "se")}
    for s, arms in enumerate(designs):
        mu = effect[arms] + rng.normal(0, np.sqrt(tau2 / 2), len(arms))
        v = rng.uniform(0.005, 0.1, len(arms))
        for i, j in combinations(range(len(arms)), 2):
            cols["study"].append(f"S{s}")
            cols["t1"].append(names[arms[i]])
            cols["t2"].append(names[arms[j]])
            cols["te"].append(mu[i] - mu[j])
            cols["se"].append(np.sqrt((v[i] + v[j]) * rng.uniform(0.8, 1.25)))
    return TreatmentNetwork.from_contrasts(cols["study"], cols["t1"], cols["t2"], cols["te"],
                                           cols["se"])


@st.composite
def networks(draw: st.DrawFn) -> TreatmentNetwork:
    treatments = draw(st.integers(2, 9))
    return random_network(draw(st.integers(0, 2**32 - 1)),
                          draw(st.integers(treatments - 1, 40)), treatments,
                          draw(st.sampled_from([0.0, 0.2, 0.5])),
                          draw(st.sampled_from([0.0, 0.1, 0.3])),
                          draw(st.sampled_from([0.0, 0.01, 0.1, 0.5])),
                          draw(st.booleans()))


def assert_same_fit(network: TreatmentNetwork, model: str, method: str, reference: str) -> None:
    fit = NetworkMetaAnalysis(model=model, tau2=method, reference=reference).fit(network)
    oracle = dense_fit(network, model, method, reference)
    np.testing.assert_allclose(fit.tau2, oracle["tau2"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.d, oracle["d"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fit.cov, oracle["cov"], rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(fit.q_total, oracle["q"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fit.q_within, oracle["q_within"], rtol=1e-10, atol=1e-10)
    assert fit.q_within_df == oracle["q_within_df"]


# -- tests --------------------------------------------------------------------------------------


@SETTINGS
@given(networks(), st.sampled_from([("random", "REML"), ("random", "DL"), ("common", "DL")]),
       st.integers(0, 100))
def test_the_block_fit_equals_the_dense_oracle_on_random_networks(
        network: TreatmentNetwork, model: tuple[str, str], pick: int) -> None:
    reference = network.treatments[pick % len(network.treatments)]
    assert_same_fit(network, *model, reference)


@pytest.mark.parametrize("contrasts", [False, True])
def test_a_large_network_with_multi_arm_studies_equals_the_dense_oracle(contrasts: bool) -> None:
    network = random_network(20240502, 240, 25, 0.15, 0.05, 0.04, contrasts)
    assert sum(sc.arms > 2 for sc in network.studies) > 20
    assert_same_fit(network, "random", "REML", network.treatments[3])


@SETTINGS
@given(networks(), st.floats(0.0, 1.0), st.integers(0, 100))
def test_the_reml_score_and_information_equal_the_dense_traces(
        network: TreatmentNetwork, tau2: float, pick: int) -> None:
    ref = pick % len(network.treatments)
    y, S, P, X = dense_blocks(network.studies, network.treatments)
    b = blocks(network.studies, network.treatments)
    np.testing.assert_allclose(reml_score(b, tau2, ref), dense_score(y, S, P, X, tau2, ref),
                               rtol=1e-9, atol=1e-9)
    _, _, q, R = dense_gls(y, S, P, X, tau2, ref)
    g = gls(b, tau2, ref)
    np.testing.assert_allclose([g.q, g.R_trace_P], [q, np.trace(R @ P)], rtol=1e-10, atol=1e-10)


@SETTINGS
@given(networks(), st.sampled_from([0.0, 0.05, 0.7]))
def test_every_design_fitted_on_its_own_equals_the_dense_design_fit(
        network: TreatmentNetwork, tau2: float) -> None:
    fits = design_fits(network, tau2)
    oracle = dense_designs(network, tau2)
    assert list(fits) == list(oracle)
    for design, (q, df, tr) in oracle.items():
        assert fits[design].df == df
        np.testing.assert_allclose([fits[design].q, fits[design].R_trace_P], [q, tr],
                                   rtol=1e-10, atol=1e-10)


@settings(max_examples=15, deadline=None, database=None)
@given(networks())
def test_the_design_decomposition_sums_the_dense_design_fits(network: TreatmentNetwork) -> None:
    dec = decompose(NetworkMetaAnalysis(model="common").fit(network))
    oracle = dense_designs(network, 0.0)
    assert dec.within.df == sum(v[1] for v in oracle.values())
    assert dec.within.q == pytest.approx(sum(v[0] for v in oracle.values()), rel=1e-10, abs=1e-10)
    assert list(dec.within_by_design) == list(oracle)
    for design, (q, df, _) in oracle.items():
        assert dec.within_by_design[design].df == df
        assert dec.within_by_design[design].q == pytest.approx(q, rel=1e-10, abs=1e-10)
    q_w, df_w, tr_w = (sum(v[i] for v in oracle.values()) for i in range(3))
    tau2_w = max(0.0, (q_w - df_w) / tr_w) if tr_w > 0 else 0.0
    assert dec.tau2_within == pytest.approx(tau2_w, rel=1e-10, abs=1e-12)


@SETTINGS
@given(networks())
def test_the_dense_view_holds_the_same_rows_as_the_study_by_study_stack(
        network: TreatmentNetwork) -> None:
    y, X, S, P, study_of = blocks(network.studies, network.treatments).dense()
    oy, oS, oP, oX = dense_blocks(network.studies, network.treatments)
    order = np.argsort(study_of, kind="stable")   # the stack groups studies by arm count
    np.testing.assert_array_equal(y[order], oy)
    np.testing.assert_array_equal(X[order], oX)
    np.testing.assert_array_equal(P[np.ix_(order, order)], oP)
    np.testing.assert_allclose(S[np.ix_(order, order)], oS, rtol=1e-14, atol=1e-17)
