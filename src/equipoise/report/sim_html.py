"""Printable, self-contained HTML for simulation and cost-effectiveness summaries.

Tables, inline SVG plots (trajectories with bands, state shares over time, CE plane, CEAC with
its frontier, EVPI), the flagged assumptions and the sources; no scripts or network requests.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from equipoise.report.sim_plots import Line, Points, line_chart, scatter_chart
from equipoise.report.sim_text import (
    cycle_text,
    header,
    incremental_table,
    outcomes_table,
    uncertainty_lines,
)
from equipoise.report.svg import INK, PALETTE

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1000px;margin:auto;padding:1rem;color:#1b1b1b}
h2{margin-top:2rem;border-bottom:2px solid #ddd}pre{background:#f6f6f6;padding:.8rem;
overflow-x:auto;font-size:.8rem}.disclaimer{background:#fff4e5;border-left:4px solid #e69f00;
padding:.6rem .9rem}.assumption{background:#fff8e1;border-left:4px solid #d55e00;
padding:.3rem .6rem;margin:.4rem 0;list-style:none}figure{margin:1.2rem 0}
figcaption{font-size:.85rem;color:#444}
@media print{figure,pre,li{break-inside:avoid}body{max-width:none}}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _band_note(d: Mapping[str, Any]) -> str:
    st = d["settings"]
    if st["draws"] > 1:
        return (f"Line: mean over {st['draws']} parameter draws; shaded band: 2.5th to 97.5th "
                "percentile over those draws of the mean per cycle.")
    who = ("the exact cohort" if st["method"] == "cohort"
           else f"the mean of {st['patients']:,} simulated patients")
    return f"Line: {who} at one parameter draw, so no band (run with --draws for one)."


def _colours(d: Mapping[str, Any]) -> dict[str, str]:
    """One colour per strategy, the same in every chart."""
    return {s["id"]: PALETTE[i % len(PALETTE)] for i, s in enumerate(d["strategies"])}


def _lines(item: Mapping[str, Any], labels: Mapping[str, str], scale: float,
           colours: Mapping[str, str]) -> list[Line]:
    out = []
    for sid, band in item["strategies"].items():
        def scaled(v: list[float] | None) -> list[float] | None:
            return None if v is None else [x * scale for x in v]
        mean = scaled(band["mean"]) or []
        out.append(Line(labels.get(sid, sid), list(range(len(mean))), mean,
                        scaled(band["low"]), scaled(band["high"]), colour=colours.get(sid, "")))
    return out


def _time_figures(d: Mapping[str, Any]) -> list[tuple[str, str]]:
    labels = {s["id"]: s["label"] for s in d["strategies"]}
    x_label = f"time in cycles (1 cycle = {cycle_text(d['settings'])})"
    note = _band_note(d)
    colours = _colours(d)
    figs = []
    for t in d["trajectories"]:
        figs.append((line_chart(_lines(t, labels, 1.0, colours),
                                title=f"{t['reward']} over time",
                                x_label=x_label, y_label=f"mean {t['reward']} (undiscounted)",
                                note=note),
                     f"Mean {t['reward']} per cycle by strategy. {note}"))
    for g in d["groups"]:
        states = ", ".join(g["states"])
        figs.append((line_chart(_lines(g, labels, 100.0, colours),
                                title=f"% of patients: {g['name']}",
                                x_label=x_label, y_label="% of patients", note=note,
                                y_min=0.0, y_max=100.0),
                     f"Share of patients in {g['name']} ({states}) at each cycle. {note}"))
    return figs


def _ce_figures(d: Mapping[str, Any]) -> list[tuple[str, str]]:
    strategies = d["strategies"]
    currency, effect = d["settings"]["currency"], d["measures"]["effect"]
    nb = d["net_benefit"]
    wtp = None if nb is None else float(nb["wtp"])
    colours = _colours(d)
    figs = []
    if len(strategies) > 1:
        ref = min(strategies, key=lambda s: s["costs"]["mean"])
        rc, re = ref["costs"]["per_draw"], ref["effects"]["per_draw"]
        groups = [Points(s["label"],
                         [e - r for e, r in zip(s["effects"]["per_draw"], re, strict=True)],
                         [c - r for c, r in zip(s["costs"]["per_draw"], rc, strict=True)],
                         s["effects"]["mean"] - ref["effects"]["mean"],
                         s["costs"]["mean"] - ref["costs"]["mean"], colour=colours[s["id"]])
                  for s in strategies if s is not ref]
        note = (f"Small dots: one per parameter draw; large dots: means. Against "
                f"{ref['label']} (lowest mean cost).")
        figs.append((scatter_chart(groups, title="Cost-effectiveness plane",
                                   x_label=f"incremental effect ({effect})",
                                   y_label=f"incremental cost ({currency})", note=note,
                                   slope=wtp, slope_label="" if wtp is None
                                   else f"{wtp:,.0f} {currency} per {effect}"),
                     f"Incremental cost against incremental effect of each strategy versus "
                     f"{ref['label']}. {note}"))
    ceac, evpi = d["ceac"], d["evpi"]
    if ceac is not None and evpi is not None:
        w = ceac["wtp"]
        lines = [Line(s["label"], w, ceac["probability"][s["id"]], colour=colours[s["id"]])
                 for s in strategies]
        frontier = [ceac["probability"][o][i] for i, o in enumerate(ceac["optimal"])]
        lines.append(Line("frontier (highest expected net benefit)", w, frontier, dashed=True,
                          colour=INK))
        x_label = f"willingness to pay ({currency} per {effect})"
        figs.append((line_chart(lines, title="Cost-effectiveness acceptability curves",
                                x_label=x_label, y_label="probability cost-effective",
                                y_min=0.0, y_max=1.0, marker=wtp),
                     "Probability that each strategy has the highest net benefit, over the "
                     "parameter draws; the dashed frontier follows the strategy with the highest "
                     "expected net benefit."))
        figs.append((line_chart([Line("EVPI", w, evpi["per_person"], colour=INK)],
                                title="Expected value of perfect information",
                                x_label=x_label, y_label=f"EVPI per person ({currency})",
                                marker=wtp),
                     "Expected value of perfect information per person: what removing all "
                     "parameter uncertainty would be worth."))
    return figs


def _notes(d: Mapping[str, Any]) -> str:
    items = "".join(
        f"<li class='assumption'><strong>{_e(a['name'])} = {_e(a['value'])}</strong>: "
        f"{_e(a['reason'])}{' <em>To change:</em> ' + _e(a['change']) if a['change'] else ''}"
        "</li>" for a in d["assumptions"]) or "<li>none declared by the input</li>"
    cites = "".join(
        f"<li>{_e(c['name'])} = {_e(c['value'])}: {_e(c['source'])}"
        f"{' (' + _e(c['where']) + ')' if c['where'] else ''}</li>"
        for c in d["citations"]) or "<li>none declared by the input</li>"
    return (f"<h2 id='assumptions'>Assumptions (not from evidence)</h2><p>These values were "
            f"chosen by the model's authors, not taken from evidence; check them before relying "
            f"on the results.</p><ul>{items}</ul><h2>Citations</h2><ul>{cites}</ul>")


def _pointer(n: int) -> str:
    if n == 0:
        return ("<p>The input lists no assumptions (values not taken from evidence); check its "
                "parameters before relying on the results.</p>")
    return (f"<p class='disclaimer'><a href='#assumptions'>{n} value(s) are assumptions, not "
            f"evidence</a>: see the list below.</p>")


def report_html(d: Mapping[str, Any], *, verb: str) -> str:
    """A printable page for a ``simulate`` (``verb="simulate"``) or ``cea`` summary."""
    figs = (_time_figures(d) if verb == "simulate" else []) + _ce_figures(d)
    figures = "".join(f"<figure>{svg}<figcaption>{_e(cap)}</figcaption></figure>"
                      for svg, cap in figs)
    tables = "\n".join([*header(d, verb), *outcomes_table(d), *incremental_table(d),
                        *uncertainty_lines(d)])
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>equipoise "
            f"{_e(verb)} — {_e(d['title'])}</title><style>{_CSS}</style></head><body>"
            f"<h1>{_e(d['title'])}</h1><p class='disclaimer'>{_e(d['disclaimer'])}</p>"
            f"{_pointer(len(d['assumptions']))}<h2>Results</h2><pre>{_e(tables)}</pre>"
            f"<h2>Plots</h2>{figures or '<p>No plots for this run.</p>'}{_notes(d)}"
            f"</body></html>\n")
