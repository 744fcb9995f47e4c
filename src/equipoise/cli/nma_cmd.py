"""`equipoise nma DATA.csv`: network meta-analysis with netmeta-style options."""

from __future__ import annotations

import argparse
import io
from typing import Any

from equipoise.cli.common import add_output_options
from equipoise.cli.data import DataError, Table
from equipoise.cli.output import emit
from equipoise.evidence.network import TreatmentNetwork
from equipoise.report.plots import network_forest, network_plot, page
from equipoise.report.tabular import to_json
from equipoise.synthesis.inconsistency import decompose, netsplit
from equipoise.synthesis.network_meta import NetworkMetaAnalysis
from equipoise.synthesis.network_mh import MantelHaenszelNetwork


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "nma", help="network meta-analysis of a CSV (netmeta-style options)",
        description="Arm-level rows (--study --treatment --n with --mean --sd or --events) or "
                    "contrast-level rows (--study --treat1 --treat2 --te --se).")
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--measure", default=None, type=str.upper,
                   choices=("MD", "OR", "RR", "RD", "GEN"))
    model = p.add_mutually_exclusive_group()
    model.add_argument("--common", action="store_true", help="common-effect model")
    model.add_argument("--random", action="store_true", help="random-effects model (default)")
    p.add_argument("--tau2", default="DL", type=str.upper, choices=("DL", "REML"),
                   help="tau² estimator (netmeta's generalised DL, or REML as rma.mv)")
    p.add_argument("--mh", action="store_true",
                   help="Mantel-Haenszel network meta-analysis (netmetabin; arm-level events)")
    p.add_argument("--reference", help="reference treatment (default: first alphabetically)")
    p.add_argument("--small-values", default="desirable",
                   choices=("desirable", "undesirable"), help="direction for P-scores")
    p.add_argument("--level", type=float, default=0.95)
    for role in ("study", "treatment", "n", "mean", "sd", "events", "treat1", "treat2", "te",
                 "se"):
        p.add_argument(f"--{role}", metavar="COLUMN", help=f"column holding {role}")
    add_output_options(p, ("table", "json", "csv", "html"))
    p.set_defaults(run=run)


def _network(args: argparse.Namespace, table: Table) -> TreatmentNetwork:
    if args.study is None:
        raise DataError("name the study column with --study")
    study = table.text(args.study)
    if args.te or args.treat1:
        for role in ("treat1", "treat2", "te", "se"):
            if getattr(args, role) is None:
                raise DataError(f"contrast-level data need --treat1 --treat2 --te --se "
                                f"(missing --{role})")
        return TreatmentNetwork.from_contrasts(
            study, table.text(args.treat1), table.text(args.treat2), table.numbers(args.te),
            table.numbers(args.se), measure=args.measure or "GEN")
    if args.treatment is None or args.n is None:
        raise DataError("arm-level data need --treatment and --n (and --mean --sd or --events)")
    measure = args.measure or ("MD" if args.mean else "OR")
    return TreatmentNetwork.from_arms(
        study, table.text(args.treatment), table.numbers(args.n, allow_missing=True),
        mean=None if args.mean is None else table.numbers(args.mean, allow_missing=True),
        sd=None if args.sd is None else table.numbers(args.sd, allow_missing=True),
        events=None if args.events is None else table.numbers(args.events, allow_missing=True),
        measure=measure)


def run(args: argparse.Namespace) -> int:
    table = Table.read(args.data)
    if args.mh:
        if not (args.study and args.treatment and args.events and args.n):
            raise DataError("--mh needs --study --treatment --events --n")
        mh = MantelHaenszelNetwork(reference=args.reference, level=args.level).fit(
            table.text(args.study), table.text(args.treatment), table.numbers(args.events),
            table.numbers(args.n))
        emit(_render(mh.to_dict(), args.format), args.out)
        return 0
    network = _network(args, table)
    fit = NetworkMetaAnalysis(model="common" if args.common else "random", tau2=args.tau2,
                              reference=args.reference, level=args.level).fit(network)
    out = fit.to_dict()
    out["p_scores"] = fit.p_scores(args.small_values)
    out["splits"] = {f"{a}:{b}": s.to_dict() for (a, b), s in netsplit(fit).items()}
    d = decompose(fit)
    out["design_decomposition"] = {
        "within": {":".join(k): {"q": v.q, "df": v.df, "pval": v.pval}
                   for k, v in d.within_by_design.items()},
        "tau2_within": d.tau2_within,
        "between_random": {"q": d.between_random.q, "df": d.between_random.df,
                           "pval": d.between_random.pval}}
    out["excluded"] = [list(e) for e in network.excluded]
    out["measure"] = network.measure
    if args.format == "html":
        emit(page("Network meta-analysis", _render(out, "table"),
                  [network_plot(network), network_forest(fit)]), args.out)
        return 0
    emit(_render(out, args.format), args.out)
    return 0


def _render(out: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(out)
    treatments = out.get("treatments", {})
    if fmt == "csv":
        buf = io.StringIO()
        buf.write("treatment,reference,estimate,se,ci_low,ci_high,pval,p_score\n")
        for t, s in treatments.items():
            buf.write(f"{t},{out['reference']},{s['estimate']},{s['se']},{s['ci_low']},"
                      f"{s['ci_high']},{s.get('pval', '')},{out.get('p_scores', {}).get(t, '')}\n")
        return buf.getvalue()
    scale = " (log scale)" if out.get("measure") in ("OR", "RR") else ""
    lines = [f"network meta-analysis: {out.get('model', 'Mantel-Haenszel')} "
             f"(reference {out['reference']}); {out.get('measure', 'OR')}{scale}", ""]
    lines.append(f"{'treatment':<28} {'estimate':>9} {'95% CI':>22} {'p':>8} {'P-score':>8}")
    for t, s in treatments.items():
        ci = f"{s['ci_low']:.3f} to {s['ci_high']:.3f}"
        score = out.get("p_scores", {}).get(t)
        lines.append(f"{t[:28]:<28} {s['estimate']:>9.3f} {ci:>22} {s.get('pval', 0):>8.4f} "
                     + (f"{score:>8.3f}" if score is not None else ""))
    for key in ("tau2", "i2", "q_total", "q_within", "q_between"):
        if key in out:
            lines.append(f"{key:<12} {out[key]:.4g}" + (
                f" (df {out[key + '_df']}, p {out[key + '_pval']:.4g})"
                if key + "_df" in out else ""))
    return "\n".join(lines) + "\n"
