"""Runners: Mantel-Haenszel and Peto reference analyses (P04 BCG, P09 magnesium), keyed like
the case files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from equipoise.synthesis.mantel_haenszel import MantelHaenszel, Peto, PooledTables, TwoByTwo
from tests.reference.cases import analysis, columns

Runner = Callable[[], dict[str, Any]]
RUNNERS: dict[tuple[str, str], Runner] = {}


def summary(r: PooledTables, index: int = 0) -> dict[str, Any]:
    """Every key the case files use for an rma.mh / rma.peto fit."""
    d = r.to_dict(index)
    out: dict[str, Any] = {
        "k": d["k"], "estimate": d["estimate"], "se": d["se"], "zval": d["zval"],
        "pval": d["pval"], "ci_lb": d["ci_low"], "ci_ub": d["ci_high"], "Q": d["q"],
        "Q_df": d["q_df"], "Q_pval": d["q_pval"], "I2_percent": d["i2"], "H2": d["h2"],
    }
    if r.is_ratio:
        out |= {"exp_estimate": d["exp_estimate"], "exp_ci_lb": d["exp_ci_low"],
                "exp_ci_ub": d["exp_ci_high"]}
    if "cmh" in d:
        out |= {"CMH": d["cmh"], "CMH_df": d["cmh_df"], "CMH_pval": d["cmh_pval"],
                "Tarone_X2": d["tarone"], "Tarone_df": d["tarone_df"],
                "Tarone_pval": d["tarone_pval"]}
    return out


# ---- P04 BCG: ai=tpos, bi=tneg, ci=cpos, di=cneg -------------------------------------------
def _bcg() -> TwoByTwo:
    data = columns("P04")
    return TwoByTwo.from_counts(data["tpos"], data["tneg"], data["cpos"], data["cneg"],
                                study=[str(a) for a in data["author"]])


def _p04(analysis_id: str) -> dict[str, Any]:
    s = analysis("P04", analysis_id)["settings"]
    estimator = Peto() if s["method"].startswith("Peto") else MantelHaenszel(s["measure"])
    return summary(estimator.fit(_bcg()))


for _aid in ("MH_OR", "MH_RR", "MH_RD", "Peto_OR"):
    RUNNERS[("P04", _aid)] = (lambda a=_aid: _p04(a))


# ---- P09 magnesium: Peto OR of four sets of trials, fitted as one batch ---------------------
P09_SUBSETS = {"trials_1_7": range(1, 8), "trials_1_7_and_14": [*range(1, 8), 14],
               "trials_1_15": range(1, 16), "trials_1_16": range(1, 17)}


def _p09_peto() -> dict[str, Any]:
    data = columns("P09")
    ids = data["id"].astype(int)
    labels = [f"{s} {int(y)}" for s, y in zip(data["study"], data["year"], strict=True)]
    groups = []
    for rows in P09_SUBSETS.values():
        take = np.isin(ids, list(rows))
        groups.append(TwoByTwo.from_counts(
            data["ai"][take], ci=data["ci"][take], n1i=data["n1i"][take],
            n2i=data["n2i"][take], study=[lab for lab, t in zip(labels, take, strict=True)
                                          if t]))
    r = Peto().fit(TwoByTwo.stack(groups))
    return {name: summary(r, b) for b, name in enumerate(P09_SUBSETS)}


RUNNERS[("P09", "peto")] = _p09_peto
