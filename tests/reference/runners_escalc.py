"""Runners for pairwise cases that start from raw data: escalc, then rma (P01-P03, P09-P14)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from equipoise.evidence.effect_sizes import escalc
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.heterogeneity import q_profile_metafor
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.publication_bias import ranktest, regtest
from tests.reference.cases import columns
from tests.reference.runners_pairwise import METAFOR, summary

RUNNERS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {}


def _bcg(measure: str) -> Any:
    d = columns("P01")
    return escalc(measure, ai=d["tpos"], bi=d["tneg"], ci=d["cpos"], di=d["cneg"], add=0.0)


def _fit(es: Any, method: str, **kw: Any) -> Any:
    return MetaAnalysis(method, threshold=METAFOR, **kw).fit(MetaBatch.from_arrays(es.yi, es.vi))


def _p01_reml_confint() -> dict[str, Any]:
    es = _bcg("RR")
    batch = MetaBatch.from_arrays(es.yi, es.vi)
    r = MetaAnalysis("REML", threshold=METAFOR).fit(batch)
    ci = q_profile_metafor(batch, r.vt, r.tau2)  # metafor's uniroot tolerance, as printed
    return {"tau2": float(r.tau2[0]), "tau2_ci_lb": float(ci.tau2_low[0]),
            "tau2_ci_ub": float(ci.tau2_high[0]), "tau": float(r.tau[0]),
            "tau_ci_lb": float(ci.tau_low[0]), "tau_ci_ub": float(ci.tau_high[0]),
            "I2_percent": float(r.i2[0]), "I2_ci_lb_percent": float(ci.i2(ci.tau2_low)[0]),
            "I2_ci_ub_percent": float(ci.i2(ci.tau2_high)[0]), "H2": float(r.h2[0]),
            "H2_ci_lb": float(ci.h2(ci.tau2_low)[0]), "H2_ci_ub": float(ci.h2(ci.tau2_high)[0])}


RUNNERS[("P01", "escalc_RR")] = lambda: {"yi": list(_bcg("RR").yi), "vi": list(_bcg("RR").vi)}
RUNNERS[("P01", "EE")] = lambda: summary(_fit(_bcg("RR"), "FE"), exp=True)
RUNNERS[("P01", "RE_DL")] = lambda: summary(_fit(_bcg("RR"), "DL"), exp=True)
RUNNERS[("P01", "RE_REML")] = lambda: summary(_fit(_bcg("RR"), "REML"), exp=True)
RUNNERS[("P01", "RE_REML_confint")] = _p01_reml_confint
RUNNERS[("P02", "EE")] = lambda: summary(_fit(_bcg("OR"), "FE"), exp=True)
RUNNERS[("P02", "RE_DL")] = lambda: summary(_fit(_bcg("OR"), "DL"), exp=True)
RUNNERS[("P03", "EE")] = lambda: summary(_fit(_bcg("RD"), "FE"))
RUNNERS[("P03", "RE_DL")] = lambda: summary(_fit(_bcg("RD"), "DL"))


# ---- P10 Normand 1999 (MD, pooled-SD MD, SMD) -------------------------------------------------
def _normand(measure: str, vtype: str = "LS") -> Any:
    d = columns("P10")
    return escalc(measure, m1i=d["m1i"], sd1i=d["sd1i"], n1i=d["n1i"], m2i=d["m2i"],
                  sd2i=d["sd2i"], n2i=d["n2i"], vtype=vtype)


def _pooled_escalc() -> dict[str, Any]:
    es = _normand("MD", "HO")
    half = 1.959963984540054 * np.sqrt(es.vi)
    return {"yi": list(es.yi), "vi": list(es.vi), "ci_lb": list(es.yi - half),
            "ci_ub": list(es.yi + half)}


RUNNERS[("P10", "escalc_MD")] = lambda: {"yi": list(_normand("MD").yi),
                                         "vi": list(_normand("MD").vi)}
RUNNERS[("P10", "MD_REML")] = lambda: summary(_fit(_normand("MD"), "REML"))
RUNNERS[("P10", "SMD_REML")] = lambda: summary(_fit(_normand("SMD"), "REML"))
RUNNERS[("P10", "escalc_MD_pooledSD")] = _pooled_escalc
RUNNERS[("P10", "MDpooled_EE")] = lambda: summary(_fit(_normand("MD", "HO"), "FE"))
RUNNERS[("P10", "MDpooled_DL")] = lambda: summary(_fit(_normand("MD", "HO"), "DL"))
RUNNERS[("P10", "MDpooled_REML")] = lambda: summary(_fit(_normand("MD", "HO"), "REML"))


# ---- P14 SMD variants ---------------------------------------------------------------------------
def _smd(measure: str, **kw: Any) -> Any:
    d = columns("P14")
    return escalc(measure, m1i=d["mean_t"], sd1i=d["sd_t"], n1i=d["n_t"], m2i=d["mean_c"],
                  sd2i=d["sd_c"], n2i=d["n_c"], **kw)


RUNNERS[("P14", "metafor_SMD")] = lambda: {
    "yi": list(_smd("SMD").yi), "vi_labelled_asy": list(_smd("SMD").vi),
    "vi_UB": list(_smd("SMD", vtype="UB").vi)}
# metafor 3.8-1 has no SMDH vtype "UB"; its LS output equals the case's values exactly.
RUNNERS[("P14", "metafor_SMDH")] = lambda: {"yi": list(_smd("SMDH").yi),
                                            "vi": list(_smd("SMDH").vi)}


# ---- P09 magnesium: Egger, regtest variants, rank test ------------------------------------------
def _magnesium(rows: slice) -> tuple[Any, np.ndarray]:
    d = columns("P09")
    es = escalc("OR", ai=d["ai"][rows], n1i=d["n1i"][rows], ci=d["ci"][rows],
                n2i=d["n2i"][rows])
    return es, (d["n1i"] + d["n2i"])[rows]


def _reg(model: str, predictor: str, rows: slice = slice(0, 15)) -> Any:
    es, ni = _magnesium(rows)
    return regtest(es.yi, es.vi, model=model, predictor=predictor, ni=ni, threshold=METAFOR)


def _egger(model: str) -> dict[str, Any]:
    t = _reg(model, "sei")
    stat = {"zval": t.statistic} if model == "rma" else {"tval": t.statistic, "df": t.df}
    return {**stat, "pval": t.pval, "limit_estimate": t.limit_estimate,
            "limit_ci_lb": t.limit_ci_low, "limit_ci_ub": t.limit_ci_high}


def _other_predictors() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for model in ("rma", "lm"):
        for pred in ("ni", "ninv"):
            t = _reg(model, pred)
            stat = "zval" if model == "rma" else "tval"
            out[f"{model}_{pred}_{stat}"] = t.statistic
            out[f"{model}_{pred}_pval"] = t.pval
            if t.limit_estimate is not None:
                out[f"{model}_{pred}_limit_estimate"] = t.limit_estimate
                out[f"{model}_{pred}_limit_ci_lb"] = t.limit_ci_low
                out[f"{model}_{pred}_limit_ci_ub"] = t.limit_ci_high
    return out


def _all16() -> dict[str, Any]:
    es, _ = _magnesium(slice(0, 16))
    rank = ranktest(es.yi, es.vi)
    return {"egger_mixed_effects_zval": _reg("rma", "sei", slice(0, 16)).statistic,
            "lm_sqrtninv_tval": _reg("lm", "sqrtninv", slice(0, 16)).statistic,
            "ranktest_kendall_tau": rank.tau, "ranktest_pval": rank.pval}


def _p09_escalc() -> dict[str, Any]:
    es, ni = _magnesium(slice(0, 15))
    return {"yi": list(es.yi), "ni": [int(x) for x in ni]}


RUNNERS[("P09", "escalc_OR_excl_ISIS4")] = _p09_escalc
RUNNERS[("P09", "REML_excl_ISIS4")] = lambda: summary(_fit(_magnesium(slice(0, 15))[0], "REML"))
RUNNERS[("P09", "egger_classical")] = lambda: _egger("lm")
RUNNERS[("P09", "egger_mixed_effects")] = lambda: _egger("rma")
RUNNERS[("P09", "regtest_other_predictors")] = _other_predictors
RUNNERS[("P09", "all16_tests")] = _all16
RUNNERS[("P14", "meta_metacont_SMD")] = lambda: {
    "TE": list(_smd("SMD", vtype="UB", correction="approx").yi),
    "seTE_squared": list(_smd("SMD", vtype="UB", correction="approx").vi)}
