"""Simulation and cost-effectiveness charts as inline SVG: lines with bands, and a scatter.

Trajectories, state shares over time, the CEAC and the EVPI curve are all `line_chart`s; the
cost-effectiveness plane is a `scatter_chart`. Both follow `report.svg`'s conventions (no
scripts, links or fonts; Okabe-Ito colours; data-* attributes for tests).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from equipoise.report.svg import (
    GRID,
    INK,
    MUTED,
    PALETTE,
    WIDTH,
    _Axis,
    _clip,
    _el,
    _n,
    _nice_ticks,
    _num,
    _svg,
    _text,
    _x_axis,
)

__all__ = ["Line", "Points", "line_chart", "scatter_chart"]

_X0, _X1 = 90.0, 870.0            # plot area, left to right
_PLOT_HEIGHT = 300.0
_ROW = 18.0                       # legend row height


@dataclass(frozen=True, slots=True)
class Line:
    """One series; ``low``/``high`` (same length as ``y``) draw a shaded band around it."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    low: Sequence[float] | None = None
    high: Sequence[float] | None = None
    dashed: bool = False
    colour: str = ""              # default: the palette, by position


@dataclass(frozen=True, slots=True)
class Points:
    """One strategy's cloud of points and its mean point in a scatter chart."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    mean_x: float
    mean_y: float
    colour: str = ""              # default: the palette, by position


@dataclass(frozen=True, slots=True)
class _YAxis:
    lo: float
    hi: float
    top: float
    bottom: float

    def y(self, value: float) -> float:
        return self.bottom - (value - self.lo) / (self.hi - self.lo) * (self.bottom - self.top)


def _range(values: Sequence[float], lo: float | None, hi: float | None) -> list[float]:
    """Round ticks covering ``values`` (and the fixed ends, if given)."""
    finite = [v for v in values if math.isfinite(v)]
    a = min(finite, default=0.0) if lo is None else lo
    b = max(finite, default=1.0) if hi is None else hi
    if b - a < 1e-12 * max(1.0, abs(a), abs(b)):   # a flat series: give it some room
        pad = max(abs(a) * 0.1, 1e-6)
        a, b = (a - pad if lo is None else a), (b + pad if hi is None else b)
        if b <= a:
            b = a + 2 * pad
    return _nice_ticks(a, b)


def _tick(v: float) -> str:
    """Tick text: thousands separated (money axes), otherwise as `report.svg` shows values."""
    return f"{v:,.0f}" if abs(v) >= 1000 else _num(v)


def _y_axis(axis: _YAxis, ticks: Sequence[float], label: str) -> list[str]:
    out = [_el("line", x1=_X0, y1=axis.top, x2=_X0, y2=axis.bottom, stroke=INK)]
    for v in ticks:
        y = axis.y(v)
        out.append(_el("line", x1=_X0, y1=y, x2=_X1, y2=y, stroke=GRID, class_="grid"))
        out.append(_text(_X0 - 6, y + 4, _tick(v), 11, "tick-label", text_anchor="end"))
    mid = (axis.top + axis.bottom) / 2
    out.append(_text(16, mid, label, 12, "axis-label", text_anchor="middle",
                     transform=f"rotate(-90 16 {_n(mid)})"))
    return out


def _legend_rows(entries: Sequence[tuple[str, str]]) -> tuple[list[str], int]:
    """(swatch drawn at y=44, label) entries in as many rows as long labels need."""
    out, x, row = [], 8.0, 0
    for swatch, label in entries:
        text = _clip(label, 80)
        width = 40 + 6.2 * len(text)
        if x > 8 and x + width > WIDTH - 8:
            x, row = 8.0, row + 1
        item = swatch + _text(24, 48, text, 11, "legend-label")
        out.append(f'<g class="legend" transform="translate({_n(x)} {_n(_ROW * row)})">'
                   f"{item}</g>")
        x += width
    return out, row + 1


def _frame(legend: list[tuple[str, str]], xs: Sequence[float],
           ys: Sequence[float], x_label: str, y_label: str, note: str,
           y_lo: float | None, y_hi: float | None) -> tuple[_Axis, _YAxis, list[str], float]:
    """Legend, axes and grid; returns the axes, the body so far and the total height."""
    body, rows = _legend_rows(legend)
    top = 64.0 + _ROW * (rows - 1)
    xt, yt = _range(xs, None, None), _range(ys, y_lo, y_hi)
    ax = _Axis(xt[0], xt[-1], _X0, _X1, False)
    ay = _YAxis(yt[0], yt[-1], top, top + _PLOT_HEIGHT)
    body += _y_axis(ay, yt, y_label)
    body += _x_axis(ax, [(v, _tick(v)) for v in xt], top, ay.bottom, x_label)
    height = ay.bottom + 50
    if note:
        body.append(_text(8, height, note, 11, "chart-note", fill=MUTED))
        height += 14
    return ax, ay, body, height + 10


def _check(x: Sequence[float], *arrays: Sequence[float] | None) -> None:
    for a in arrays:
        if a is not None and len(a) != len(x):
            raise ValueError("every series needs one value per x")
    if not all(math.isfinite(v) for a in (x, *arrays) if a is not None for v in a):
        raise ValueError("chart values must be finite")


def line_chart(lines: Sequence[Line], *, title: str, x_label: str, y_label: str,
               note: str = "", y_min: float | None = None, y_max: float | None = None,
               marker: float | None = None, marker_label: str = "") -> str:
    """Draw lines over a shared x axis, each with an optional shaded band.

    Parameters
    ----------
    lines : Sequence[Line]
        Series in legend order; colours follow the palette.
    title, x_label, y_label : str
        Chart title (also the accessible name) and axis titles.
    note : str
        A line under the chart, e.g. what the band is.
    y_min, y_max : float, optional
        Fixed ends of the y axis (e.g. 0 and 1 for a probability).
    marker : float, optional
        An x value to mark with a dashed vertical line (e.g. the chosen willingness to pay).

    Returns
    -------
    str
        An inline ``<svg>`` element.

    Raises
    ------
    ValueError
        If there are no lines, or a series is ragged or not finite.
    """
    if not lines:
        raise ValueError("line_chart needs at least one line")
    for s in lines:
        _check(s.x, s.y, s.low, s.high)
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(lines)]
    legend = [(_el("line", x1=0, y1=44, x2=18, y2=44, stroke=c, stroke_width=3,
                   stroke_dasharray="5 3" if s.dashed else ""), s.label)
              for s, c in zip(lines, colours, strict=True)]
    xs = [v for s in lines for v in s.x]
    ys = [v for s in lines for a in (s.y, s.low, s.high) if a is not None for v in a]
    ax, ay, body, height = _frame(legend, xs, ys, x_label, y_label, note, y_min, y_max)
    for s, c in zip(lines, colours, strict=True):
        if s.low is not None and s.high is not None:
            upper = [f"{_n(ax.x(x))},{_n(ay.y(h))}" for x, h in zip(s.x, s.high, strict=True)]
            lower = [f"{_n(ax.x(x))},{_n(ay.y(lo))}" for x, lo in zip(s.x, s.low, strict=True)]
            body.append(_el("polygon", class_="band", points=" ".join(upper + lower[::-1]),
                            fill=c, opacity="0.18", data_series=s.label))
        pts = " ".join(f"{_n(ax.x(x))},{_n(ay.y(y))}" for x, y in zip(s.x, s.y, strict=True))
        body.append(_el("polyline", class_="series", points=pts, fill="none", stroke=c,
                        stroke_width=2.2, stroke_dasharray="6 4" if s.dashed else "",
                        data_series=s.label))
    if marker is not None and ax.lo <= marker <= ax.hi:
        mx = ax.x(marker)
        body.append(_el("line", class_="marker-line", x1=mx, y1=ay.top, x2=mx, y2=ay.bottom,
                        stroke=MUTED, stroke_dasharray="4 3", data_x=_n(mx)))
        if marker_label:
            body.append(_text(mx + 4, ay.top + 12, marker_label, 11, "marker-label", fill=MUTED))
    return _svg("line", title, height, body)


def scatter_chart(groups: Sequence[Points], *, title: str, x_label: str, y_label: str,
                  note: str = "", slope: float | None = None, slope_label: str = "") -> str:
    """Draw point clouds with their means, axes through zero and an optional line y = slope·x.

    Used for the cost-effectiveness plane: x the incremental effect, y the incremental cost,
    and ``slope`` a willingness to pay (points below the line are cost-effective at it).

    Raises
    ------
    ValueError
        If there are no groups, or a cloud is ragged or not finite.
    """
    if not groups:
        raise ValueError("scatter_chart needs at least one group of points")
    for g in groups:
        _check(g.x, g.y)
        _check([g.mean_x], [g.mean_y])
    colours = [g.colour or PALETTE[i % len(PALETTE)] for i, g in enumerate(groups)]
    legend = [(_el("circle", cx=9, cy=44, r=5, fill=c), g.label)
              for g, c in zip(groups, colours, strict=True)]
    xs = [0.0, *(v for g in groups for v in (*g.x, g.mean_x))]
    ys = [0.0, *(v for g in groups for v in (*g.y, g.mean_y))]
    ax, ay, body, height = _frame(legend, xs, ys, x_label, y_label, note, None, None)
    x0, y0 = ax.x(0.0), ay.y(0.0)
    body.append(_el("line", class_="zero", x1=x0, y1=ay.top, x2=x0, y2=ay.bottom, stroke=INK,
                    stroke_dasharray="3 3"))
    body.append(_el("line", class_="zero", x1=_X0, y1=y0, x2=_X1, y2=y0, stroke=INK,
                    stroke_dasharray="3 3"))
    if slope is not None:
        body += _slope_line(ax, ay, slope, slope_label)
    for g, c in zip(groups, colours, strict=True):
        body += [_el("circle", class_="draw", cx=ax.x(x), cy=ay.y(y), r=2.2, fill=c,
                     opacity="0.35", data_series=g.label) for x, y in zip(g.x, g.y, strict=True)]
    for g, c in zip(groups, colours, strict=True):
        body.append(_el("circle", class_="mean", cx=ax.x(g.mean_x), cy=ay.y(g.mean_y), r=6,
                        fill=c, stroke=INK, stroke_width=1.5, data_series=g.label,
                        data_x=repr(g.mean_x), data_y=repr(g.mean_y)))
    return _svg("scatter", title, height, body)


def _slope_line(ax: _Axis, ay: _YAxis, slope: float, label: str) -> list[str]:
    """The part of y = slope·x inside the plot area."""
    pts = []
    for x in (ax.lo, ax.hi):
        y = slope * x
        if y > ay.hi or y < ay.lo:
            y = ay.hi if y > ay.hi else ay.lo
            x = y / slope if slope else x
        pts.append((x, y))
    (xa, ya), (xb, yb) = pts
    out = [_el("line", class_="wtp-line", x1=ax.x(xa), y1=ay.y(ya), x2=ax.x(xb), y2=ay.y(yb),
               stroke=MUTED, stroke_dasharray="6 4")]
    if label:
        out.append(_text(ax.x(xb) - 4, ay.y(yb) + (14 if yb >= ay.hi else -6), label, 11,
                         "wtp-label", fill=MUTED, text_anchor="end"))
    return out

