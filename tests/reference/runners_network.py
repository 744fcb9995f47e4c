"""Runners for the network reference cases (netmeta and metafor outputs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from equipoise.evidence.network import TreatmentNetwork
from equipoise.synthesis.inconsistency import (
    adjusted_se,
    decompose,
    design_inconsistency,
    direct_estimates,
    netsplit,
)
from equipoise.synthesis.network_meta import NetworkEstimate, NetworkMetaAnalysis
from tests.reference.cases import columns

RUNNERS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {}


def _long(case: str, arms: int, treat: str, fields: dict[str, str]) -> dict[str, list[Any]]:
    """Wide arm-based rows (t1, y1, sd1, n1, t2, ...) to long lists, skipping empty arms."""
    d = columns(case)
    out: dict[str, list[Any]] = {"study": [], "treatment": [], **{k: [] for k in fields}}
    study_col = "study" if "study" in d else ("Study" if "Study" in d else "id")
    for i in range(len(d[study_col])):
        for a in range(1, arms + 1):
            t = d[treat.format(a)][i]
            if not isinstance(t, str) or not t:
                continue
            out["study"].append(str(d[study_col][i]))
            out["treatment"].append(t)
            for key, col in fields.items():
                out[key].append(d[col.format(a)][i])
    return out


def _stowe() -> TreatmentNetwork:
    x = _long("N01", 3, "t{}", {"n": "n{}", "mean": "y{}", "sd": "sd{}"})
    return TreatmentNetwork.from_arms(x["study"], x["treatment"], x["n"], mean=x["mean"],
                                      sd=x["sd"], measure="MD")


def _vs(fit: NetworkEstimate, *, exp: bool = False) -> dict[str, Any]:
    out = {}
    for t in fit.treatments:
        if t == fit.reference:
            continue
        s = fit.summary(t, fit.reference)
        row = {"estimate": s["estimate"], "ci_lb": s["ci_low"], "ci_ub": s["ci_high"],
               "zval": s["zval"], "pval": s["pval"], "se": s["se"]}
        if exp:
            row.update(estimate_OR=np.exp(s["estimate"]), ci_lb_OR=np.exp(s["ci_low"]),
                       ci_ub_OR=np.exp(s["ci_high"]))
        out[t] = row
    return out


def _heterogeneity(fit: NetworkEstimate) -> dict[str, Any]:
    pv = fit.q_pvals()
    return {"tau2": fit.tau2, "tau": float(np.sqrt(fit.tau2)), "I2_percent": fit.i2,
            "I2_ci_lb_percent": fit.i2_low, "I2_ci_ub_percent": fit.i2_high,
            "Q_total": fit.q_total, "Q_total_df": fit.q_df, "Q_total_pval": pv["total"],
            "Q_within": fit.q_within, "Q_within_df": fit.q_within_df,
            "Q_within_pval": pv["within"], "Q_between": fit.q_between,
            "Q_between_df": fit.q_between_df, "Q_between_pval": pv["between"]}


def _counts(fit: NetworkEstimate) -> dict[str, Any]:
    return {"k_studies": fit.k_studies, "m_pairwise_comparisons": fit.m_pairwise,
            "o_observations": fit.n_observations, "n_treatments": len(fit.treatments),
            "d_designs": fit.n_designs}


def _n01_fit() -> NetworkEstimate:
    return NetworkMetaAnalysis(model="random", reference="Placebo").fit(_stowe())


def _n01_contrasts() -> dict[str, Any]:
    net = _stowe()
    fit = _n01_fit()
    rows = []
    for sc in net.studies:
        for i, j in sc.pairs():
            rows.append({"studlab": sc.study, "treat1": sc.treatments[i],
                         "treat2": sc.treatments[j], "TE": sc.te[i, j],
                         "seTE": float(np.sqrt(sc.var[i, j]))})
    wanted = [("COMTI(E) INT-OZ", "COMTI", "Placebo"), ("LARGO", "COMTI", "Placebo"),
              ("LARGO", "COMTI", "MAOBI"), ("LARGO", "Placebo", "MAOBI"),
              ("COMTI(E) Nomecomt", "COMTI", "Placebo")]
    picked = [next(r for r in rows if (r["studlab"], r["treat1"], r["treat2"]) == w)
              for w in wanted]
    adj = adjusted_se(net, fit.tau2)
    return {"contrasts": picked, "seTE_adj_random (summary print, 3 dp)": {
        "COMTI(E) INT-OZ": adj[("COMTI(E) INT-OZ", "COMTI", "Placebo")],
        "LARGO (each of 3)": adj[("LARGO", "COMTI", "Placebo")],
        "COMTI(E) Nomecomt": adj[("COMTI(E) Nomecomt", "COMTI", "Placebo")]}}


def _n01_nma() -> dict[str, Any]:
    fit = _n01_fit()
    forest = {}
    for a, b in (("COMTI", "Dopamine Agonist"), ("COMTI", "MAOBI"),
                 ("Dopamine Agonist", "MAOBI")):
        s = fit.summary(a, b)
        forest[f"{a} vs {b}"] = {"estimate": s["estimate"], "ci_lb": s["ci_low"],
                                 "ci_ub": s["ci_high"]}
    return {"counts": _counts(fit), "vs_reference": _vs(fit), "all_comparisons_forest": forest,
            **_heterogeneity(fit)}


def _league(fit: NetworkEstimate, *, exp: bool = False) -> dict[str, Any]:
    direct = direct_estimates(fit.network, fit.tau2)
    nma, dirs = {}, {}
    for a in fit.treatments:
        for b in fit.treatments:
            if a == b:
                continue
            est = fit.contrast(a, b)[0]
            nma[f"{a} vs {b}"] = float(np.exp(est)) if exp else est
            key = (a, b) if a < b else (b, a)
            d = direct.get(key)
            dv = None if d is None else (d.estimate if a < b else -d.estimate)
            dirs[f"{a} vs {b}"] = None if dv is None else (float(np.exp(dv)) if exp else dv)
    return {"nma": nma, "direct": dirs}


def _splits(fit: NetworkEstimate, *, exp: bool = False) -> dict[str, Any]:
    out = {}
    for (a, b), s in netsplit(fit).items():
        def tr(x: float | None) -> float | None:
            return None if x is None else (float(np.exp(x)) if exp else x)
        out[f"{a}:{b}"] = {"k": s.k, "prop": s.prop, "nma": tr(s.nma), "direct": tr(s.direct),
                           "indirect": tr(s.indirect), "diff": tr(s.diff), "z": s.z,
                           "pval": s.pval}
    return out


RUNNERS[("N01", "pairwise_contrasts")] = _n01_contrasts
RUNNERS[("N01", "nma_random")] = _n01_nma
RUNNERS[("N01", "pscore_random")] = lambda: _n01_fit().p_scores("desirable")
RUNNERS[("N01", "league_table_random")] = lambda: _league(_n01_fit())
RUNNERS[("N01", "netsplit_SIDE_random")] = lambda: _splits(_n01_fit())


# ---- N05 Franchini (MD, common and random, 3-arm study) -------------------------------------
def _franchini() -> TreatmentNetwork:
    x = _long("N05", 3, "Treatment{}", {"n": "n{}", "mean": "y{}", "sd": "sd{}"})
    return TreatmentNetwork.from_arms(x["study"], x["treatment"], x["n"], mean=x["mean"],
                                      sd=x["sd"], measure="MD")


def _n05_contrasts() -> dict[str, Any]:
    rows = []
    for sc in _franchini().studies:
        for i, j in sc.pairs():
            rows.append({"studlab": sc.study, "treat1": sc.treatments[i],
                         "treat2": sc.treatments[j], "TE": sc.te[i, j],
                         "seTE": float(np.sqrt(sc.var[i, j]))})
    want = [("Lieberman 1998", "Placebo", "Ropinirole"), ("Lieberman 1997", "Placebo",
            "Pramipexole"), ("Guttman 1997", "Placebo", "Pramipexole"),
            ("Guttman 1997", "Placebo", "Bromocriptine"),
            ("Guttman 1997", "Pramipexole", "Bromocriptine")]
    return {"contrasts": [next(r for r in rows if (r["studlab"], r["treat1"], r["treat2"]) == w)
                          for w in want]}


def _n05_nma() -> dict[str, Any]:
    net = _franchini()
    common = NetworkMetaAnalysis(model="common", reference="Bromocriptine").fit(net)
    random = NetworkMetaAnalysis(model="random", reference="Bromocriptine").fit(net)
    return {"counts": _counts(random), "vs_reference_common": _vs(common),
            "vs_reference_random": _vs(random), **_heterogeneity(random)}


RUNNERS[("N05", "pairwise_contrasts")] = _n05_contrasts
RUNNERS[("N05", "nma_common_and_random")] = _n05_nma


# ---- N02 Baker (OR, long format, all-event study excluded) -----------------------------------
def _baker() -> TreatmentNetwork:
    d = columns("N02")
    study = [f"{s} {int(y)}" for s, y in zip(d["study"], d["year"], strict=True)]
    return TreatmentNetwork.from_arms(study, list(d["treatment"]), d["total"],
                                      events=d["exac"], measure="OR")


def _n02_fit() -> NetworkEstimate:
    return NetworkMetaAnalysis(model="random", reference="Placebo").fit(_baker())


def _n02_nma() -> dict[str, Any]:
    fit = _n02_fit()
    return {"counts": _counts(fit),
            "excluded_comparisons": sorted(list(e) for e in fit.network.excluded),
            "vs_reference": _vs(fit, exp=True), **_heterogeneity(fit)}


RUNNERS[("N02", "nma_random")] = _n02_nma
RUNNERS[("N02", "pscore_random")] = lambda: _n02_fit().p_scores("desirable")


# ---- N03 Linde (OR, wide 3-arm, missing outcomes) ---------------------------------------------
def _linde(outcome: str) -> TreatmentNetwork:
    x = _long("N03", 3, "treatment{}", {"n": "n{}", "events": outcome + "{}"})
    return TreatmentNetwork.from_arms(x["study"], x["treatment"], x["n"], events=x["events"],
                                      measure="OR")


def _n03(outcome: str) -> dict[str, Any]:
    net = _linde(outcome)
    fit = NetworkMetaAnalysis(model="random", reference="Placebo").fit(net)
    out = {"counts": _counts(fit), "vs_reference": _vs(fit, exp=True), **_heterogeneity(fit),
           "pscore": fit.p_scores("undesirable"), "n_excluded_comparisons": len(net.excluded)}
    out["excluded_comparisons_studlab_treat1_treat2"] = [
        [int(float(s)), a, b] for s, a, b in net.excluded]
    return out


RUNNERS[("N03", "early_response_random")] = lambda: _n03("resp")
RUNNERS[("N03", "early_remission_random")] = lambda: _n03("remi")


# ---- N06 Senn (metafor common and REML with rho = 1/2) ---------------------------------------
def _senn() -> TreatmentNetwork:
    d = columns("N06")
    return TreatmentNetwork.from_arms(list(d["study"]), list(d["treatment"]), d["ni"],
                                      mean=d["mi"], sd=d["sdi"], measure="MD")


def _qm(fit: NetworkEstimate) -> float:
    keep = [i for i, t in enumerate(fit.treatments) if t != fit.reference]
    d = fit.d[keep]
    return float(d @ np.linalg.solve(fit.cov[np.ix_(keep, keep)], d))


def _n06_common() -> dict[str, Any]:
    fit = NetworkMetaAnalysis(model="common", reference="placebo").fit(_senn())
    return {"vs_reference": _vs(fit), "QE": fit.q_total, "QE_df": fit.q_df,
            "QE_pval": fit.q_pvals()["total"], "QM_treatment_9df": _qm(fit)}


def _n06_reml_fit() -> NetworkEstimate:
    return NetworkMetaAnalysis(model="random", tau2="REML", reference="placebo").fit(_senn())


def _n06_reml() -> dict[str, Any]:
    fit = _n06_reml_fit()
    pairs = {}
    for a in fit.treatments:
        for b in fit.treatments:
            if a < b:
                s = fit.summary(a, b)
                pairs[f"{a} - {b}"] = {"estimate": s["estimate"], "se": s["se"],
                                       "ci_lb": s["ci_low"], "ci_ub": s["ci_high"],
                                       "zval": s["zval"], "pval": s["pval"],
                                       "pi_lb": s["pi_low"], "pi_ub": s["pi_high"]}
    _, gamma2 = design_inconsistency(fit)
    return {"tau2": fit.tau2, "tau": float(np.sqrt(fit.tau2)), "QE": fit.q_total,
            "QE_df": fit.q_df, "QM_9df": _qm(fit), "vs_reference": _vs(fit),
            "all_pairwise_first_minus_second": pairs, "inconsistency_model_gamma2": gamma2}


RUNNERS[("N06", "common_effect")] = _n06_common
RUNNERS[("N06", "random_REML_rho_half")] = _n06_reml
RUNNERS[("N06", "pscore_from_REML_model")] = lambda: _n06_reml_fit().p_scores("desirable")


def _label(design: tuple[str, ...], reference: str) -> str:
    """netmeta's design label: the reference first, then the others alphabetically."""
    rest = sorted(t for t in design if t != reference)
    return ":".join(([reference] if reference in design else []) + rest)


def _n01_decomp() -> dict[str, Any]:
    fit = _n01_fit()
    d = decompose(fit)
    return {
        "design_specific_within": {
            _label(k, "Placebo"): {"Q": v.q, "df": v.df, "pval": v.pval}
            for k, v in d.within_by_design.items()},
        "between_after_detaching": {
            _label(k, "Placebo"): {"Q": v.q, "df": v.df, "pval": v.pval}
            for k, v in d.between_detached.items()},
        "full_design_by_treatment_RE": {
            "Q_between": d.between_random.q, "df": d.between_random.df,
            "pval": d.between_random.pval, "tau_within": float(np.sqrt(d.tau2_within)),
            "tau2_within": d.tau2_within}}


RUNNERS[("N01", "decomp_design")] = _n01_decomp
