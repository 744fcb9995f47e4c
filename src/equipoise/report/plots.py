"""Synthesis plots: the network graph, network and pairwise forest plots (inline SVG)."""

from __future__ import annotations

import html
import math
from collections import Counter

import numpy as np

from equipoise.evidence.network import TreatmentNetwork
from equipoise.report.svg import ForestRow, forest_plot
from equipoise.synthesis.network_meta import NetworkEstimate
from equipoise.synthesis.results import PooledEffect

_RATIO = ("OR", "RR", "HR")


def network_plot(network: TreatmentNetwork, *, title: str = "Network of treatments") -> str:
    """Treatments on a circle; an edge per directly compared pair, as thick as its study count,
    a node as large as its participants (when known)."""
    names = network.treatments
    edges: Counter[tuple[str, str]] = Counter()
    people: Counter[str] = Counter()
    for sc in network.studies:
        for i, j in sc.pairs():
            a, b = sorted((sc.treatments[i], sc.treatments[j]))
            edges[(a, b)] += 1
        for t, n in zip(sc.treatments, sc.n or (0.0,) * sc.arms, strict=True):
            people[t] += int(n)
    size, r = 560, 220
    cx = cy = size / 2
    pos = {t: (cx + r * math.cos(2 * math.pi * i / len(names) - math.pi / 2),
               cy + r * math.sin(2 * math.pi * i / len(names) - math.pi / 2))
           for i, t in enumerate(names)}
    most = max(edges.values())
    biggest = max(people.values()) or 1
    parts = [f'<svg viewBox="-180 0 {size + 360} {size + 40}" '
             f'width="100%" role="img" aria-label="{html.escape(title)}" '
             'font-family="system-ui, sans-serif">',
             f"<title>{html.escape(title)}</title>"]
    for (a, b), k in sorted(edges.items()):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        width = 1 + 7 * k / most
        parts.append(f'<line class="edge" data-studies="{k}" x1="{x1:.1f}" y1="{y1:.1f}" '
                     f'x2="{x2:.1f}" y2="{y2:.1f}" stroke="#0072b2" stroke-opacity="0.6" '
                     f'stroke-width="{width:.1f}"><title>{html.escape(a)} – {html.escape(b)}: '
                     f'{k} studies</title></line>')
    for t, (x, y) in pos.items():
        radius = 6 + 14 * math.sqrt(people[t] / biggest) if people[t] else 8
        anchor = "start" if x >= cx else "end"
        dx = radius + 4 if x >= cx else -radius - 4
        parts.append(f'<circle class="node" cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" '
                     f'fill="#e69f00" stroke="#333"><title>{html.escape(t)}: {people[t]} '
                     f'participants</title></circle>')
        parts.append(f'<text x="{x + dx:.1f}" y="{y + 4:.1f}" font-size="13" '
                     f'text-anchor="{anchor}">{html.escape(t)}</text>')
    parts.append(f'<text x="{cx}" y="{size + 25}" font-size="12" text-anchor="middle" '
                 'fill="#444">edge width: number of studies; node size: participants</text>')
    return "".join(parts) + "</svg>"


def network_forest(fit: NetworkEstimate, *, log_scale: bool | None = None) -> str:
    """Every treatment against the reference with its interval."""
    log = fit.network.measure in _RATIO if log_scale is None else log_scale
    rows = []
    for t in fit.treatments:
        if t == fit.reference:
            continue
        s = fit.summary(t, fit.reference)
        est, lo, hi = s["estimate"], s["ci_low"], s["ci_high"]
        if log:
            est, lo, hi = float(np.exp(est)), float(np.exp(lo)), float(np.exp(hi))
        rows.append(ForestRow(t, f"vs {fit.reference}", est, lo, hi, fit.model))
    unit = fit.network.measure
    return forest_plot(rows, title=f"{unit}: each treatment vs {fit.reference} ({fit.model} "
                                   "effects)", x_label=unit, null=1.0 if log else 0.0,
                       log_scale=log)


def pairwise_forest(fit: PooledEffect, yi: np.ndarray, vi: np.ndarray, *, measure: str,
                    level_z: float = 1.959963984540054) -> str:
    """Studies and the pooled effect (first analysis of ``fit``)."""
    log = measure in _RATIO

    def tr(x: float) -> float:
        return float(np.exp(x)) if log else float(x)

    labels = fit.study[0] if fit.study else tuple(str(i + 1) for i in range(len(yi)))
    rows = [ForestRow(lab, f"weight {w:.1f}%", tr(y), tr(y - level_z * math.sqrt(v)),
                      tr(y + level_z * math.sqrt(v)), "studies")
            for lab, y, v, w in zip(labels, yi, vi, fit.weights[0], strict=False)]
    rows.append(ForestRow(f"{fit.method} pooled", f"tau² {fit.tau2[0]:.3g}", tr(fit.estimate[0]),
                          tr(fit.ci_low[0, 0]), tr(fit.ci_high[0, 0]), "pooled"))
    return forest_plot(rows, title=f"{measure}: studies and the pooled effect", x_label=measure,
                       null=1.0 if log else 0.0, log_scale=log)


def page(title: str, table: str, figures: list[str]) -> str:
    """A self-contained HTML page: the text results and the figures (no network requests)."""
    figs = "".join(f"<figure>{f}</figure>" for f in figures)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>equipoise — "
            f"{html.escape(title)}</title><style>body{{font-family:system-ui,sans-serif;"
            f"max-width:1000px;margin:auto;padding:1rem}}pre{{background:#f6f6f6;padding:1rem;"
            f"overflow-x:auto}}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<pre>{html.escape(table)}</pre>{figs}</body></html>\n")
