"""One entry point for simulation files: read the ``format:`` field and hand on to its loader.

``equipoise-model/1`` files (general multi-state models, ``simulation/model_file.py``) and
``equipoise-strategies/1`` files (anxiety treatment strategies, ``simulation/strategies.py``)
both compile to a `Scenario`; a ``--horizon`` is applied the way each format understands it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from equipoise.errors import FileProblem, ModelError, ModelFileError
from equipoise.simulation.files import Document, days_per, parse_duration, read_document
from equipoise.simulation.scenario import Scenario, with_horizon

MODEL_FORMAT = "equipoise-model/1"
STRATEGIES_FORMAT = "equipoise-strategies/1"
FORMATS = (MODEL_FORMAT, STRATEGIES_FORMAT)
_DAYS_PER_YEAR = 365.25          # cycle_length is in years (MultiStateModel); files.py agrees
_WHOLE = 1e-9                    # relative slack for float noise in "52w" / (7 days per cycle)


def parse_horizon(text: str) -> tuple[float, str]:
    """``"52w"`` -> ``(52.0, "w")``; a bare number is cycles (``"30"`` -> ``(30.0, "c")``).

    Raises
    ------
    ModelError
        If ``text`` is not a positive duration (``0`` included).
    """
    raw = text.strip()
    try:
        value, unit = parse_duration(float(raw) if _is_number(raw) else raw)
    except ValueError:
        raise ModelError(f"horizon: {text!r} is not a duration; write e.g. 52w, 30y, 365d or "
                         "a number of cycles") from None
    if not (math.isfinite(value) and value > 0):
        raise ModelError(f"horizon: must be longer than zero, got {text!r}")
    return value, unit


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def horizon_cycles(horizon: tuple[float, str], cycle_length: float, cycle_unit: str) -> int:
    """The number of cycles (each ``cycle_length`` years) in ``horizon``; it must be whole."""
    value, unit = horizon
    per = days_per(unit)
    cycles = value if per is None else value * per / (cycle_length * _DAYS_PER_YEAR)
    n = round(cycles)
    if n < 1 or abs(cycles - n) > _WHOLE * max(1.0, cycles):
        one = cycle_unit if cycle_unit[:1].isdigit() else f"1 {cycle_unit}"
        near = " or ".join(str(k) for k in sorted({max(1, math.floor(cycles)),
                                                    max(1, math.ceil(cycles))}))
        raise ModelError(f"horizon: {value:g}{unit} is {cycles:.6g} cycles of {one}; give a "
                         f"whole number of cycles (e.g. --horizon {near})")
    return int(n)


def load_scenario(source: str | Path | Document, *, draws: int = 1,
                  seed: int | np.random.Generator = 0, horizon: str | None = None) -> Scenario:
    """Compile a model or strategy file into a `Scenario`.

    Parameters
    ----------
    source
        A path to a YAML file, or a parsed `Document`.
    draws
        Parameter draws for probabilistic sensitivity analysis (1: the base case).
    seed
        Seed of the parameter draws.
    horizon
        Time horizon such as ``"52w"``, ``"30y"`` or ``"30"`` (cycles); None keeps the file's.

    Raises
    ------
    ModelFileError
        If the file is unreadable, its ``format`` field is missing or unknown, or its loader
        finds problems (each ``file:line:field: message``).
    ModelError
        If the horizon is malformed, zero, or cannot be applied to the model.
    """
    wanted = None if horizon is None else parse_horizon(horizon)
    doc = source if isinstance(source, Document) else read_document(source)
    fmt = doc.get(("format",))
    if fmt == MODEL_FORMAT:
        from equipoise.simulation.model_file import load_model

        scenario = load_model(doc, draws=draws, seed=seed)
        if wanted is None:
            return scenario
        return with_horizon(scenario, horizon_cycles(wanted, scenario.cycle_length,
                                                     scenario.cycle_unit))
    if fmt == STRATEGIES_FORMAT:
        # Imported here so this module works without the strategies loader installed.
        from equipoise.simulation.strategies import load_strategies

        # Checked above; a bare number of cycles is passed on as "30c" (30 cycles).
        text = None if wanted is None else f"{wanted[0]:g}{wanted[1]}"
        return load_strategies(doc, draws=draws, seed=seed, horizon=text)
    expected = f"expected one of: {', '.join(FORMATS)}"
    message = (f"is required ({expected})" if fmt is None
               else f"unknown format {fmt!r}; {expected}")
    raise ModelFileError([FileProblem(doc.name, doc.line(("format",)), "format", message)])
