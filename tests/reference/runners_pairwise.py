"""Runners: compute each pairwise reference analysis with equipoise, keyed like the case files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.results import PooledEffect
from tests.reference.cases import analysis, columns

Runner = Callable[[], dict[str, Any]]
# metafor's default Fisher-scoring threshold: printed metafor output carries its convergence
# slack (e.g. I² of Raudenbush 1985 is 41.86 at 1e-5 but 41.85 when fully converged).
METAFOR = 1e-5
RUNNERS: dict[tuple[str, str], Runner] = {}


def runner(case: str, *ids: str) -> Callable[[Callable[[str], dict[str, Any]]], None]:
    def register(fn: Callable[[str], dict[str, Any]]) -> None:
        for analysis_id in ids:
            RUNNERS[(case, analysis_id)] = (lambda a=analysis_id: fn(a))
    return register


def summary(r: PooledEffect, *, exp: bool = False) -> dict[str, Any]:
    """Every key the case files use for an intercept-only rma fit."""
    d = r.to_dict()
    out: dict[str, Any] = {
        "estimate": d["estimate"], "se": d["se"], "ci_lb": d["ci_low"], "ci_ub": d["ci_high"],
        "zval": d.get("zval"), "tval": d.get("tval"), "pval": d["pval"], "tau2": d["tau2"],
        "tau2_se": d["tau2_se"], "tau": d["tau"], "I2_percent": d["i2"], "H2": d["h2"],
        "Q": d["q"], "Q_df": d["q_df"], "Q_pval": d["q_pval"], "pi_lb": d["pi_low"],
        "pi_ub": d["pi_high"], "df": d["df"], "k": d["k"],
    }
    if exp:
        for key in ("estimate", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
            out[f"exp_{key}"] = None if out[key] is None else float(np.exp(out[key]))
    return out


def _method(settings: dict[str, Any]) -> str:
    if "tau2" in settings:
        return str(settings["tau2"]).split()[0]
    if "method" in settings:
        return str(settings["method"])
    return "FE"


def _test(settings: dict[str, Any]) -> str:
    return str(settings.get("test", "z")).split()[0]


# ---- P05 Raudenbush (yi, vi given) --------------------------------------------------------
@runner("P05", "EE_z", "ML_z", "REML_z", "DL_z", "HE_z", "EE_knha", "ML_knha", "REML_knha",
        "DL_knha", "HE_knha")
def _p05(analysis_id: str) -> dict[str, Any]:
    s = analysis("P05", analysis_id)["settings"]
    data = columns("P05")
    method = "FE" if s.get("model", "").startswith("equal") else _method(s)
    r = MetaAnalysis(method, test=_test(s), threshold=METAFOR).fit(
        MetaBatch.from_arrays(data["yi"], data["vi"]))
    return summary(r)


# ---- P07 Kacker (yi, vi given, full precision) ---------------------------------------------
@runner("P07", "PM", "DL", "DL_knha", "FE", "FE_knha")
def _p07(analysis_id: str) -> dict[str, Any]:
    s = analysis("P07", analysis_id)["settings"]
    data = columns("P07")
    method = "FE" if s.get("model") == "FE" else _method(s)
    r = MetaAnalysis(method, test=_test(s), threshold=1e-14).fit(
        MetaBatch.from_arrays(data["yi"], data["vi"]))
    return summary(r)


@runner("P07", "paper_tau")
def _p07_paper(_: str) -> dict[str, Any]:
    data = columns("P07")
    batch = MetaBatch.from_arrays(data["yi"], data["vi"])
    tau = {m: float(np.sqrt(MetaAnalysis(m).fit(batch).tau2[0])) for m in ("PM", "HE", "DL",
                                                                          "HE2")}
    return {"tau_PM": tau["PM"], "tau_CA": tau["HE"], "tau_DL": tau["DL"], "tau_C2": tau["HE2"]}


# ---- P13 PyMARE/metafor grid (meta-regression) ----------------------------------------------
def _p13(analysis_id: str) -> dict[str, Any]:
    s = analysis("P13", analysis_id)["settings"]
    data = columns("P13")
    rows = data["case"] == s["design_subset"]
    mods = [data[m][rows] for m in s["moderators"]]
    batch = MetaBatch.from_arrays(data["y"][rows], data["v"][rows],
                                  np.column_stack(mods) if mods else None)
    r = MetaAnalysis(s["method"], test=s["test"], threshold=METAFOR).fit(batch)
    return {"tau2": float(r.tau2[0]), "beta": r.beta[0].tolist(), "se": r.se[0].tolist(),
            "pval": r.pval[0].tolist(), "ci_lb": r.ci_low[0].tolist(),
            "ci_ub": r.ci_high[0].tolist(), "df": None if np.isnan(r.df[0]) else float(r.df[0])}


for _case, _aid in __import__("tests.reference.cases", fromlist=["all_analyses"]).all_analyses():
    if _case == "P13":
        RUNNERS[(_case, _aid)] = (lambda a=_aid: _p13(a))
