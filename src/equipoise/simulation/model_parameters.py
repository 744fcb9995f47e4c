"""Parameters of a model file: point values, expressions over earlier ones, and distributions.

A parameter is a number, an expression over the parameters declared above it, or a mapping with
a point ``value`` and optionally a ``distribution`` for probabilistic sensitivity analysis. Draws
are sampled one vector per parameter (never a loop over draws), in file order, so one seed gives
the same draws every time.
"""

from __future__ import annotations

import keyword
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.expressions import FUNCTIONS, Expression, compile_expression
from equipoise.simulation.files import Checker, PathT
from equipoise.simulation.model import Float

# Distribution -> its arguments; "value" (the point value used without draws) is always given.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "fixed": (), "beta": ("alpha", "beta"), "gamma": ("shape", "scale", "rate"),
    "lognormal": ("meanlog", "sdlog"), "normal": ("mean", "sd"), "uniform": ("low", "high")}
_ARGUMENTS = sorted({a for args in DISTRIBUTIONS.values() for a in args})
PARAMETER_FIELDS = ("value", "distribution", *_ARGUMENTS, "source", "where", "note")
RESERVED = frozenset({"t", "dur", "rest", *FUNCTIONS})


@dataclass
class Parameter:
    """One declared parameter: where it is, its point value and its distribution."""

    name: str
    path: PathT
    point: Expression
    distribution: str = "fixed"
    args: dict[str, float] = field(default_factory=dict)


def name_ok(c: Checker, path: PathT, name: str) -> bool:
    """Whether ``name`` can name a parameter (an identifier that is not reserved)."""
    if not name.isidentifier() or keyword.iskeyword(name):
        c.fail(path, f"{name!r} cannot be a parameter name: use letters, digits and _")
    elif name in RESERVED:
        c.fail(path, f"{name!r} is reserved (t, dur, rest and function names)")
    else:
        return True
    return False


def read_expression(c: Checker, path: PathT, source: Any, names: Sequence[str], *,
                    time: bool = False, dur: bool | None = None,
                    below: Sequence[str] = ()) -> Expression | None:
    """Compile ``source`` reading ``names``; ``t`` only if ``time``, ``dur`` only if ``dur``.

    ``dur`` is None where duration cannot apply at all (parameters), False where the model
    declares no ``duration`` field. ``below`` are parameters declared further down, which
    ``source`` may not read yet. Problems go to the checker and give None.
    """
    try:
        expr = compile_expression(source, [*names, *below, "t", "dur"])
    except ModelError as exc:
        c.fail(path, str(exc))
        return None
    late = sorted(expr.names & set(below))
    if late:
        c.fail(path, f"reads {', '.join(late)}, declared further down in parameters; a "
                     "parameter can read only those declared above it")
    elif "t" in expr.names and not time:
        c.fail(path, "t (the cycle) can be used in transitions and rewards, not here")
    elif "dur" in expr.names and dur is None:
        c.fail(path, "dur (time in the duration states) can be used in transitions and rewards, "
                     "not here")
    elif "dur" in expr.names and not dur:
        c.fail(path, "dur needs a `duration:` field naming the states whose run length it "
                     "counts")
    else:
        return expr
    return None


def read_parameters(c: Checker) -> tuple[list[Parameter], list[str]]:
    """The ``parameters`` mapping in file order, and every name declared (usable or not).

    Each expression reads only the parameters above it. A parameter with a problem is left out
    of the list but keeps its name, so what reads it is not reported a second time.
    """
    out: list[Parameter] = []
    declared: list[str] = []
    mapping = c.mapping(("parameters",), required=False)
    for name, raw in mapping.items():
        path: PathT = ("parameters", name)
        if not name_ok(c, path, name):
            continue
        before = list(declared)
        declared.append(name)
        below = list(mapping)[len(declared):]
        if not isinstance(raw, dict):
            expr = read_expression(c, path, raw, before, below=below)
            if expr is not None:
                out.append(Parameter(name, path, expr))
            continue
        param = _distribution(c, path, name, raw, before, below)
        if param is not None:
            out.append(param)
    return out, declared


def _distribution(c: Checker, path: PathT, name: str, raw: dict[str, Any],
                  before: list[str], below: list[str]) -> Parameter | None:
    c.unknown_keys(path, PARAMETER_FIELDS)
    kind = c.choice((*path, "distribution"), DISTRIBUTIONS, default="fixed")
    if "value" not in raw:
        c.fail((*path, "value"), "is required (the point value used without draws)")
        return None
    point = read_expression(c, (*path, "value"), raw["value"], before, below=below)
    if kind is None or point is None:
        return None
    args: dict[str, float] = {}
    before_args = len(c.problems)
    for arg in _ARGUMENTS:
        if arg not in raw:
            continue
        if arg not in DISTRIBUTIONS[kind]:
            c.fail((*path, arg), f"is not an argument of the {kind} distribution "
                                 f"({', '.join(DISTRIBUTIONS[kind]) or 'none'})")
            continue
        expr = read_expression(c, (*path, arg), raw[arg], [])
        if expr is not None:
            args[arg] = float(expr.evaluate({}))
    if len(c.problems) > before_args:
        return None
    if kind != "fixed":
        if point.names:
            c.fail((*path, "value"), f"a {kind} parameter's value must be a number")
            return None
        wanted = [a for a in DISTRIBUTIONS[kind] if a not in ("scale", "rate")]
        missing = [a for a in wanted if a not in raw]
        if kind == "gamma" and ("scale" in raw) == ("rate" in raw):
            missing.append("exactly one of scale or rate")
        if missing:
            c.fail(path, f"the {kind} distribution needs {', '.join(missing)}")
            return None
        problem = _support(kind, args, float(point.evaluate({})))
        if problem:
            c.fail(path, problem)
            return None
    return Parameter(name, path, point, kind, args)


def _support(kind: str, a: dict[str, float], value: float) -> str | None:
    """What is wrong with a distribution's arguments or point value, if anything."""
    if not all(np.isfinite(list(a.values()))):
        return f"the {kind} distribution's arguments must be finite"
    if kind == "beta":
        ok, need, inside = a["alpha"] > 0 < a["beta"], "alpha and beta > 0", 0 <= value <= 1
    elif kind == "gamma":
        ok, need, inside = a["shape"] > 0 < a.get("scale", a.get("rate", 0.0)), \
            "shape and scale (or rate) > 0", value >= 0
    elif kind == "lognormal":
        ok, need, inside = a["sdlog"] > 0, "sdlog > 0", value > 0
    elif kind == "normal":
        ok, need, inside = a["sd"] > 0, "sd > 0", True
    else:
        ok, need, inside = a["low"] < a["high"], "low < high", a["low"] <= value <= a["high"]
    if not ok:
        return f"the {kind} distribution needs {need}"
    if not inside:
        return f"the value {value:g} lies outside the {kind} distribution's support"
    return None


def sample(parameters: Sequence[Parameter], draws: int,
           rng: np.random.Generator) -> dict[str, Float]:
    """Draws of every random parameter as ``(D, 1, 1)`` arrays, one vector per parameter."""
    out: dict[str, Float] = {}
    for p in parameters:
        a = p.args
        if p.distribution == "beta":
            x = rng.beta(a["alpha"], a["beta"], draws)
        elif p.distribution == "gamma":
            x = rng.gamma(a["shape"], a["scale"] if "scale" in a else 1 / a["rate"], draws)
        elif p.distribution == "lognormal":
            x = rng.lognormal(a["meanlog"], a["sdlog"], draws)
        elif p.distribution == "normal":
            x = rng.normal(a["mean"], a["sd"], draws)
        elif p.distribution == "uniform":
            x = rng.uniform(a["low"], a["high"], draws)
        else:
            continue
        out[p.name] = x.reshape(draws, 1, 1)
    return out
