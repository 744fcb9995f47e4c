"""`equipoise claims`: the seed article's claims against the evidence."""

from __future__ import annotations

import argparse
from typing import Any

from equipoise.cli.common import add_evidence_option, add_output_options, split_list
from equipoise.cli.output import emit
from equipoise.comparison.claims import CLAIM_IDS, check_claims
from equipoise.datasets import load_evidence
from equipoise.report.markdown import claims_markdown
from equipoise.report.tabular import claims_json
from equipoise.report.text import claims_table


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "claims", help="check the seed article's claims against the evidence",
        description="For each common claim, what the evidence base supports: supported, "
                    "partly, not established or contradicted, with rows and certainty.")
    p.add_argument("--claim", action="append", metavar="IDS",
                   help=f"only these claim ids: {', '.join(CLAIM_IDS)}")
    add_output_options(p, ("table", "json", "markdown"))
    add_evidence_option(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    verdicts = check_claims(load_evidence(args.evidence), split_list(args.claim))
    if args.format == "json":
        text = claims_json(verdicts)
    elif args.format == "markdown":
        text = claims_markdown(verdicts)
    else:
        text = claims_table(verdicts)
    emit(text, args.out)
    return 0
