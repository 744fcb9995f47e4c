"""Plain-text tables that fit a 100-column terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from equipoise.comparison.cells import Cell, Certainty
from equipoise.comparison.claims import ClaimVerdict
from equipoise.comparison.dimensions import BY_ID
from equipoise.comparison.fits import fit_text
from equipoise.comparison.result import DISCLAIMER, Comparison

WIDTH = 100
_NAME = 22
_CERT = 9
_BODY = WIDTH - _NAME - _CERT - 2


def size_text(c: Certainty) -> str:
    """ "2 sources (90 trials), 25,441 participants; meta-analysis, randomised trial"."""
    sources = f"{c.k_studies} source{'s' if c.k_studies != 1 else ''}"
    trials = f" ({c.trials} trials)" if c.trials and c.trials != c.k_studies else ""
    people = ("participants not reported by every source" if c.n_participants is None
              else f"{c.n_participants:,} participants")
    return f"{sources}{trials}, {people}; {', '.join(c.designs)}"


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _cell_lines(cell: Cell, limit: int) -> list[str]:
    """Lines for one cell: findings with their row ids, extras and the gap note."""
    if cell.empty:
        return _wrap(f"— {cell.note}", _BODY)
    body: list[str] = []
    shown = cell.findings[:limit]
    if cell.dimension == "regulatory":
        body += _wrap(cell.headline, _BODY)
    if cell.dimension == "certainty" and cell.certainty is not None:
        body += _wrap(size_text(cell.certainty), _BODY)
        c = cell.certainty
        for flag in c.flags:
            body += _wrap(f"· {flag}", _BODY)
        shown = ()
    for f in shown:
        head = f"{f.effect}: " if f.effect else ""
        flags = f" [{'; '.join(f.flags)}]" if f.flags else ""
        ids = ", ".join(src.row_id for src in f.sources)
        body += _wrap(f"• {head}{f.text} — {f.context}{flags} [{ids}]"
                      .replace(", —", " —"), _BODY)
    more = len(cell.findings) - len(shown)
    if more > 0 and cell.dimension != "certainty":
        body.append(f"  (+{more} more; --format json for all)")
    for key, value in cell.extra:
        if key != "status":
            body += _wrap(f"{key}: {value}", _BODY)
    for fit in cell.fits:
        body += _wrap(f"≈ {fit_text(fit)}", _BODY)
    if cell.dimension in ("regulatory", "certainty"):
        body += _wrap("rows: " + ", ".join(src.row_id for src in cell.sources), _BODY)
    if cell.note:
        body += _wrap(f"! {cell.note}", _BODY)
    return body


def comparison_table(comparison: Comparison, *, findings_per_cell: int = 2) -> str:
    """One section per dimension; rows are treatments; every finding names its row ids."""
    out = [f"equipoise compare — condition: {comparison.condition}",
           *textwrap.wrap(DISCLAIMER, WIDTH), ""]
    rule = "-" * WIDTH
    for dim in comparison.dimensions:
        d = BY_ID[dim]
        out += [rule, f"{d.title.upper()} — {d.question}"[:WIDTH], rule]
        out.append(f"{'treatment':<{_NAME}} {'certainty':<{_CERT}} findings [evidence row ids]")
        for t in comparison.treatments:
            cell = comparison.cell(t.id, dim)
            body = _cell_lines(cell, findings_per_cell)
            cert = "" if cell.certainty is None else cell.certainty.label
            names = _wrap(t.name, _NAME)
            for i in range(max(len(body), len(names))):
                out.append(
                    f"{names[i] if i < len(names) else '':<{_NAME}} "
                    f"{cert if i == 0 else '':<{_CERT}} "
                    f"{body[i] if i < len(body) else ''}".rstrip())
        out.append("")
    if comparison.gaps:
        out += [rule, "GAPS — what the evidence base does not contain", rule]
        for g in comparison.gaps:
            out += _wrap(f"• {g}", WIDTH)
    out += ["", "Sources: `equipoise evidence list --format table` shows each row id's citation,",
            "DOI/PMID and location; `--format json` carries them in every cell."]
    return "\n".join(out) + "\n"


def claims_table(verdicts: Sequence[ClaimVerdict]) -> str:
    """Each claim, its verdict and certainty, the summary, and the rows it rests on."""
    out = ["equipoise claims — the seed article's claims against the evidence base",
           *textwrap.wrap(DISCLAIMER, WIDTH), ""]
    for v in verdicts:
        out.append("-" * WIDTH)
        out += _wrap(f"CLAIM: {v.claim}", WIDTH)
        out.append(f"VERDICT: {v.verdict.upper()}   certainty: {v.certainty or 'n/a'}")
        out += ["  " + line for line in _wrap(v.summary, WIDTH - 2)]
        out += ["  rows: " + line for line in _wrap(", ".join(v.rows), WIDTH - 8)]
    return "\n".join(out) + "\n"
