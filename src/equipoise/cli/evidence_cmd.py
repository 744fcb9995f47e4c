"""`equipoise evidence validate|list|treatments`: check and browse the evidence base."""

from __future__ import annotations

import argparse
import io
import sys
import textwrap
from typing import Any

from equipoise.cli.common import add_evidence_option, add_output_options
from equipoise.cli.output import emit
from equipoise.datasets import load_catalogue, load_evidence
from equipoise.errors import CatalogueError, EvidenceValidationError
from equipoise.evidence.io import read_evidence, write_evidence
from equipoise.evidence.records import EvidenceRow
from equipoise.evidence.vocabulary import OutcomeKind
from equipoise.report.tabular import evidence_records, to_json


def register(sub: Any) -> None:
    group: argparse.ArgumentParser = sub.add_parser(
        "evidence", help="validate, list and browse evidence rows and treatments")
    verbs = group.add_subparsers(dest="verb", required=True, metavar="VERB")

    v = verbs.add_parser("validate", help="check evidence CSV files against the schema",
                         description="Report every problem as file:row:field: message and exit "
                                     "1; exit 0 when the files are valid.")
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.add_argument("--standalone", action="store_true",
                   help="do not check ids against the bundled evidence")
    v.set_defaults(run=run_validate)

    ls = verbs.add_parser("list", help="show evidence rows with their sources")
    ls.add_argument("--treatment", metavar="T",
                    help="treatment id or name (a class includes its members)")
    ls.add_argument("--outcome", metavar="O",
                    help="outcome kind (e.g. response, onset, 'adverse event') or words "
                         "from the outcome text")
    add_output_options(ls, ("table", "json", "csv"))
    add_evidence_option(ls)
    ls.set_defaults(run=run_list)

    tr = verbs.add_parser("treatments", help="show the treatment catalogue")
    add_output_options(tr, ("table", "json"))
    tr.set_defaults(run=run_treatments)


def run_validate(args: argparse.Namespace) -> int:
    base = None if args.standalone else load_evidence()
    try:
        rows = read_evidence(args.paths, load_catalogue(), base=base)
    except EvidenceValidationError as exc:
        emit("".join(f"{p}\n" for p in exc.problems), None)
        print(f"error: {len(exc.problems)} problem(s); nothing was loaded", file=sys.stderr)
        return 1
    new = len(rows) - (0 if base is None else len(base))
    emit(f"ok: {new} rows in {len(args.paths)} file(s) are valid\n", None)
    return 0


def _matches(row: EvidenceRow, outcome: str | None) -> bool:
    if outcome is None:
        return True
    want = outcome.strip().lower()
    kinds = {k.value for k in OutcomeKind} | {k.name.lower() for k in OutcomeKind}
    if want in kinds:
        return want in (row.kind.value, row.kind.name.lower())
    return want in row.outcome_text.lower() or want == (row.outcome.effect or "")


def run_list(args: argparse.Namespace) -> int:
    evidence = load_evidence(args.evidence)
    rows = list(evidence)
    if args.treatment:
        t = evidence.catalogue.resolve(args.treatment)
        if t is None:
            raise CatalogueError(f"unknown treatment {args.treatment!r}; see "
                                 "`equipoise evidence treatments`")
        wanted = {t.id, *evidence.catalogue.descendants(t.id)}
        rows = [r for r in rows if r.treatment in wanted]
    rows = [r for r in rows if _matches(r, args.outcome)]
    if args.format == "json":
        text = to_json(evidence_records(rows))
    elif args.format == "csv":
        buf = io.StringIO()
        write_evidence(rows, buf)
        text = buf.getvalue()
    else:
        text = _rows_table(rows)
    emit(text, args.out)
    return 0


def _rows_table(rows: list[EvidenceRow]) -> str:
    out = [f"{'id':<20} {'treatment':<18} {'value':<14} outcome / source", "-" * 100]
    for r in rows:
        ident = r.source.identifiers or r.source.url
        desc = textwrap.wrap(f"{r.outcome_text} ({r.timepoint or 'n/a'}); {r.condition.text}", 45)
        value = r.value.text if len(r.value.text) <= 14 else r.value.text[:13] + "…"
        out.append(f"{r.id:<20} {r.treatment[:18]:<18} {value:<14} {desc[0] if desc else ''}")
        for line in desc[1:]:
            out.append(f"{'':<54} {line}")
        for line in textwrap.wrap(f"{r.source.citation}. {ident}. {r.location}", 45):
            out.append(f"{'':<54} {line}")
    out.append(f"{len(rows)} rows")
    return "\n".join(out) + "\n"


def run_treatments(args: argparse.Namespace) -> int:
    cat = load_catalogue()
    if args.format == "json":
        text = to_json([{
            "id": t.id, "name": t.name, "modality": t.modality, "mechanism": t.mechanism,
            "route": t.route, "drug_or_format": t.drug_or_format,
            "dose_schedule": t.dose_schedule, "dose_schedule_rows": list(t.dose_schedule_rows),
            "parent": t.parent,
            "components": list(t.components), "is_control": t.is_control,
            "supervision": t.supervision,
            "regulatory": None if t.regulatory is None else {
                "status": t.regulatory.status, "rows": list(t.regulatory.rows)},
            "aliases": list(t.aliases)} for t in cat.values()])
    else:
        lines = [f"{'id':<28} {'name':<36} modality", "-" * 100]
        lines += [f"{t.id:<28} {t.name[:36]:<36} {t.modality}" for t in cat.values()]
        text = "\n".join(lines) + "\n"
    emit(text, args.out)
    return 0
