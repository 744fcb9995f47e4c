"""Small inline SVG charts for the pages (no JavaScript, no external files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape

W, H, PAD = 640, 220, 36
COLOURS = ("#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6d597a")


def _scale(lo: float, hi: float, size: float, flip: bool) -> tuple[float, float]:
    span = (hi - lo) or 1.0
    k = (size - 2 * PAD) / span
    return (-k, size - PAD + lo * k) if flip else (k, PAD - lo * k)


def line_chart(series: Mapping[str, Sequence[tuple[dt.datetime, float]]], *, title: str,
               y_label: str, limits: Sequence[tuple[str, float]] = (),
               y_min: float | None = None, y_max: float | None = None) -> str:
    """Lines over time, with dashed horizontal limit lines; an empty string if no data."""
    points = [p for s in series.values() for p in s]
    if not points:
        return ""
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    values = [v for _, v in points] + [v for _, v in limits]
    lo = min(values) if y_min is None else y_min
    hi = max(values) if y_max is None else y_max
    ax, bx = _scale(t0, t1 if t1 > t0 else t0 + 1, W, False)
    ay, by = _scale(lo, hi, H, True)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" role="img" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
           f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
           'fill="none" stroke="#cfd6e0"/>',
           f'<text x="4" y="14" font-size="12">{escape(y_label)}</text>']
    for name, value in limits:
        y = ay * value + by
        out.append(f'<line x1="{PAD}" x2="{W - PAD}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="#a4161a" stroke-dasharray="4 3"/><text x="{W - PAD + 2}" '
                   f'y="{y + 4:.1f}" font-size="10" fill="#a4161a">{escape(name)}</text>')
    for k, (name, pts) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        xy = [(ax * t.timestamp() + bx, ay * v + by) for t, v in pts]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                   f'points="{path}"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>' for x, y in xy]
        out.append(f'<text x="{PAD + 8 + 110 * k}" y="{H - 8}" font-size="12" '
                   f'fill="{colour}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)


def trajectory_chart(observed: Sequence[tuple[dt.date, float]],
                     band: Sequence[tuple[dt.date, float, float, float]],
                     events: Sequence[tuple[dt.date, str]], *, title: str,
                     y_max: float) -> str:
    """Observed scores over the expected band (low, mean, high by date) with treatment events
    as labelled ticks on the same time axis; an empty string if there is nothing to draw."""
    days = [d for d, _ in observed] + [b[0] for b in band] + [d for d, _ in events]
    if not days:
        return ""
    t0 = min(days).toordinal()
    t1 = max(days).toordinal()
    ax, bx = _scale(t0, t1 if t1 > t0 else t0 + 1, W, False)
    ay, by = _scale(0, y_max, H, True)

    def x(d: dt.date) -> float:
        return ax * d.toordinal() + bx

    def y(v: float) -> float:
        return ay * v + by

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H + 30}" role="img" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
           f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" '
           'fill="none" stroke="#cfd6e0"/>',
           f'<text x="4" y="14" font-size="12">{escape(title)}</text>']
    if band:
        upper = " ".join(f"{x(d):.1f},{y(hi):.1f}" for d, _, _, hi in band)
        lower = " ".join(f"{x(d):.1f},{y(lo):.1f}" for d, lo, _, _ in reversed(band))
        out.append(f'<polygon class="expected-band" points="{upper} {lower}" fill="#a8dadc" '
                   'fill-opacity="0.5" stroke="none"/>')
        mean = " ".join(f"{x(d):.1f},{y(m):.1f}" for d, _, m, _ in band)
        out.append(f'<polyline points="{mean}" fill="none" stroke="#457b9d" '
                   'stroke-dasharray="5 3"/>')
    for d, label in events:
        out.append(f'<line class="event" x1="{x(d):.1f}" x2="{x(d):.1f}" y1="{H - PAD}" '
                   f'y2="{H - PAD + 8}" stroke="#6d597a"><title>{escape(label)} '
                   f'{d.isoformat()}</title></line>')
    if observed:
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in observed)
        out.append(f'<polyline points="{path}" fill="none" stroke="#1d3557" stroke-width="2"/>')
        out += [f'<circle class="observed" cx="{x(d):.1f}" cy="{y(v):.1f}" r="3.5" '
                f'fill="#1d3557"><title>{v:g} on {d.isoformat()}</title></circle>'
                for d, v in observed]
    out.append(f'<text x="{PAD}" y="{H + 20}" font-size="11">shaded: expected band of the '
               'plan; dashed: expected mean; ticks: infusions, dose changes, CBT</text>')
    out.append("</svg>")
    return "".join(out)


Interval = tuple[float, float | None, float | None]        # share, low, high (0-1)


def interval_chart(rows: Sequence[tuple[str, Interval | None, Interval | None]], *,
                   title: str) -> str:
    """One row per group: the observed share (dot, whisker: its interval) above the expected
    share (diamond, whisker: its interval), on a 0-100% axis; empty if there are no rows."""
    if not rows:
        return ""
    left, step = 170, 34
    height = PAD + step * len(rows) + 40
    ax, bx = _scale(0.0, 1.0, W - left + PAD, False)

    def x(v: float) -> float:
        return left - PAD + ax * v + bx

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" role="img" '
           f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
           f'<text x="4" y="14" font-size="12">{escape(title)}</text>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{PAD - 8}" '
                   f'y2="{height - 30}" stroke="#e3e8ef"/><text x="{x(tick) - 10:.1f}" '
                   f'y="{height - 16}" font-size="10">{tick:.0%}</text>')
    for k, (label, observed, expected) in enumerate(rows):
        y0 = PAD + step * k
        out.append(f'<text x="4" y="{y0 + 12}" font-size="11">{escape(label)}</text>')
        for dy, value, kind, colour in ((6, observed, "observed", COLOURS[0]),
                                        (18, expected, "expected", COLOURS[2])):
            if value is None:
                continue
            share, low, high = value
            if low is not None and high is not None:
                out.append(f'<line class="{kind}-interval" x1="{x(low):.1f}" '
                           f'x2="{x(high):.1f}" y1="{y0 + dy}" y2="{y0 + dy}" '
                           f'stroke="{colour}" stroke-width="2"/>')
            text = f"{kind} {share:.0%}" + (f" ({low:.0%}-{high:.0%})"
                                             if low is not None and high is not None else "")
            shape = (f'<circle cx="{x(share):.1f}" cy="{y0 + dy}" r="4"' if kind == "observed"
                     else f'<rect x="{x(share) - 4:.1f}" y="{y0 + dy - 4}" width="8" '
                          f'height="8" transform="rotate(45 {x(share):.1f} {y0 + dy})"')
            out.append(f'{shape} class="{kind}" fill="{colour}"><title>{escape(label)}: '
                       f'{text}</title>{"</circle>" if kind == "observed" else "</rect>"}')
    out.append(f'<text x="{left - PAD}" y="{height - 2}" font-size="11">dot: observed in '
               'the clinic (95% Wilson interval); diamond: expected from the plans</text>')
    out.append("</svg>")
    return "".join(out)
