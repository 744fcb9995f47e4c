"""Behaviour of the inline SVG charts used by the offline HTML report."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equipoise.report.svg import (
    Bar,
    BarGroup,
    ForestRow,
    TimelineItem,
    bar_chart,
    forest_plot,
    timeline_plot,
)

SETTINGS = settings(max_examples=60, deadline=None, database=None)
NASTY = '<b>"Q&A"</b> \'x\''


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "svg"
    return root


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def num(e: ET.Element, attr: str) -> float:
    value = e.get(attr)
    assert value is not None, f"{e.tag} lacks {attr}"
    return float(value)


def height(root: ET.Element) -> float:
    return float(root.get("viewBox", "").split()[3])


def centre_y(e: ET.Element) -> float:
    if e.tag == "circle":
        return num(e, "cy")
    if e.tag == "rect":
        return num(e, "y") + num(e, "height") / 2
    ys = [float(p.split(",")[1]) for p in (e.get("points") or "").split()]
    return sum(ys) / len(ys)


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter("text")]


def row(est: float, low: float | None = None, high: float | None = None, group: str = "g",
        label: str = "row") -> ForestRow:
    return ForestRow(label, "MD, HAM-A, GAD · SSRI-SLEE19-01", est, low, high, group)


FOREST = [
    row(-2.8, -3.9, -1.7, "SNRI", "Duloxetine"),
    row(-3.1, -4.5, -1.6, "SNRI", "Venlafaxine"),
    row(-6.5, -14.0, 1.0, "Ketamine", "IV ketamine"),
    row(-0.9, None, None, "CBT", "CBT"),
]
TIMELINE = [
    TimelineItem("IV ketamine", "onset", 0, 1, "≤1 h (KET-GLUE17-02)"),
    TimelineItem("IV ketamine", "duration", 0, 168, "about a week"),
    TimelineItem("IV ketamine", "relapse", 0, 336, "median 2 weeks"),
    TimelineItem("SSRI", "onset", 336, 1008, "2-6 weeks"),
    TimelineItem("CBT", "effect", 0, 8766, "durable at 1 year"),
]
BARS = [
    BarGroup("dissociation", (Bar("IV ketamine", 35.6, 2.0, "35.6% · KET-RODR20-05 · TRD"),
                              Bar("Esketamine", 26.0, None, "26%"))),
    BarGroup("nausea", (Bar("Duloxetine", 80.0, 10.0, "x"),)),
]
ALL_CHARTS = [
    forest_plot(FOREST, title="HAM-A", x_label="mean difference"),
    timeline_plot(TIMELINE, title="Time course"),
    bar_chart(BARS, title="Adverse events"),
]


# --- every chart ---------------------------------------------------------------------------


@pytest.mark.parametrize("svg", ALL_CHARTS)
def test_every_chart_is_accessible_and_scales_to_its_container(svg: str) -> None:
    root = parse(svg)
    title = root.find("title")
    assert title is not None
    assert title.text
    assert root.get("role") == "img"
    assert root.get("aria-label") == title.text
    assert root.get("width") == "100%"
    assert root.get("viewBox", "").startswith("0 0 900 ")
    assert root.get("font-family") == "system-ui, sans-serif"


@pytest.mark.parametrize("svg", ALL_CHARTS)
def test_every_chart_is_self_contained_without_links_scripts_or_images(svg: str) -> None:
    lowered = svg.lower()
    for banned in ("href", "http", "<script", "<image", "url(", "@import", "<foreignobject"):
        assert banned not in lowered
    assert not any(attr.startswith("on") for e in parse(svg).iter() for attr in e.attrib)


# --- forest plot ---------------------------------------------------------------------------


def test_forest_plot_is_well_formed_xml_with_one_marker_per_row() -> None:
    root = parse(forest_plot(FOREST, title="HAM-A", x_label="MD"))
    assert len(by_class(root, "marker")) == len(FOREST)
    labels = [t.text for t in by_class(root, "row-label")]
    assert labels == ["Duloxetine", "Venlafaxine", "IV ketamine", "CBT"]


def test_forest_markers_move_right_as_estimates_grow() -> None:
    rows = [row(e, e - 1, e + 1) for e in (3.0, -2.0, 0.5, 10.0, -7.5)]
    markers = by_class(parse(forest_plot(rows, title="t", x_label="x")), "marker")
    xs = [num(m, "data-x") for m in sorted(markers, key=lambda m: num(m, "data-estimate"))]
    assert xs == sorted(xs)
    assert len(set(xs)) == len(xs)


@pytest.mark.parametrize(("null", "log"), [(0.0, False), (1.0, True), (-2.0, False)])
def test_forest_null_line_sits_where_an_estimate_equal_to_null_is_drawn(
    null: float, log: bool
) -> None:
    base = [1.5, 0.4, 3.0] if log else [-4.0, 2.0, 5.5]
    rows = [*(row(e) for e in base), row(null, label="at null")]
    root = parse(forest_plot(rows, title="t", x_label="x", null=null, log_scale=log))
    (line,) = by_class(root, "null-line")
    at_null = by_class(root, "marker")[-1]
    assert num(line, "data-x") == pytest.approx(num(at_null, "data-x"), abs=0.01)
    assert num(line, "x1") == pytest.approx(num(line, "data-x"), abs=0.01)
    assert line.get("stroke-dasharray")


def test_forest_log_scale_ticks_are_positive_and_from_the_one_two_five_series() -> None:
    rows = [row(0.6, 0.3, 1.2), row(2.5, 1.1, 8.0), row(1.4, 0.9, 2.2)]
    root = parse(forest_plot(rows, title="OR", x_label="odds ratio", null=1.0, log_scale=True))
    ticks = [num(t, "data-value") for t in by_class(root, "tick")]
    assert 2 <= len(ticks) <= 8
    assert all(t > 0 for t in ticks)
    assert ticks == sorted(ticks)
    assert all(f"{t:e}"[0] in "125" for t in ticks)


def test_forest_linear_axis_has_between_four_and_eight_round_ticks() -> None:
    root = parse(forest_plot(FOREST, title="t", x_label="x"))
    ticks = [num(t, "data-value") for t in by_class(root, "tick")]
    assert 4 <= len(ticks) <= 8
    steps = {round(b - a, 9) for a, b in pairwise(ticks)}
    assert len(steps) == 1


def test_forest_whiskers_far_beyond_the_axis_are_clipped_with_an_arrowhead() -> None:
    rows = [row(0.5, 0.0, 1.0), row(1.0, 0.5, 1.5), row(0.8, -500.0, 900.0)]
    root = parse(forest_plot(rows, title="t", x_label="x"))
    ticks = [num(t, "data-x") for t in by_class(root, "tick")]
    assert len(by_class(root, "clip-arrow")) == 2
    for line in by_class(root, "ci"):
        assert min(ticks) - 0.01 <= num(line, "x2") <= max(ticks) + 0.01


def test_forest_rows_without_an_interval_draw_only_the_point() -> None:
    root = parse(forest_plot([row(1.0), row(2.0, 1.0, 3.0)], title="t", x_label="x"))
    assert len(by_class(root, "marker")) == 2
    assert len(by_class(root, "ci")) == 2  # both whiskers of the second row only
    assert "2.00 (1.00 to 3.00)" in texts(root)
    assert "1.00" in texts(root)


def test_forest_group_headings_appear_in_bold_each_time_the_group_changes() -> None:
    rows = [row(1, group="A"), row(2, group="A"), row(3, group="B"), row(4, group="A")]
    headings = by_class(parse(forest_plot(rows, title="t", x_label="x")), "group-heading")
    assert [h.text for h in headings] == ["A", "B", "A"]
    assert all(h.get("font-weight") == "bold" for h in headings)


def test_forest_groups_get_distinct_colours() -> None:
    rows = [row(1, group="A"), row(2, group="B"), row(3, group="A")]
    fills = [m.get("fill") for m in by_class(parse(forest_plot(rows, title="t", x_label="x")),
                                             "marker")]
    assert fills[0] == fills[2] != fills[1]


def test_forest_height_grows_with_the_number_of_rows() -> None:
    heights = [height(parse(forest_plot([row(i) for i in range(n)], title="t", x_label="x")))
               for n in (1, 5, 20)]
    assert heights == sorted(heights)
    assert len(set(heights)) == 3


def test_forest_text_with_markup_characters_is_escaped() -> None:
    svg = forest_plot([ForestRow(NASTY, NASTY, 1.0, 0.0, 2.0, NASTY)], title=NASTY,
                      x_label=NASTY)
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    root = parse(svg)
    assert root.get("aria-label") == NASTY
    assert NASTY in texts(root)


@pytest.mark.parametrize(
    ("rows", "kwargs"),
    [
        ([], {}),
        ([row(0.5, 0.2, 1.0)], {"log_scale": True}),  # null 0 is not positive
        ([row(-0.5)], {"log_scale": True, "null": 1.0}),
        ([row(1.5, 0.0, 2.0)], {"log_scale": True, "null": 1.0}),
        ([row(1.0, 2.0, 0.5)], {}),
        ([row(math.nan)], {}),
        ([row(1.0, -math.inf, 2.0)], {}),
    ],
)
def test_forest_plot_rejects_empty_or_invalid_input(
    rows: list[ForestRow], kwargs: dict[str, float | bool]
) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        forest_plot(rows, title="t", x_label="x", **kwargs)  # type: ignore[arg-type]


finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False, allow_infinity=False)


@st.composite
def forest_rows(draw: st.DrawFn, values: st.SearchStrategy[float]) -> list[ForestRow]:
    rows = []
    for i in range(draw(st.integers(1, 12))):
        low, est, high = sorted(draw(st.lists(values, min_size=3, max_size=3)))
        keep = draw(st.booleans())
        group = draw(st.sampled_from(["A", "B", ""]))
        rows.append(ForestRow(f"r{i}", "", est, low if keep else None, high if keep else None,
                              group))
    return rows


def _check_forest(svg: str, rows: list[ForestRow]) -> list[float]:
    root = parse(svg)
    markers = by_class(root, "marker")
    assert len(markers) == len(rows)
    pairs = sorted((num(m, "data-estimate"), num(m, "data-x")) for m in markers)
    xs = [x for _, x in pairs]
    assert xs == sorted(xs)
    ticks = by_class(root, "tick")
    left, right = num(ticks[0], "data-x"), num(ticks[-1], "data-x")
    assert all(left - 0.01 <= x <= right + 0.01 for x in xs)
    return [num(t, "data-value") for t in ticks]


@SETTINGS
@given(forest_rows(finite), finite)
def test_random_forest_rows_give_well_formed_svg_with_markers_ordered_like_estimates(
    rows: list[ForestRow], null: float
) -> None:
    ticks = _check_forest(forest_plot(rows, title="t", x_label="x", null=null), rows)
    assert 4 <= len(ticks) <= 8


@SETTINGS
@given(forest_rows(positive), positive)
def test_random_log_scale_forest_rows_keep_marker_order_and_positive_ticks(
    rows: list[ForestRow], null: float
) -> None:
    ticks = _check_forest(
        forest_plot(rows, title="t", x_label="x", null=null, log_scale=True), rows)
    assert 2 <= len(ticks) <= 8
    assert all(t > 0 for t in ticks)


# --- timeline ------------------------------------------------------------------------------


def test_timeline_is_well_formed_with_one_item_per_input_and_a_four_kind_legend() -> None:
    root = parse(timeline_plot(TIMELINE, title="Time course"))
    items = by_class(root, "item")
    assert [i.get("data-kind") for i in items] == [t.kind for t in TIMELINE]
    legend = [t.text for t in by_class(root, "legend-label")]
    assert legend == ["onset", "duration", "relapse", "effect"]


def test_timeline_tracks_follow_first_appearance_order() -> None:
    root = parse(timeline_plot(TIMELINE, title="t"))
    assert [t.text for t in by_class(root, "track-label")] == ["IV ketamine", "SSRI", "CBT"]


def test_timeline_ticks_appear_in_order_with_word_labels() -> None:
    root = parse(timeline_plot(TIMELINE, title="t"))
    ticks = by_class(root, "tick")
    assert [num(t, "data-value") for t in ticks] == [1, 6, 24, 168, 730.5, 2191.5, 8766]
    xs = [num(t, "data-x") for t in ticks]
    assert xs == sorted(xs)
    assert [t.text for t in by_class(root, "tick-label")] == [
        "1 h", "6 h", "1 day", "1 week", "1 month", "3 months", "1 year"]


def test_timeline_x_positions_increase_with_hours_and_clamp_below_half_an_hour() -> None:
    hours = [0.1, 0.5, 1, 3, 24, 100, 730.5, 8766]
    items = [TimelineItem(f"t{i}", "effect", 0, h, "") for i, h in enumerate(hours)]
    root = parse(timeline_plot(items, title="t"))
    xs = [num(i, "data-x") for i in by_class(root, "item")]
    assert xs[0] == xs[1]  # 0.1 h clamps to the left edge
    assert xs[1:] == sorted(xs[1:])
    assert len(set(xs[1:])) == len(xs) - 1
    tick_x = {num(t, "data-value"): num(t, "data-x") for t in by_class(root, "tick")}
    assert xs[-1] == pytest.approx(tick_x[8766])
    assert xs[4] == pytest.approx(tick_x[24])


def test_timeline_onset_from_administration_draws_a_window_from_the_left_edge() -> None:
    root = parse(timeline_plot([TimelineItem("k", "onset", 0, 24, "")], title="t"))
    (window,) = by_class(root, "onset-window")
    (dot,) = by_class(root, "item")
    assert dot.tag == "circle"
    assert num(window, "x") + num(window, "width") == pytest.approx(num(dot, "cx"), abs=0.02)
    at_half_hour = parse(timeline_plot([TimelineItem("k", "effect", 0, 0.5, "")], title="t"))
    assert num(window, "x") == pytest.approx(num(by_class(at_half_hour, "item")[0], "data-x"))


def test_timeline_marker_shapes_match_their_kinds() -> None:
    root = parse(timeline_plot(TIMELINE, title="t"))
    shapes = {i.get("data-kind"): i.tag for i in by_class(root, "item")}
    assert shapes == {"onset": "circle", "duration": "rect", "relapse": "polygon",
                      "effect": "rect"}


def test_timeline_overlapping_items_in_one_track_go_to_separate_sub_rows() -> None:
    same = [TimelineItem("k", "effect", 0, 24, "same place") for _ in range(3)]
    root = parse(timeline_plot(same, title="t"))
    ys = [centre_y(i) for i in by_class(root, "item")]
    assert len(set(ys)) == 3
    assert min(b - a for a, b in pairwise(ys)) >= 12
    assert height(root) > height(parse(timeline_plot(same[:1], title="t")))


def test_timeline_items_far_apart_in_one_track_share_a_sub_row() -> None:
    apart = [TimelineItem("k", "effect", 0, 0.5, "a"), TimelineItem("k", "effect", 0, 8766, "b")]
    ys = [centre_y(i) for i in by_class(parse(timeline_plot(apart, title="t")), "item")]
    assert ys[0] == ys[1]


def test_timeline_long_annotations_are_truncated_with_an_ellipsis() -> None:
    root = parse(timeline_plot([TimelineItem("k", "effect", 0, 2, "x" * 60)], title="t"))
    (text,) = by_class(root, "item-text")
    assert text.text == "x" * 39 + "…"


def test_timeline_text_with_markup_characters_is_escaped() -> None:
    svg = timeline_plot([TimelineItem(NASTY, "relapse", 1, 2, NASTY)], title=NASTY)
    assert "<b>" not in svg
    root = parse(svg)
    assert NASTY in texts(root)
    assert by_class(root, "item")[0].get("data-track") == NASTY


@pytest.mark.parametrize(
    "items",
    [
        [],
        [TimelineItem("k", "onset", -1, 2, "")],
        [TimelineItem("k", "onset", 3, 2, "")],
        [TimelineItem("k", "peak", 0, 2, "")],
        [TimelineItem("k", "onset", 0, math.inf, "")],
    ],
)
def test_timeline_rejects_empty_input_negative_hours_and_reversed_intervals(
    items: list[TimelineItem],
) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        timeline_plot(items, title="t")


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["onset", "duration", "relapse", "effect"]),
                          st.floats(0, 2e4), st.floats(0, 2e4), st.sampled_from("abc"),
                          st.text(max_size=60)), min_size=1, max_size=15))
def test_random_timelines_are_well_formed_and_x_grows_with_end_hours(
    specs: list[tuple[str, float, float, str, str]],
) -> None:
    items = [TimelineItem(t, k, min(a, b), max(a, b), s) for k, a, b, t, s in specs]
    root = parse(timeline_plot(items, title="t"))
    drawn = by_class(root, "item")
    assert len(drawn) == len(items)
    pairs = sorted((num(d, "data-hours"), num(d, "data-x")) for d in drawn)
    xs = [x for _, x in pairs]
    assert xs == sorted(xs)


# --- bar chart -----------------------------------------------------------------------------


def test_bar_chart_is_well_formed_with_one_bar_per_input_and_a_legend() -> None:
    root = parse(bar_chart(BARS, title="AE"))
    assert len(by_class(root, "bar")) == 3
    assert len(by_class(root, "comparator")) == 2
    assert [t.text for t in by_class(root, "legend-label")] == ["treatment arm", "control arm"]
    assert [h.text for h in by_class(root, "group-heading")] == ["dissociation", "nausea"]
    assert "35.6%" in texts(root)


def test_bar_widths_are_proportional_to_their_values() -> None:
    values = [0.0, 5.0, 35.6, 50.0, 100.0]
    group = BarGroup("g", tuple(Bar(f"b{v}", v, v / 2, "") for v in values))
    root = parse(bar_chart([group], title="t"))
    widths = [num(b, "width") for b in by_class(root, "bar")]
    assert widths[0] == 0
    scale = widths[-1] / 100
    assert widths == pytest.approx([v * scale for v in values], abs=0.01)
    halves = [num(b, "width") for b in by_class(root, "comparator")]
    assert halves == pytest.approx([v * scale / 2 for v in values], abs=0.01)


def test_bar_axis_runs_from_zero_to_one_hundred_in_steps_of_twenty() -> None:
    root = parse(bar_chart(BARS, title="t"))
    assert [t.text for t in by_class(root, "tick-label")] == ["0", "20", "40", "60", "80", "100"]
    assert "% of patients" in texts(root)


def test_bar_rows_do_not_overlap_and_the_chart_grows_with_them() -> None:
    group = BarGroup("g", tuple(Bar(f"b{i}", 10.0 * i, 5.0, "") for i in range(8)))
    root = parse(bar_chart([group], title="t"))
    tops = [num(b, "y") for b in by_class(root, "bar")]
    bottoms = [num(c, "y") + num(c, "height") for c in by_class(root, "comparator")]
    assert all(bottom <= nxt for bottom, nxt in zip(bottoms, tops[1:], strict=False))
    smaller = bar_chart([BarGroup("g", group.bars[:2])], title="t")
    assert height(root) > height(parse(smaller))


def test_bar_chart_without_comparators_omits_the_control_legend() -> None:
    root = parse(bar_chart([BarGroup("g", (Bar("a", 10, None, ""),))], title="t"))
    assert [t.text for t in by_class(root, "legend-label")] == ["treatment arm"]
    assert not by_class(root, "comparator")


def test_bar_text_with_markup_characters_is_escaped() -> None:
    svg = bar_chart([BarGroup(NASTY, (Bar(NASTY, 10, 5, NASTY),))], title=NASTY, x_label=NASTY)
    assert "<b>" not in svg
    assert texts(parse(svg)).count(NASTY) >= 3


@pytest.mark.parametrize(
    "groups",
    [
        [],
        [BarGroup("empty", ())],
        [BarGroup("g", (Bar("a", 100.5, None, ""),))],
        [BarGroup("g", (Bar("a", -1, None, ""),))],
        [BarGroup("g", (Bar("a", 50, 101, ""),))],
        [BarGroup("g", (Bar("a", math.nan, None, ""),))],
    ],
)
def test_bar_chart_rejects_empty_input_and_values_outside_zero_to_one_hundred(
    groups: list[BarGroup],
) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        bar_chart(groups, title="t")
