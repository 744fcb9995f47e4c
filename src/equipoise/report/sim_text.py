"""Plain-text reports of simulation and cost-effectiveness summaries (100 columns wide).

They render the dicts of `report.simulation`, so the text shows exactly the JSON's numbers.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

WIDTH = 100
_NAME = 20                    # strategy id column; the "Strategies" key gives full labels
_CEAC_POINTS = 5              # grid points the text CEAC shows: both ends and three between


def money(x: float) -> str:
    return f"{x:,.2f}"


def amount(x: float) -> str:
    """Effects: four decimals, or four significant digits when small (an increment of 0.002)."""
    return f"{x:.4f}" if abs(x) >= 0.1 or x == 0 else f"{x:.4g}"


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent,
                         subsequent_indent=indent + "  " if indent else "") or [""]


def cycle_text(settings: Mapping[str, Any]) -> str:
    """``"1 year"`` or ``"3 months"``: one cycle, as the scenario names it."""
    unit = str(settings["cycle_unit"])
    return unit if unit[:1].isdigit() else f"1 {unit}"


def _id(sid: str, width: int = _NAME - 1) -> str:
    """A strategy id that fits its column (ids are short in practice; labels are not)."""
    return sid if len(sid) <= width else sid[: width - 1] + "…"


def _value(s: Mapping[str, Any], fmt: Any, draws: int, exact: bool) -> tuple[str, str]:
    if draws > 1:
        return fmt(s["mean"]), f"{fmt(s['low'])} to {fmt(s['high'])}"
    return fmt(s["mean"]), "exact" if exact else f"± {fmt(s['mcse'])}"


def header(d: Mapping[str, Any], verb: str) -> list[str]:
    st = d["settings"]
    run = (f"cohort (exact), {st['draws']} draw(s)" if st["method"] == "cohort" else
           f"microsimulation, {st['patients']:,} patients x {st['draws']} draw(s)")
    rates = ", ".join(f"{k} {100 * v:.4g}%/year" for k, v in st["discount"].items())
    lines = [*_wrap(f"equipoise {verb}: {d['title']}"), *_wrap(f"model source: {d['source']}"),
             *(_wrap(f"input: {d['input']}") if d["input"] else [])]
    lines += _wrap(f"{run}, seed {st['seed']}; horizon {st['n_cycles']} cycles of "
                   f"{cycle_text(st)}; discount {rates}; within-cycle correction "
                   f"{st['correction']}; currency {st['currency']}")
    lines += ["", "Strategies"]
    width = max(len(_id(s["id"])) for s in d["strategies"])
    for s in d["strategies"]:
        lines += textwrap.wrap(s["label"], WIDTH, initial_indent=f"  {_id(s['id']):<{width}}  ",
                               subsequent_indent=" " * (width + 4))
    return [*lines, ""]


def outcomes_table(d: Mapping[str, Any]) -> list[str]:
    draws = int(d["settings"]["draws"])
    m = d["measures"]
    how = (f"mean (95% interval over {draws} draws)" if draws > 1
           else "mean ± Monte Carlo standard error" if d["settings"]["method"] != "cohort"
           else "exact cohort values")
    cols = [("costs", f"cost ({d['settings']['currency']})", money),
            ("effects", f"effect ({m['effect']})", amount)]
    if m["life_years"] is not None and m["life_years"] != m["effect"]:
        cols.append(("life_years", f"life-years ({m['life_years']})", amount))
    exact = d["settings"]["method"] == "cohort"
    spread = "95% interval" if draws > 1 else "" if exact else "MCSE"
    lines = [f"Outcomes per strategy (discounted as above): {how}",
             f"{'strategy':<{_NAME}}{'measure':<24}{'mean':>16}   {spread}"]
    for s in d["strategies"]:
        name = _id(s["id"])
        for key, head, fmt in cols:
            mean, around = _value(s[key], fmt, draws, exact)
            lines.append(f"{name:<{_NAME}}{head[:23]:<24}{mean:>16}   {around}")
            name = ""
    return [*lines, ""]


def incremental_table(d: Mapping[str, Any]) -> list[str]:
    currency, effect = d["settings"]["currency"], d["measures"]["effect"]
    lines = [f"Incremental analysis on the means (ICER in {currency} per {effect})",
             f"{'strategy':<{_NAME}}{'status':>21}{'vs':>20}{'inc. cost':>14}"
             f"{'inc. effect':>12}{'ICER':>13}"]
    for r in d["incremental"]:
        def num(x: float | None, fmt: Any) -> str:
            return "—" if x is None else fmt(x)
        vs = "—" if r["compared_with"] is None else _id(r["compared_with"])
        lines.append(f"{_id(r['strategy']):<{_NAME}}{r['status']:>21}{vs:>20}"
                     f"{num(r['incremental_cost'], money):>14}"
                     f"{num(r['incremental_effect'], amount):>12}"
                     f"{num(r['icer'], lambda x: f'{x:,.0f}'):>13}")
    return [*lines, ""]


def uncertainty_lines(d: Mapping[str, Any]) -> list[str]:
    currency, effect = d["settings"]["currency"], d["measures"]["effect"]
    lines: list[str] = []
    nb = d["net_benefit"]
    if nb is not None:
        draws = int(d["settings"]["draws"])
        lines += _wrap(f"Net monetary benefit at {nb['wtp']:,.0f} {currency} per {effect}"
                       + (" (mean over draws; P = share of draws where it is highest)"
                          if draws > 1 else ""))
        for s in d["strategies"]:
            best = "  <- highest" if s["id"] == nb["best"] else ""
            p = f"   P {nb['probability_best'][s['id']]:.3f}" if draws > 1 else ""
            lines.append(f"  {_id(s['id']):<{_NAME}}"
                         f"{money(nb['by_strategy'][s['id']]):>18}{p}{best}")
        if nb["evpi"] is not None:
            lines.append(f"  EVPI at this willingness to pay: {money(nb['evpi'])} {currency} "
                         "per person")
        lines.append("")
    ceac = d["ceac"]
    if ceac is None:
        lines += _wrap("CEAC and EVPI need parameter draws: run with --draws 2 or more.")
        return [*lines, ""]
    wtp: Sequence[float] = ceac["wtp"]
    picks = sorted({round(i * (len(wtp) - 1) / (_CEAC_POINTS - 1))
                    for i in range(_CEAC_POINTS)})
    lines.append(f"Probability each strategy is cost-effective (CEAC), by willingness to pay "
                 f"({currency} per {effect})")
    lines.append(f"{'strategy':<{_NAME}}" + "".join(f"{wtp[i]:>14,.0f}" for i in picks))
    for s in d["strategies"]:
        p = ceac["probability"][s["id"]]
        lines.append(f"{_id(s['id']):<{_NAME}}" + "".join(f"{p[i]:>14.3f}" for i in picks))
    lines.append(f"{'optimal (frontier)':<{_NAME}}"
                 + "".join(f"{_id(ceac['optimal'][i], 13):>14}" for i in picks))
    ev = d["evpi"]["per_person"]
    lines.append(f"{'EVPI per person':<{_NAME}}" + "".join(f"{ev[i]:>14,.2f}" for i in picks))
    return [*lines, ""]


def notes(d: Mapping[str, Any], disclaimer: str) -> list[str]:
    lines = ["Assumptions (not from evidence)"]
    if not d["assumptions"]:
        lines.append("  none declared by the input")
    for a in d["assumptions"]:
        lines += _wrap(f"! {a['name']} = {a['value']}: {a['reason']}"
                       + (f"; to change: {a['change']}" if a["change"] else ""), "  ")
    lines += ["", "Citations"]
    if not d["citations"]:
        lines.append("  none declared by the input")
    for c in d["citations"]:
        lines += _wrap(f"- {c['name']} = {c['value']}: {c['source']}"
                       + (f" ({c['where']})" if c["where"] else ""), "  ")
    return [*lines, "", *_wrap(disclaimer)]


def _tracks(d: Mapping[str, Any]) -> list[str]:
    """Each tracked reward and state group at five evenly spaced cycles (means over draws)."""
    lines: list[str] = []
    n = int(d["settings"]["n_cycles"])
    cycles = sorted({round(i * n / (_CEAC_POINTS - 1)) for i in range(_CEAC_POINTS)})
    head = f"{'cycle':<{_NAME}}" + "".join(f"{c:>14}" for c in cycles)
    blocks = [(f"Mean {t['reward']} per cycle (undiscounted)", t, 1.0, "{:>14.3f}")
              for t in d["trajectories"]]
    blocks += [(f"% of patients: {g['name']} (states {', '.join(g['states'])})", g, 100.0,
                "{:>13.1f}%") for g in d["groups"]]
    for title, item, scale, fmt in blocks:
        lines += [*_wrap(title), head]
        for sid, band in item["strategies"].items():
            lines.append(f"{_id(sid):<{_NAME}}"
                         + "".join(fmt.format(band["mean"][c] * scale) for c in cycles))
        lines.append("")
    if blocks and int(d["settings"]["draws"]) > 1:
        lines += [*_wrap("(means over draws; --format html or json for the 95% bands)"), ""]
    return lines


def simulation_text(d: Mapping[str, Any]) -> str:
    """The ``simulate`` table: outcomes, incremental analysis, tracks, assumptions, sources."""
    lines = [*header(d, "simulate"), *outcomes_table(d), *incremental_table(d),
             *uncertainty_lines(d), *_tracks(d), *notes(d, d["disclaimer"])]
    return "\n".join(lines) + "\n"


def cea_text(d: Mapping[str, Any]) -> str:
    """The ``cea`` table: outcomes, incremental analysis, net benefit, CEAC and EVPI."""
    lines = [*header(d, "cea"), *outcomes_table(d), *incremental_table(d),
             *uncertainty_lines(d), *notes(d, d["disclaimer"])]
    return "\n".join(lines) + "\n"
