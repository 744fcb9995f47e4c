"""A care plan (``Plan.to_dict()``) as a printable, self-contained HTML page with the expected
GAD-7 course of every option that is not blocked."""

from __future__ import annotations

from typing import Any

from equipoise.report.plan_text import plan_text
from equipoise.report.plots import page
from equipoise.report.sim_plots import Line, line_chart


def plan_html(plan: dict[str, Any]) -> str:
    lines = [Line(o["treatment"], o["expected"]["weeks"], o["expected"]["gad7_mean"],
                  o["expected"]["gad7_low"], o["expected"]["gad7_high"])
             for o in plan["options"] if o["expected"].get("gad7_mean")]
    figures = [line_chart(lines, title="Expected GAD-7 by option", x_label="weeks",
                          y_label="mean GAD-7", y_min=0,
                          note="Mean over parameter draws of the equipoise anxiety model, with "
                               "a 2.5-97.5% band; the patient's baseline GAD-7. Decision "
                               "support, not medical advice.")] if lines else []
    return page(f"care plan: {plan['patient'] or 'patient'}", plan_text(plan), figures)
