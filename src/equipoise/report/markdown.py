"""Markdown tables: one per dimension, every finding with its row ids and links."""

from __future__ import annotations

from collections.abc import Sequence

from equipoise.comparison.cells import Cell
from equipoise.comparison.claims import ClaimVerdict
from equipoise.comparison.dimensions import BY_ID
from equipoise.comparison.fits import fit_text
from equipoise.comparison.result import DISCLAIMER, Comparison


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _cell(cell: Cell) -> str:
    if cell.empty:
        return f"*{_esc(cell.note)}*"
    parts = []
    if cell.dimension in ("regulatory", "certainty"):
        parts.append(_esc(cell.headline))
    if cell.dimension != "certainty":
        for f in cell.findings:
            head = f"{f.effect}: " if f.effect else ""
            flags = f" *({_esc('; '.join(f.flags))})*" if f.flags else ""
            parts.append(f"{head}{_esc(f.text)} — {_esc(f.context)}{flags}")
    elif cell.certainty is not None:
        parts += [_esc(flag) for flag in cell.certainty.flags]
    parts += [f"≈ {_esc(fit_text(fit))}" for fit in cell.fits]
    if cell.note:
        parts.append(f"**{_esc(cell.note)}**")
    return "<br>".join(parts)


def comparison_markdown(comparison: Comparison) -> str:
    """The comparison as Markdown, one table per dimension."""
    out = [f"# equipoise comparison — condition: {comparison.condition}", "", f"> {DISCLAIMER}", ""]
    for dim in comparison.dimensions:
        d = BY_ID[dim]
        out += [f"## {d.title}", "", f"*{d.question}*", "",
                "| Treatment | Findings | Certainty | Sources |", "|---|---|---|---|"]
        for t in comparison.treatments:
            c = comparison.cell(t.id, dim)
            cert = "" if c.certainty is None else c.certainty.label
            srcs = ", ".join(f"[{s.row_id}]({s.link})" for s in c.sources)
            out.append(f"| {_esc(t.name)} | {_cell(c)} | {cert} | {srcs} |")
        out.append("")
    if comparison.gaps:
        out += ["## Gaps", ""] + [f"- {g}" for g in comparison.gaps] + [""]
    return "\n".join(out)


def claims_markdown(verdicts: Sequence[ClaimVerdict]) -> str:
    """The claims check as a Markdown table."""
    out = ["# Claims check", "", f"> {DISCLAIMER}", "",
           "| Claim | Verdict | Certainty | What the evidence says | Rows |",
           "|---|---|---|---|---|"]
    for v in verdicts:
        rows = ", ".join(f"[{s.row_id}]({s.link})" for s in v.sources)
        out.append(f"| {_esc(v.claim)} | **{v.verdict}** | {v.certainty or 'n/a'} | "
                   f"{_esc(v.summary)} | {rows} |")
    return "\n".join(out) + "\n"
