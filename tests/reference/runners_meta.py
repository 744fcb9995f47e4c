"""Runners: reference analyses computed by R meta (4.11-0 semantics), keyed like the case files.

P08 is ``metabin(sm="OR", method="Inverse", method.tau="DL", hakn=TRUE, Q.Cochrane=FALSE)``:
metafor-equivalent inverse-variance pooling plus meta's own extras (Jackson's tau² interval,
Higgins-Thompson H and I² intervals, Crippa's R_b and meta's CMH statistic).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import stats

from equipoise.evidence.effect_sizes import escalc
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.generalised_q import UNIROOT_TOL, jackson_tau2_interval
from equipoise.synthesis.network_meta import i2_interval
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.rb import crippa_rb
from tests.reference.cases import columns

Runner = Callable[[], dict[str, Any]]
RUNNERS: dict[tuple[str, str], Runner] = {}
LEVEL = 0.95


def meta_cmh(ai: np.ndarray, n1i: np.ndarray, ci: np.ndarray, n2i: np.ndarray) -> float:
    """R meta's ``Q.CMH``: ``(sum(O - E))² / sum(n1 n2 m1 m2 / N³)``, no continuity correction.

    metafor's (and equipoise's MantelHaenszel) CMH uses the hypergeometric variance
    ``n1 n2 m1 m2 / (N² (N - 1))`` and subtracts 1/2 from ``|sum(O - E)|``; meta 4.x uses
    ``N³`` and no correction (metabin.R), so the two differ (24.90 vs 24.72 uncorrected here).
    """
    m1 = ai + ci
    m2 = (n1i - ai) + (n2i - ci)
    N = n1i + n2i
    return float(np.sum(ai - n1i * m1 / N) ** 2 / np.sum(n1i * n2i * m1 * m2 / N**3))


def _p08_data() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    d = columns("P08")
    es = escalc("OR", ai=d["event_e"], n1i=d["n_e"], ci=d["event_c"], n2i=d["n_c"])
    return np.asarray(es.yi), np.asarray(es.vi), d


def _p08_study_level() -> dict[str, Any]:
    yi, vi, _ = _p08_data()
    batch = MetaBatch.from_arrays(yi, vi)
    tau2 = float(MetaAnalysis("DL").fit(batch).tau2[0])
    return {"TE": yi.tolist(), "seTE": np.sqrt(vi).tolist(), "w_fixed": (1 / vi).tolist(),
            "w_random": (1 / (vi + tau2)).tolist()}


def _p08_common() -> dict[str, Any]:
    yi, vi, _ = _p08_data()
    d = MetaAnalysis("FE").fit(MetaBatch.from_arrays(yi, vi)).to_dict()
    return {"estimate": d["estimate"], "se": d["se"], "ci_lb": d["ci_low"],
            "ci_ub": d["ci_high"], "zval": d["zval"], "pval": d["pval"]}


def _p08_random() -> dict[str, Any]:
    yi, vi, d = _p08_data()
    fit = MetaAnalysis("DL", test="knha", prediction="riley", level=LEVEL).fit(
        MetaBatch.from_arrays(yi, vi))
    r = fit.to_dict()
    q, df = r["q"], int(r["q_df"])
    # meta 4.11 asks metafor's confint (GENQ, weights 1/seTE) with uniroot's tolerance.
    j = jackson_tau2_interval(yi, vi, level=LEVEL, tol=UNIROOT_TOL)
    i2, i2_lo, i2_hi = (x / 100 for x in i2_interval(q, df, LEVEL))
    rb = crippa_rb(vi, r["tau2"], q, se_random=r["se"], level=LEVEL)
    cmh = meta_cmh(d["event_e"], d["n_e"], d["event_c"], d["n_c"])

    def h(i2_fraction: float) -> float:
        return 1 / math.sqrt(1 - i2_fraction)

    return {
        "estimate": r["estimate"], "se_hk": r["se"], "ci_lb": r["ci_low"],
        "ci_ub": r["ci_high"], "tval": r["tval"], "pval": r["pval"],
        "pi_se": float(fit.pi_se[0]), "pi_lb": r["pi_low"], "pi_ub": r["pi_high"],
        "tau2": r["tau2"], "tau2_se": r["tau2_se"], "tau2_ci_lb": j.tau2_low,
        "tau2_ci_ub": j.tau2_high, "tau2_ci_method": "J", "tau": r["tau"],
        "tau_ci_lb": j.tau_low, "tau_ci_ub": j.tau_high, "Q": q, "Q_df": df,
        "Q_pval": r["q_pval"], "H": h(i2), "H_ci_lb": h(i2_lo), "H_ci_ub": h(i2_hi),
        "I2_fraction": i2, "I2_ci_lb_fraction": i2_lo, "I2_ci_ub_fraction": i2_hi,
        "Rb": rb.rb, "Rb_ci_lb": rb.ci_low, "Rb_ci_ub": rb.ci_high,
        "Q_CMH": cmh, "Q_CMH_df": 1, "Q_CMH_pval": float(stats.chi2.sf(cmh, 1)),
    }


RUNNERS[("P08", "study_level")] = _p08_study_level
RUNNERS[("P08", "common_IV")] = _p08_common
RUNNERS[("P08", "random_DL_HK")] = _p08_random
