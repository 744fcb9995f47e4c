"""Runners for the Mantel-Haenszel network case N08 (Dong 2013, netmetabin / netsplit SIDDE)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from equipoise.errors import DroppedStudyWarning
from equipoise.evidence.network import TreatmentNetwork
from equipoise.synthesis.network_mh import MantelHaenszelNetwork, MHNetworkEstimate
from tests.reference.cases import analysis, columns

RUNNERS: dict[tuple[str, str], Callable[[], dict[str, Any]]] = {}


def _dong() -> dict[str, list[Any]]:
    d = columns("N08")
    return {"study": [str(int(s)) for s in d["id"]], "treatment": list(d["treatment"]),
            "events": list(d["death"]), "n": list(d["randomized"])}


@cache
def _n08_fit() -> MHNetworkEstimate:
    settings = analysis("N08", "nma_MH_common")["settings"]
    assert settings["method"] == "MH" and settings["sm"] == "OR"
    x = _dong()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DroppedStudyWarning)
        fit = MantelHaenszelNetwork(reference=settings["reference"]).fit(
            x["study"], x["treatment"], x["events"], x["n"])
    # netmetabin warns about the same exclusions; equipoise must say so too.
    assert [type(w.message) for w in caught] == [DroppedStudyWarning]
    return fit


def _n08_contrasts() -> dict[str, Any]:
    """pairwise() log ORs of the first three studies (two arms each, no zero cells)."""
    x = _dong()
    rows = [i for i, s in enumerate(x["study"]) if s in ("1", "2", "3")]
    net = TreatmentNetwork.from_arms([x["study"][i] for i in rows],
                                     [x["treatment"][i] for i in rows],
                                     [x["n"][i] for i in rows],
                                     events=[x["events"][i] for i in rows], measure="OR")
    return {"contrasts": [
        {"studlab": sc.study, "treat1": sc.treatments[i], "treat2": sc.treatments[j],
         "TE": float(sc.te[i, j]), "seTE": float(np.sqrt(sc.var[i, j]))}
        for sc in net.studies for i, j in sc.pairs()]}


def _n08_nma() -> dict[str, Any]:
    fit = _n08_fit()
    vs = {}
    for t in fit.treatments:
        if t != fit.reference:
            e = fit.contrast(t, fit.reference)
            ratio = e.exp()
            vs[t] = {"estimate_OR": ratio["OR"], "ci_lb_OR": ratio["ci_lb"],
                     "ci_ub_OR": ratio["ci_ub"], "zval": e.zval, "pval": e.pval}
    ex = fit.excluded
    return {
        "counts": {"k_studies": fit.k_studies, "m_pairwise_comparisons": fit.m_pairwise,
                   "o_observations": fit.n_observations, "n_treatments": len(fit.treatments),
                   "d_designs": fit.n_designs},
        "excluded": {
            "studies_without_events": list(ex.studies_without_events),
            "arm_without_events": "; ".join(f"{t} in design {d}"
                                            for t, d in ex.arms_without_events),
            "design_excluded": "; ".join(f"{d} (single arm left)"
                                         for d in ex.single_arm_designs)},
        "vs_reference": vs, "Q_inconsistency_between_designs": fit.q, "Q_df": fit.q_df,
        "Q_pval": fit.q_pval}


def _n08_league() -> dict[str, Any]:
    nma, direct = {}, {}
    for (a, b), (net, dir_) in _n08_fit().league().items():
        nma[f"{a} vs {b}"] = net.exp()
        direct[f"{a} vs {b}"] = None if dir_ is None else dir_.exp()
    return {"nma": nma, "direct": direct}


def _n08_netsplit() -> dict[str, Any]:
    """netsplit's comparisons: alphabetical, except that the reference comes second."""
    fit = _n08_fit()
    out = {}
    for s in fit.splits:
        split = s.flipped() if s.comparison[0] == fit.reference else s
        if split.indirect is None or split.difference is None:   # show = "both"
            continue
        out[":".join(split.comparison)] = {
            "k": split.k, "direct": split.direct.exp(), "indirect": split.indirect.exp(),
            "RoR": split.difference.exp(), "z": split.difference.zval,
            "pval": split.difference.pval}
    return out


RUNNERS[("N08", "pairwise_contrasts")] = _n08_contrasts
RUNNERS[("N08", "nma_MH_common")] = _n08_nma
RUNNERS[("N08", "league_table_common")] = _n08_league
RUNNERS[("N08", "netsplit_SIDDE_common")] = _n08_netsplit
