"""`equipoise compare`: the side-by-side answer."""

from __future__ import annotations

import argparse
from typing import Any

from equipoise.cli.common import add_evidence_option, add_output_options, split_list
from equipoise.cli.output import emit
from equipoise.comparison.builder import compare
from equipoise.comparison.claims import check_claims
from equipoise.comparison.dimensions import DIMENSION_IDS
from equipoise.datasets import load_evidence
from equipoise.evidence.vocabulary import CONDITION_TARGETS
from equipoise.report.html import comparison_html
from equipoise.report.markdown import comparison_markdown
from equipoise.report.tabular import comparison_csv, comparison_json
from equipoise.report.text import comparison_table

FORMATS = ("table", "json", "csv", "html", "markdown")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "compare", help="compare treatments side by side, every cell cited",
        description="Compare ketamine, esketamine, SSRIs/SNRIs, CBT, combinations and controls "
                    "across efficacy, onset, response, durability, side effects, acceptability, "
                    "burden, regulatory status and certainty.")
    p.add_argument("--condition", default="any", type=str.strip,
                   help=f"population of interest: {', '.join(CONDITION_TARGETS)} (default any); "
                        "evidence from other populations stays visible, labelled")
    p.add_argument("--treatments", action="append", metavar="IDS",
                   help="comma-separated treatment ids or names (default: all families)")
    p.add_argument("--dimensions", action="append", metavar="IDS",
                   help=f"comma-separated dimensions from: {', '.join(DIMENSION_IDS)}")
    add_output_options(p, FORMATS)
    add_evidence_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    evidence = load_evidence(args.evidence)
    result = compare(split_list(args.treatments), split_list(args.dimensions), args.condition,
                     evidence=evidence)
    fmt = args.format
    if fmt == "json":
        text = comparison_json(result)
    elif fmt == "csv":
        text = comparison_csv(result)
    elif fmt == "markdown":
        text = comparison_markdown(result)
    elif fmt == "html":
        text = comparison_html(result, check_claims(evidence), evidence)
    else:
        text = comparison_table(result)
    emit(text, args.out)
    return 0
