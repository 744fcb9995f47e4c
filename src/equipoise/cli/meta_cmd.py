"""`equipoise meta DATA.csv`: pairwise meta-analysis with metafor-style options."""

from __future__ import annotations

import argparse
import io
from typing import Any

import numpy as np

from equipoise.cli.common import add_output_options
from equipoise.cli.data import DataError, Table
from equipoise.cli.output import emit
from equipoise.evidence.effect_sizes import escalc
from equipoise.report.plots import page, pairwise_forest
from equipoise.report.tabular import to_json
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.heterogeneity import q_profile
from equipoise.synthesis.mantel_haenszel import MantelHaenszel, Peto, TwoByTwo
from equipoise.synthesis.pairwise import MetaAnalysis, leave_one_out
from equipoise.synthesis.publication_bias import ranktest, regtest

ROLES = ("ai", "bi", "ci", "di", "n1i", "n2i", "m1i", "sd1i", "m2i", "sd2i", "yi", "vi", "sei")
MEASURES = ("GEN", "MD", "SMD", "SMDH", "OR", "RR", "RD", "PETO")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "meta", help="pairwise meta-analysis of a CSV (metafor-style options)",
        description="Pool a CSV of studies. Name the columns with escalc's arguments, e.g. "
                    "--ai tpos --bi tneg --ci cpos --di cneg --measure RR, or --yi --vi.")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--measure", default=None, type=str.upper, choices=MEASURES,
                   help="effect size (default GEN when --yi is given, else required)")
    p.add_argument("--method", default="REML",
                   help="FE, DL, HE, HS, HSk, SJ, PM, ML, REML, EB, DL2, HE2; "
                        "MH or PETO for 2x2 tables (default REML)")
    p.add_argument("--test", default="z", choices=("z", "t", "knha", "adhoc"))
    p.add_argument("--knha", action="store_true", help="Knapp-Hartung (same as --test knha)")
    p.add_argument("--pi", default="normal", choices=("normal", "riley"),
                   help="prediction interval: the test's quantile (metafor) or t(k-2) (Riley)")
    p.add_argument("--level", type=float, default=0.95)
    p.add_argument("--study", help="column with study labels")
    p.add_argument("--mods", help="comma-separated moderator columns (meta-regression)")
    p.add_argument("--add", type=float, default=0.5, help="zero-cell correction (default 0.5)")
    p.add_argument("--vtype", default="LS")
    p.add_argument("--confint", action="store_true", help="Q-profile interval for tau²")
    p.add_argument("--leave-one-out", action="store_true")
    p.add_argument("--bias", action="store_true",
                   help="Egger (classical and mixed-effects) and rank correlation tests")
    for role in ROLES:
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"column holding {role}")
    add_output_options(p, ("table", "json", "csv", "html"))
    p.set_defaults(run=run)


def _effects(args: argparse.Namespace, table: Table) -> Any:
    given = {role: table.numbers(col) for role in ROLES
             if (col := getattr(args, role)) is not None}
    if not given:
        raise DataError("name the data columns, e.g. --yi effect --vi variance, or "
                        "--ai/--bi/--ci/--di for 2x2 tables")
    measure = args.measure or ("GEN" if "yi" in given else None)
    if measure is None:
        raise DataError("--measure is required unless --yi/--vi are given")
    study = table.text(args.study) if args.study else None
    columns: dict[str, Any] = dict(given)
    return escalc(measure, study=study, add=args.add, vtype=args.vtype, **columns)


def run(args: argparse.Namespace) -> int:
    table = Table.read(args.data)
    test = "knha" if args.knha else args.test
    method = args.method.upper()
    if method in ("MH", "PETO"):
        return _run_tables(args, table, method)
    es = _effects(args, table)
    mods = None
    if args.mods:
        mods = np.column_stack([table.numbers(c.strip()) for c in args.mods.split(",")])
        if len(es.dropped):
            raise DataError("moderators cannot be combined with dropped studies; remove them")
    batch = MetaBatch.from_arrays(es.yi, es.vi, mods, study=list(es.study))
    analysis = MetaAnalysis(args.method, test=test, level=args.level,
                            prediction="riley" if args.pi == "riley" else "metafor")
    fit = analysis.fit(batch)
    out: dict[str, Any] = {"measure": es.measure, **fit.to_dict()}
    if args.confint:
        ci = q_profile(batch, fit.vt, args.level)
        out["tau2_ci"] = [float(ci.tau2_low[0]), float(ci.tau2_high[0])]
        out["i2_ci"] = [float(ci.i2(ci.tau2_low)[0]), float(ci.i2(ci.tau2_high)[0])]
    if args.leave_one_out:
        loo = leave_one_out(analysis, batch)
        out["leave_one_out"] = [{"omitted": s, "estimate": float(loo.estimate[i]),
                                 "ci_low": float(loo.ci_low[i, 0]),
                                 "ci_high": float(loo.ci_high[i, 0]),
                                 "tau2": float(loo.tau2[i]), "i2": float(loo.i2[i])}
                                for i, s in enumerate(batch.study[0])]
    if args.bias and mods is None:
        out["egger_classical"] = regtest(es.yi, es.vi, model="lm").to_dict()
        out["egger_mixed"] = regtest(es.yi, es.vi, model="rma", method=args.method
                                     if args.method.upper() not in ("FE", "EE", "CE")
                                     else "REML").to_dict()
        rank = ranktest(es.yi, es.vi)
        out["rank_test"] = {"tau": rank.tau, "pval": rank.pval}
    if args.format == "html":
        emit(page("Meta-analysis", _render(out, "table"),
                  [pairwise_forest(fit, es.yi, es.vi, measure=es.measure)]), args.out)
        return 0
    emit(_render(out, args.format), args.out)
    return 0


def _run_tables(args: argparse.Namespace, table: Table, method: str) -> int:
    cells = {r: table.numbers(getattr(args, r)) for r in ("ai", "bi", "ci", "di", "n1i", "n2i")
             if getattr(args, r) is not None}
    study = table.text(args.study) if args.study else None
    if "ai" not in cells or "ci" not in cells:
        raise DataError("--method MH/PETO needs --ai and --ci (and --bi --di or --n1i --n2i)")
    tables = TwoByTwo.from_counts(cells["ai"], cells.get("bi"), cells["ci"], cells.get("di"),
                                  n1i=cells.get("n1i"), n2i=cells.get("n2i"), study=study)
    measure = args.measure or "OR"
    fit = (Peto(level=args.level) if method == "PETO"
           else MantelHaenszel(measure, level=args.level)).fit(tables)
    fmt = "table" if args.format == "html" else args.format
    emit(_render({"measure": measure, **fit.to_dict()}, fmt), args.out)
    return 0


def _render(out: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(out)
    flat = {k: v for k, v in out.items() if not isinstance(v, list | dict)}
    if fmt == "csv":
        buf = io.StringIO()
        buf.write(",".join(flat) + "\n")
        buf.write(",".join("" if v is None else str(v) for v in flat.values()) + "\n")
        return buf.getvalue()
    lines = [f"{'quantity':<16} value", "-" * 40]
    for key, value in flat.items():
        text = f"{value:.6g}" if isinstance(value, float) else str(value)
        lines.append(f"{key:<16} {text}")
    for key in ("tau2_ci", "i2_ci"):
        if key in out:
            lines.append(f"{key:<16} {out[key][0]:.6g} to {out[key][1]:.6g}")
    if "leave_one_out" in out:
        lines += ["", "leave one out:"]
        lines += [f"  without {r['omitted']:<20} {r['estimate']:.4g} ({r['ci_low']:.4g} to "
                  f"{r['ci_high']:.4g}), tau² {r['tau2']:.4g}" for r in out["leave_one_out"]]
    for key in ("egger_classical", "egger_mixed"):
        if key in out:
            t = out[key]
            lines.append(f"{key:<16} stat {t['statistic']:.4g}, p {t['pval']:.4g}, "
                         f"limit {t['limit_estimate']:.4g}")
    if "rank_test" in out:
        lines.append(f"{'rank_test':<16} tau {out['rank_test']['tau']:.4g}, "
                     f"p {out['rank_test']['pval']:.4g}")
    return "\n".join(lines) + "\n"
