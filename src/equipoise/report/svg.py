"""Self-contained inline SVG charts for the offline HTML report.

Each function returns one ``<svg>`` string with no scripts, links, images or web fonts.
The ``xmlns`` attribute is left out on purpose: the HTML parser supplies the SVG namespace
for inline ``<svg>``, so the markup holds no URL at all.
"""

from __future__ import annotations

import html
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Bar", "BarGroup", "ForestRow", "TimelineItem", "bar_chart", "forest_plot",
           "timeline_plot"]

WIDTH = 900
FONT = "system-ui, sans-serif"
# Okabe-Ito colour-blind-safe palette; yellow left out as too pale on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
INK, MUTED, GRID = "#222222", "#555555", "#dddddd"
_BAD_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class ForestRow:
    """One estimate with its confidence interval in a forest plot."""

    label: str
    detail: str
    estimate: float
    low: float | None
    high: float | None
    group: str


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One time-course finding (onset, duration, relapse or effect) on a track."""

    track: str
    kind: str
    start_hours: float
    end_hours: float
    text: str


@dataclass(frozen=True, slots=True)
class Bar:
    """One treatment-arm percentage, optionally paired with a control-arm percentage."""

    label: str
    value: float
    comparator: float | None
    note: str


@dataclass(frozen=True, slots=True)
class BarGroup:
    """Bars shown together under one bold heading."""

    title: str
    bars: tuple[Bar, ...]


@dataclass(frozen=True, slots=True)
class _Axis:
    """Map data values to x; ``lo`` and ``hi`` are in log10 units when ``log``."""

    lo: float
    hi: float
    x0: float
    x1: float
    log: bool

    def x(self, value: float) -> float:
        t = math.log10(value) if self.log else value
        return self.x0 + (t - self.lo) / (self.hi - self.lo) * (self.x1 - self.x0)


def _esc(text: str) -> str:
    return html.escape(_BAD_XML.sub("", text), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _n(v: float) -> str:
    """A coordinate with at most two decimals."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _num(v: float) -> str:
    """A data value for display."""
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.2f}" if abs(v) >= 0.1 or v == 0 else f"{v:.2g}"


def _el(tag: str, text: str | None = None, **attrs: float | str) -> str:
    """One escaped element; ``data_x`` gives ``data-x``, ``class_`` gives ``class``."""
    a = "".join(
        f' {k.rstrip("_").replace("_", "-")}="{_esc(v) if isinstance(v, str) else _n(v)}"'
        for k, v in attrs.items()
        if v != ""
    )
    return f"<{tag}{a}/>" if text is None else f"<{tag}{a}>{_esc(text)}</{tag}>"


def _text(x: float, y: float, text: str, size: float = 12, cls: str = "", **kw: str) -> str:
    return _el("text", text, x=x, y=y, font_size=size, fill=kw.pop("fill", INK), class_=cls, **kw)


def _svg(kind: str, title: str, height: float, body: list[str]) -> str:
    t = _esc(title)
    head = (
        f'<svg class="eq-chart eq-{kind}" viewBox="0 0 {WIDTH} {_n(height)}" width="100%" '
        f'role="img" aria-label="{t}" font-family="{FONT}" preserveAspectRatio="xMidYMin meet">'
    )
    heading = _text(8, 22, _clip(title, 105), 15, "chart-title", font_weight="bold")
    return "\n".join([head, f"<title>{t}</title>", heading, *body, "</svg>"])


def _legend(entries: Sequence[tuple[str, str]], y: float) -> list[str]:
    """One row of (swatch centred at x=9, label) entries."""
    out, x = [], 8.0
    for swatch, label in entries:
        item = swatch + _text(24, y + 4, label, 11, "legend-label")
        out.append(f'<g class="legend" transform="translate({_n(x)} 0)">{item}</g>')
        x += 40 + 6.2 * len(label)
    return out


def _x_axis(axis: _Axis, ticks: Sequence[tuple[float, str]], top: float, y: float,
            label: str) -> list[str]:
    """Grid lines, axis line, labelled ticks and the axis title."""
    out = [_el("line", x1=axis.x0, y1=y, x2=axis.x1, y2=y, stroke=INK)]
    for value, text in ticks:
        x = axis.x(value)
        out.append(_el("line", x1=x, y1=top, x2=x, y2=y, stroke=GRID, class_="grid"))
        out.append(_el("line", x1=x, y1=y, x2=x, y2=y + 5, stroke=INK, class_="tick",
                       data_value=repr(value), data_x=_n(x)))
        out.append(_text(x, y + 18, text, 11, "tick-label", text_anchor="middle"))
    mid = (axis.x0 + axis.x1) / 2
    return [*out, _text(mid, y + 36, label, 12, "axis-label", text_anchor="middle")]


def _heading(y: float, text: str) -> str:
    return _text(8, y + 17, _clip(text, 60), 13, "group-heading", font_weight="bold")


def _nice_ticks(lo: float, hi: float) -> list[float]:
    """4-8 evenly spaced round ticks covering ``[lo, hi]``."""
    base = 10.0 ** math.floor(math.log10((hi - lo) / 8))
    for m in (1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        step = base * m
        a, b = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        if b - a + 1 <= 8:
            return [float(f"{k * step:.15g}") + 0.0 for k in range(a, b + 1)]
    raise AssertionError("unreachable")  # pragma: no cover


def _log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks covering ``[lo, hi]``, or sparser powers of ten: at most 8."""
    ladders = [((1, 2, 5), 1), *(((1,), j) for j in range(1, 400))]
    for mants, j in ladders:
        k0, k1 = math.floor(math.log10(lo) / j) - 1, math.ceil(math.log10(hi) / j) + 1
        cands = [float(f"{m}e{k * j}") for k in range(k0, k1 + 1) for m in mants]
        a = max(c for c in cands if c <= lo * (1 + 1e-9))
        b = min(c for c in cands if c >= hi * (1 - 1e-9) and c > a)
        ticks = [c for c in cands if a <= c <= b]
        if len(ticks) <= 8:
            return ticks
    raise AssertionError("unreachable")  # pragma: no cover


def _forest_axis(rows: Sequence[ForestRow], null: float, log: bool) -> tuple[_Axis, list[float]]:
    """Axis spanning null and every estimate; very long whiskers are left to be clipped."""
    def t(v: float) -> float:
        return math.log10(v) if log else v

    core = [t(null), *(t(r.estimate) for r in rows)]
    ends = [t(v) for r in rows for v in (r.low, r.high) if v is not None]
    widths = [t(r.high) - t(r.low) for r in rows if r.low is not None and r.high is not None]
    c_lo, c_hi = min(core), max(core)
    reach = max(c_hi - c_lo, statistics.median(widths) if widths else 0.0)
    if reach < 1e-12:  # one point and no intervals: pick a sensible width
        reach = 0.3 if log else max(abs(c_hi) * 0.5, 1.0)
    reach = max(reach, 1e-9 * max(abs(c_lo), abs(c_hi)))  # stay above float resolution
    lo, hi = max(min(core + ends), c_lo - reach), min(max(core + ends), c_hi + reach)
    if hi - lo < reach * 0.05:
        lo, hi = lo - reach / 2, hi + reach / 2
    if log:
        ticks = _log_ticks(10.0**lo, 10.0**hi)
        return _Axis(math.log10(ticks[0]), math.log10(ticks[-1]), 352, 722, True), ticks
    ticks = _nice_ticks(lo, hi)
    return _Axis(ticks[0], ticks[-1], 352, 722, False), ticks


def _whiskers(axis: _Axis, row: ForestRow, cy: float, colour: str) -> list[str]:
    out: list[str] = []
    ex = axis.x(row.estimate)
    for bound, side in ((row.low, -1), (row.high, 1)):
        if bound is None:
            continue
        raw = axis.x(bound)
        bx = min(max(raw, axis.x0), axis.x1)
        out.append(_el("line", x1=ex, y1=cy, x2=bx, y2=cy, stroke=colour, stroke_width=1.6,
                       class_="ci"))
        if abs(raw - bx) > 0.5:  # off-axis: clip with an arrowhead
            back = _n(bx - 7 * side)
            pts = f"{_n(bx)},{_n(cy)} {back},{_n(cy - 4)} {back},{_n(cy + 4)}"
            out.append(_el("polygon", class_="clip-arrow", points=pts, fill=colour))
    return out


def _ci_text(row: ForestRow) -> str:
    """``est (low to high)``; a missing bound shows as ``?``."""
    low, high = ("?" if v is None else _num(v) for v in (row.low, row.high))
    ci = "" if row.low is None and row.high is None else f" ({low} to {high})"
    return _num(row.estimate) + ci


def forest_plot(rows: Sequence[ForestRow], *, title: str, x_label: str, null: float = 0.0,
                log_scale: bool = False) -> str:
    """Draw a forest plot of estimates with confidence intervals.

    Parameters
    ----------
    rows : Sequence[ForestRow]
        Rows in display order; a bold heading starts each run of one non-empty ``group``.
    title : str
        Chart title, also the accessible name.
    x_label : str
        Axis title.
    null : float
        Value of no effect, drawn as a dashed vertical line.
    log_scale : bool
        Use a log10 axis (for ratios); ``null`` must then be positive, e.g. 1.0.

    Returns
    -------
    str
        An inline ``<svg>`` element.

    Raises
    ------
    ValueError
        If ``rows`` is empty, a value is not finite, a low bound exceeds its high bound,
        or ``log_scale`` is set and any value (``null`` included) is not positive.
    """
    if not rows:
        raise ValueError("forest_plot needs at least one row")
    values = [null, *(v for r in rows for v in (r.estimate, r.low, r.high) if v is not None)]
    if not all(math.isfinite(v) for v in values):
        raise ValueError("forest_plot values must be finite")
    if log_scale and min(values) <= 0:
        raise ValueError("log_scale needs positive estimates, bounds and null")
    if any(r.low is not None and r.high is not None and r.low > r.high for r in rows):
        raise ValueError("a forest row has low > high")
    axis, ticks = _forest_axis(rows, null, log_scale)
    colours: dict[str, str] = {}
    body: list[str] = []
    top = y = 40.0
    prev: str | None = None
    for r in rows:
        if r.group != prev and r.group:
            body.append(_heading(y, r.group))
            y += 24
        prev, cy = r.group, y + 15
        c = colours.setdefault(r.group, PALETTE[len(colours) % len(PALETTE)])
        body.append(_text(16, cy - 1, _clip(r.label, 46), 13, "row-label"))
        body.append(_text(16, cy + 12, _clip(r.detail, 58), 10.5, "row-detail", fill=MUTED))
        body += _whiskers(axis, r, cy, c)
        mx = axis.x(r.estimate)
        body.append(_el("rect", class_="marker", x=mx - 4.5, y=cy - 4.5, width=9, height=9,
                        fill=c, data_estimate=repr(r.estimate), data_x=_n(mx),
                        data_group=r.group))
        body.append(_text(axis.x1 + 14, cy + 4, _ci_text(r), 12, "row-value"))
        y += 34
    body += _x_axis(axis, [(v, f"{v:g}") for v in ticks], top, y + 6, x_label)
    nx = axis.x(null)
    body.append(_el("line", x1=nx, y1=top, x2=nx, y2=y + 6, stroke=MUTED, stroke_dasharray="4 3",
                    class_="null-line", data_x=_n(nx)))
    return _svg("forest", title, y + 56, body)


_KINDS = {"onset": "#0072B2", "duration": "#009E73", "relapse": "#D55E00", "effect": "#CC79A7"}
_TIME_TICKS = ((1.0, "1 h"), (6.0, "6 h"), (24.0, "1 day"), (168.0, "1 week"),
               (730.5, "1 month"), (2191.5, "3 months"), (8766.0, "1 year"))
_T_MIN, _T_MAX, _SUB = 0.5, 8766.0, 18.0  # axis range in hours; sub-row height


def _shape(kind: str, cx: float, cy: float, colour: str, **attrs: str) -> str:
    if kind == "duration":
        return _el("rect", x=cx - 9, y=cy - 4, width=18, height=8, fill=colour, **attrs)
    if kind == "relapse":
        pts = " ".join(f"{_n(cx + dx)},{_n(cy + dy)}" for dx, dy in
                       ((0, -6), (6, 0), (0, 6), (-6, 0)))
        return _el("polygon", points=pts, fill=colour, **attrs)
    if kind == "effect":
        return _el("rect", x=cx - 4, y=cy - 4, width=8, height=8, fill=colour, **attrs)
    return _el("circle", cx=cx, cy=cy, r=5, fill=colour, **attrs)


def timeline_plot(items: Sequence[TimelineItem], *, title: str) -> str:
    """Draw onset, duration, relapse and effect findings on a log time axis.

    Parameters
    ----------
    items : Sequence[TimelineItem]
        Findings; one track per distinct ``track`` in first-appearance order.
    title : str
        Chart title, also the accessible name.

    Returns
    -------
    str
        An inline ``<svg>`` element; the axis runs from 0.5 h to 1 year, and values
        outside that range are clamped to its edges.

    Raises
    ------
    ValueError
        If ``items`` is empty, a kind is unknown, hours are negative or not finite,
        or ``end_hours < start_hours``.
    """
    if not items:
        raise ValueError("timeline_plot needs at least one item")
    for it in items:
        if it.kind not in _KINDS:
            raise ValueError(f"unknown timeline kind {it.kind!r}")
        if not 0 <= it.start_hours <= it.end_hours < math.inf:
            raise ValueError("timeline hours must satisfy 0 <= start_hours <= end_hours < inf")
    axis = _Axis(math.log10(_T_MIN), math.log10(_T_MAX), 190, 670, True)

    def hx(hours: float) -> float:
        return axis.x(min(max(hours, _T_MIN), _T_MAX))

    # Pack each item's extent (marker plus text) into the first sub-row it fits.
    subs: dict[str, list[list[tuple[float, float]]]] = {}
    layout: list[tuple[TimelineItem, int, float, str]] = []
    for it in items:
        xs, xe = hx(it.start_hours), hx(it.end_hours)
        left = xs if it.kind == "duration" or (it.kind == "onset" and xe > xs) else xe - 6
        right = max(xe, xs + 2) if it.kind == "duration" else xe + 6
        w = 5.6 * len(_clip(it.text, 40))
        if right + 6 + w <= WIDTH - 4:
            tx, anchor, right = right + 6, "start", right + 6 + w
        else:  # no room on the right: put the text before the item
            tx, anchor, left = left - 6, "end", left - 6 - w
        rows = subs.setdefault(it.track, [])
        k = next((i for i, row in enumerate(rows)
                  if all(right + 4 < a or left - 4 > b for a, b in row)), len(rows))
        if k == len(rows):
            rows.append([])
        rows[k].append((left, right))
        layout.append((it, k, tx, anchor))
    body = _legend([(_shape(k, 9, 44, c, class_="legend-swatch"), k) for k, c in _KINDS.items()],
                   44)
    top = y = 60.0
    track_y: dict[str, float] = {}
    for i, (track, rows) in enumerate(subs.items()):
        h = 12 + _SUB * len(rows)
        if i % 2:
            body.append(_el("rect", class_="track-band", x=0, y=y, width=WIDTH, height=h,
                            fill="#f5f5f5"))
        body.append(_text(8, y + 19, _clip(track, 26), 12, "track-label"))
        track_y[track] = y
        y += h
    body += _x_axis(axis, _TIME_TICKS, top, y + 4, "time since administration (log scale)")
    for it, k, tx, anchor in layout:
        cy, c = track_y[it.track] + 6 + _SUB * k + _SUB / 2, _KINDS[it.kind]
        xs, xe = hx(it.start_hours), hx(it.end_hours)
        data = {"class_": f"item item-{it.kind}", "data_kind": it.kind, "data_x": _n(xe),
                "data_hours": repr(it.end_hours), "data_track": it.track}
        if it.kind == "duration":
            body.append(_el("rect", x=xs, y=cy - 4, width=max(xe - xs, 2), height=8, rx=2,
                            fill=c, **data))
        else:
            if it.kind == "onset" and xe > xs:
                body.append(_el("rect", class_="onset-window", x=xs, y=cy - 3, width=xe - xs,
                                height=6, fill=c, opacity="0.3"))
            body.append(_shape(it.kind, xe, cy, c, **data))
        body.append(_text(tx, cy + 3.5, _clip(it.text, 40), 10, "item-text", fill=MUTED,
                          text_anchor=anchor))
    return _svg("timeline", title, y + 54, body)


def bar_chart(groups: Sequence[BarGroup], *, title: str, x_label: str = "% of patients") -> str:
    """Draw grouped horizontal percentage bars with optional control-arm bars.

    Parameters
    ----------
    groups : Sequence[BarGroup]
        Groups in display order, each under a bold heading.
    title : str
        Chart title, also the accessible name.
    x_label : str
        Axis title.

    Returns
    -------
    str
        An inline ``<svg>`` element; the axis runs from 0 to 100.

    Raises
    ------
    ValueError
        If there are no bars, or a value or comparator is outside 0-100.
    """
    bars = [b for g in groups for b in g.bars]
    if not bars:
        raise ValueError("bar_chart needs at least one bar")
    if not all(0 <= v <= 100 for b in bars for v in (b.value, b.comparator) if v is not None):
        raise ValueError("bar values and comparators must be within 0-100")
    axis = _Axis(0, 100, 260, 800, False)
    treat, ctrl, white = PALETTE[0], MUTED, "#ffffff"
    legend = [(_el("rect", x=0, y=39, width=18, height=10, fill=treat), "treatment arm")]
    if any(b.comparator is not None for b in bars):
        ctrl_swatch = _el("rect", x=0, y=41, width=18, height=6, fill=white, stroke=ctrl)
        legend.append((ctrl_swatch, "control arm"))
    body = _legend(legend, 44)
    top = y = 58.0
    for g in groups:
        body.append(_heading(y, g.title))
        y += 24
        for b in g.bars:
            w = axis.x(b.value) - axis.x0
            body.append(_text(16, y + 15, _clip(b.label, 34), 13, "bar-label"))
            body.append(_text(16, y + 28, _clip(b.note, 44), 10, "bar-note", fill=MUTED))
            body.append(_el("rect", class_="bar", x=axis.x0, y=y + 4, width=w, height=14,
                            fill=treat, data_value=repr(b.value)))
            body.append(_text(axis.x0 + w + 6, y + 15, f"{b.value:.1f}%", 11, "bar-value"))
            if b.comparator is not None:
                cw = axis.x(b.comparator) - axis.x0
                body.append(_el("rect", class_="comparator", x=axis.x0, y=y + 21, width=cw,
                                height=6, fill=white, stroke=ctrl,
                                data_value=repr(b.comparator)))
                body.append(_text(axis.x0 + cw + 6, y + 27, f"{b.comparator:.1f}%", 9.5,
                                  "comparator-value", fill=MUTED))
            y += 34
    ticks = [(float(v), str(v)) for v in range(0, 101, 20)]
    body += _x_axis(axis, ticks, top, y + 6, x_label)
    return _svg("bars", title, y + 56, body)
