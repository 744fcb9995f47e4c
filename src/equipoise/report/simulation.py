"""Simulation and cost-effectiveness results as plain, stable dicts (the JSON of docs/simulate.md).

`simulation_summary` turns a `ScenarioResult` into the ``equipoise simulate --format json``
layout; `cea_summary` turns that layout (fresh, or read back from a file) into the ``equipoise
cea`` layout, so ``cea --from-json`` and ``cea`` give the same bytes. The text and HTML reports
render these dicts, never the run itself, so every format shows the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from equipoise.economics.cea import DEFAULT_WTP_MAX, cost_effectiveness, wtp_grid
from equipoise.economics.uncertainty import evpi, net_benefit
from equipoise.errors import ModelError
from equipoise.simulation.model import Float
from equipoise.simulation.run import ScenarioResult
from equipoise.simulation.scenario import Scenario

SCHEMA_VERSION = "1"
BAND = (2.5, 97.5)              # percentiles over draws for intervals and bands
DISCLAIMER = ("equipoise simulates decision models to support clinicians' decisions; the results "
              "are only as good as the model's inputs and the assumptions listed with them. It is "
              "not medical advice and does not replace clinical judgement.")
COMMON_KEYS = ("title", "source", "input", "settings", "measures", "strategies", "assumptions",
               "citations")


def _summary(values: Float, mcse: Float) -> dict[str, Any]:
    """Mean, its Monte Carlo standard error, the 95% interval over draws, and every draw."""
    d = int(values.shape[0])
    if d == 1:
        # NaN: the run kept no per-patient totals of this reward (its mean is exact from counts).
        error = float(mcse[0]) if math.isfinite(mcse[0]) else None
        low = high = None
    else:
        # Draws are independent (own parameters and patients), so their spread gives the error.
        error = float(values.std(ddof=1) / math.sqrt(d))
        low, high = (float(v) for v in np.percentile(values, BAND))
    return {"mean": float(values.mean()), "mcse": error, "low": low, "high": high,
            "per_draw": values.tolist()}


def _band(values: Float) -> dict[str, Any]:
    """Per-cycle mean over draws, with the 2.5-97.5 percentile band when there are draws."""
    if values.shape[0] == 1:
        return {"mean": values[0].tolist(), "low": None, "high": None}
    low, high = np.percentile(values, BAND, axis=0)
    return {"mean": values.mean(axis=0).tolist(), "low": low.tolist(), "high": high.tolist()}


def _settings(scenario: Scenario, result: ScenarioResult) -> dict[str, Any]:
    cohort = scenario.method == "cohort"
    return {"method": scenario.method, "patients": None if cohort else result.n_patients,
            "draws": scenario.n_draws, "seed": result.seed, "n_cycles": scenario.n_cycles,
            "cycle_unit": scenario.cycle_unit, "cycle_length_years": scenario.cycle_length,
            "correction": scenario.correction, "discount": dict(scenario.discount),
            "currency": scenario.currency}


def simulation_summary(result: ScenarioResult, *, input_name: str = "",
                       wtp: float | None = None,
                       wtp_max: float | None = None) -> dict[str, Any]:
    """The ``simulate --format json`` layout of a run (see docs/simulate.md).

    Parameters
    ----------
    input_name
        What was run, for the record: a file path or ``example:NAME``.
    wtp
        Willingness to pay per unit of effect at which net benefit and EVPI are reported.
    wtp_max
        Upper end of the CEAC and EVPI grid (default `economics.cea.DEFAULT_WTP_MAX`).
    """
    sc = result.scenario
    strategies = []
    for o in result.outcomes.values():
        roles = {key: None if reward is None else _summary(o.totals[reward], o.mcse[reward])
                 for key, reward in (("costs", sc.cost), ("effects", sc.effect),
                                     ("life_years", sc.life_years))}
        # The stable key: QALYs are the effect unless the effect is life-years.
        roles["qalys"] = roles["effects"] if sc.effect != sc.life_years else None
        strategies.append({"id": o.name, "label": o.label, **roles,
                           "rewards": {r: _summary(o.totals[r], o.mcse[r]) for r in o.totals}})
    common: dict[str, Any] = {
        "title": sc.title, "source": sc.source, "input": input_name,
        "settings": _settings(sc, result),
        "measures": {"cost": sc.cost, "effect": sc.effect, "life_years": sc.life_years},
        "strategies": strategies,
        "assumptions": [{"name": a.name, "value": a.value, "reason": a.reason,
                         "change": a.change} for a in sc.assumptions],
        "citations": [{"name": c.name, "value": c.value, "source": c.source,
                       "where": c.where} for c in sc.citations]}
    out = {"schema_version": SCHEMA_VERSION, "kind": "simulation", "disclaimer": DISCLAIMER,
           **common, **analysis(common["strategies"], wtp=wtp, wtp_max=wtp_max)}
    out["trajectories"] = [
        {"reward": t, "strategies": {o.name: _band(o.tracks[t]) for o in result.outcomes.values()}}
        for t in sc.tracks]
    out["groups"] = [
        {"name": g, "states": list(sc.groups[g]),
         "strategies": {name: _band(share) for name, share in result.group_share(g).items()}}
        for g in sc.groups]
    return out


def analysis(strategies: Sequence[Mapping[str, Any]], *, wtp: float | None,
             wtp_max: float | None) -> dict[str, Any]:
    """Incremental table, net benefit at ``wtp``, CEAC and EVPI from per-draw costs/effects."""
    ids = [s["id"] for s in strategies]
    costs = np.column_stack([s["costs"]["per_draw"] for s in strategies])
    effects = np.column_stack([s["effects"]["per_draw"] for s in strategies])
    grid_max = DEFAULT_WTP_MAX if wtp_max is None else wtp_max
    ce = cost_effectiveness(costs, effects, ids, wtp=wtp_grid(grid_max))
    found = ce.to_dict()
    out: dict[str, Any] = {"wtp_max": grid_max, "incremental": found["incremental"],
                           "net_benefit": None, "ceac": found.get("ceac"),
                           "evpi": found.get("evpi")}
    if wtp is not None:
        nmb = net_benefit(costs, effects, wtp)            # (D, strategies)
        means = nmb.mean(axis=0)
        best = nmb.argmax(axis=1)
        out["net_benefit"] = {
            "wtp": wtp, "by_strategy": {s: float(m) for s, m in zip(ids, means, strict=True)},
            "best": ids[int(means.argmax())],
            "probability_best": {s: float((best == j).mean()) for j, s in enumerate(ids)},
            "evpi": float(evpi(costs, effects, wtp)) if costs.shape[0] > 1 else None}
    return out


def cea_summary(simulation: Mapping[str, Any], *, wtp: float | None = None,
                wtp_max: float | None = None) -> dict[str, Any]:
    """The ``cea --format json`` layout from a ``simulate --format json`` layout."""
    common = {k: simulation[k] for k in COMMON_KEYS}
    common["strategies"] = [{"id": s["id"], "label": s.get("label", s["id"]),
                             "costs": s["costs"], "effects": s["effects"],
                             "life_years": s.get("life_years")}
                            for s in simulation["strategies"]]
    return {"schema_version": SCHEMA_VERSION, "kind": "cost-effectiveness",
            "disclaimer": DISCLAIMER, **common,
            **analysis(common["strategies"], wtp=wtp, wtp_max=wtp_max)}


def to_json(data: Mapping[str, Any]) -> str:
    """Indented JSON; NaN or infinity is a bug, so it raises instead of writing invalid JSON."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def read_simulation_json(path: str | Path) -> dict[str, Any]:
    """Read a saved ``simulate --format json`` output, checking what `cea_summary` needs.

    Raises
    ------
    ModelError
        If the file is unreadable, not JSON, or not a simulation output of this schema; the
        message names the file, the line (for syntax errors) and the field.
    """
    name = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{name}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ModelError(f"{name}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{name}: cannot read: {exc}") from None
    problems = list(_check_simulation(data))
    if problems:
        raise ModelError(f"{name}: " + "; ".join(problems) + " (expected the output of "
                         "`equipoise simulate --format json`)")
    return dict(data)


def _check_simulation(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return ["(top level): must be a JSON object"]
    if data.get("kind") != "simulation":
        return [f"kind: must be 'simulation', got {data.get('kind')!r}"]
    if data.get("schema_version") != SCHEMA_VERSION:
        return [f"schema_version: this equipoise reads {SCHEMA_VERSION!r}, got "
                f"{data.get('schema_version')!r}"]
    out = [f"{k}: is missing" for k in COMMON_KEYS if k not in data]
    strategies = data.get("strategies")
    if not isinstance(strategies, list) or not strategies:
        return [*out, "strategies: must be a non-empty list"]
    lengths = set()
    for i, s in enumerate(strategies):
        if not isinstance(s, dict) or not isinstance(s.get("id"), str):
            out.append(f"strategies[{i}].id: must be text")
            continue
        for role in ("costs", "effects"):
            draws = (s.get(role) or {}).get("per_draw") if isinstance(s.get(role), dict) else None
            if not (isinstance(draws, list) and draws and all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in draws)):
                out.append(f"strategies[{i}].{role}.per_draw: must be a non-empty list of "
                           "finite numbers")
            else:
                lengths.add(len(draws))
    if len(lengths) > 1:
        out.append(f"strategies[*].per_draw: lengths differ ({sorted(lengths)})")
    return out
