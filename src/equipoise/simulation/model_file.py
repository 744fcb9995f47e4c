"""General model files (``format: equipoise-model/1``): states, transitions, rewards, strategies.

A file is read in two passes. The first checks its structure and every name (fields, states,
parameters, functions) and compiles each expression (parameters: ``model_parameters.py``);
once every name is right, the second (``model_values.py``) evaluates the expressions for every
strategy, draw, cycle and duration level at once and checks the numbers (probabilities in
[0, 1], rows summing to 1, costs not negative). Each pass reports all it finds together as
``file:line:field: message``, and nothing is built from a file with any problem. The format is
documented in ``docs/model-files.md``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.expressions import Expression
from equipoise.simulation.files import Checker, Document, PathT, read_document
from equipoise.simulation.model import ROW_TOLERANCE, Float, Modifier, MultiStateModel
from equipoise.simulation.model_parameters import (
    read_expression,
    read_parameters,
    sample,
)
from equipoise.simulation.model_values import ModelSpec, StrategySpec, build, evaluate
from equipoise.simulation.outcomes import CORRECTIONS
from equipoise.simulation.scenario import METHODS, Assumption, Citation, Scenario

FORMAT = "equipoise-model/1"
TOP_LEVEL = ("format", "title", "description", "source", "cycle", "horizon", "method",
             "patients", "states", "initial", "duration", "parameters", "transitions", "rewards",
             "transition_rewards",
             "roles", "discount", "correction", "currency", "modifiers", "strategies", "groups",
             "tracks", "assumptions")
YEARS_PER = {"year": 1.0, "month": 1 / 12, "week": 7 / 365.25, "day": 1 / 365.25}
REST = "rest"


def load_model(source: str | Path | Document, *, draws: int = 1,
               seed: int | np.random.Generator | None = None,
               horizon: int | None = None) -> Scenario:
    """Read a model file and compile it to a `Scenario`.

    Parameters
    ----------
    source
        The file's path, or a `Document` already parsed (e.g. from a bundled example's text).
    draws
        1 uses every parameter's point ``value``; more samples each parameter that has a
        distribution ``draws`` times, giving the models a leading draw axis of that length.
    seed
        Required when ``draws > 1``: an integer or a numpy Generator. The same seed gives the
        same draws; parameters are sampled in file order, one vector each.
    horizon
        Cycles to run instead of the file's ``horizon`` (expressions in ``t`` are evaluated for
        every cycle of the new horizon).

    Raises
    ------
    ModelFileError
        Every problem in the file, each as ``file:line:field: message``.
    ModelError
        If ``draws``, ``seed`` or ``horizon`` is unusable.
    """
    doc = source if isinstance(source, Document) else read_document(source)
    return compile_model(doc, draws=draws, seed=seed, horizon=horizon)


def compile_model(doc: Document, *, draws: int = 1,
                  seed: int | np.random.Generator | None = None,
                  horizon: int | None = None) -> Scenario:
    """Compile a parsed model `Document` to a `Scenario` (see `load_model`)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ModelError(f"draws must be a positive integer, got {draws!r}")
    if draws > 1 and seed is None:
        raise ModelError("sampling parameters needs a seed (an integer or a numpy Generator)")
    if horizon is not None and (isinstance(horizon, bool) or not isinstance(horizon, int)
                                or horizon < 1):
        raise ModelError(f"horizon must be a whole number of cycles >= 1, got {horizon!r}")
    c = Checker(doc)
    c.unknown_keys((), TOP_LEVEL)
    fmt = doc.get(("format",))
    if fmt != FORMAT:
        c.fail(("format",), f"must be {FORMAT!r}, got {fmt!r}" if fmt is not None
               else f"is required ({FORMAT!r})")
    spec = _read(c, horizon)
    settings = _settings(c, spec)
    _done(c)
    sampled = sample(spec.parameters, draws, np.random.default_rng(seed)) if draws > 1 else {}
    models: dict[str, MultiStateModel] = {}
    for strategy in spec.strategies:
        arrays = evaluate(c, spec, strategy, sampled, cost=settings["cost"],
                          many=len(spec.strategies) > 1)
        if arrays is not None:
            models[strategy.name] = build(c, spec, strategy, arrays, settings["initial"],
                                          settings["cycle_length"])
    method = settings["method"]
    if method == "cohort" and any(m.needs_microsimulation for m in models.values()):
        c.fail(("method",), "a cohort cannot follow patient history (dur or modifiers); use "
                            "microsimulation")
    _done(c)
    try:
        return Scenario(
            title=settings["title"], source=settings["source"], strategies=models,
            labels={s.name: s.label for s in spec.strategies}, cost=settings["cost"],
            effect=settings["effect"], life_years=settings["life_years"],
            discount=settings["discount"], correction=settings["correction"],
            cycle_unit=settings["cycle_unit"], currency=settings["currency"], method=method,
            groups=settings["groups"], tracks=settings["tracks"],
            assumptions=settings["assumptions"], citations=settings["citations"],
            default_patients=settings["patients"])
    except ModelError as exc:    # a check above missed a case: still name the file
        c.fail((), str(exc))
        _done(c)
        raise


def _done(c: Checker) -> None:
    """Raise every problem once, in line order (strategies may repeat one field's problem)."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for p in sorted(c.problems, key=lambda p: p.line):
        if (p.line, p.field) not in seen:
            seen.add((p.line, p.field))
            unique.append(p)
    c.problems[:] = unique
    c.done()


# -- first pass: structure and names ----------------------------------------------------------

def _read(c: Checker, horizon_override: int | None) -> ModelSpec:
    states = _states(c)
    horizon = _horizon(c)
    horizon = horizon_override or horizon
    duration = _duration(c, states)
    parameters, names = read_parameters(c)
    transitions = _transitions(c, states, names, duration is not None)
    rewards = _rewards(c, states, names, duration is not None)
    strategies = _strategies(c, names, states, list(rewards))
    moves = _moves(c, states, names, list(rewards))
    return ModelSpec(states, horizon or 1, parameters, transitions, rewards, strategies, duration,
                     moves)


def _states(c: Checker) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(c.sequence(("states",))):
        if not isinstance(name, str) or not name.strip():
            c.fail(("states", i), f"a state is a non-empty name, got {name!r}")
        elif name in out:
            c.fail(("states", i), f"state {name!r} is listed twice")
        else:
            out.append(name)
    if c.present(("states",)) and not out:
        c.fail(("states",), "needs at least one state")
    return out


def _horizon(c: Checker) -> int | None:
    value = c.doc.get(("horizon",))
    if value is None:
        c.fail(("horizon",), "is required (the number of cycles)")
    elif isinstance(value, bool) or not isinstance(value, int):
        c.fail(("horizon",), f"must be a whole number of cycles, got {value!r}")
    elif value < 1:
        c.fail(("horizon",), f"is {value}; the horizon must be at least 1 cycle")
    else:
        return value
    return None


def _state(c: Checker, path: PathT, name: str, states: Sequence[str]) -> bool:
    if name in states:
        return True
    if states:
        c.fail(path, f"unknown state {name!r}; states are: {', '.join(states)}")
    return False


def _duration(c: Checker, states: list[str]) -> tuple[str, ...] | None:
    if not c.present(("duration",)):
        return None
    c.mapping(("duration",))
    c.unknown_keys(("duration",), ("states",))
    group = c.sequence(("duration", "states"))
    for i, name in enumerate(group):
        _state(c, ("duration", "states", i), str(name), states)
    if c.present(("duration", "states")) and not group:
        c.fail(("duration", "states"), "needs at least one state")
    return tuple(str(s) for s in group)


def _transitions(c: Checker, states: list[str], names: list[str],
                 dur: bool) -> dict[str, list[tuple[str, Expression | None]]]:
    rows = c.mapping(("transitions",))
    out: dict[str, list[tuple[str, Expression | None]]] = {}
    for origin, row in rows.items():
        path: PathT = ("transitions", origin)
        if not _state(c, path, origin, states):
            continue
        if not isinstance(row, dict) or not row:
            c.fail(path, "must map target states to probabilities (an absorbing state is "
                         f"`{origin}: {{{origin}: 1}}`)")
            continue
        cells: list[tuple[str, Expression | None]] = []
        for target, value in row.items():
            cell = (*path, target)
            if not _state(c, cell, target, states):
                continue
            if value == REST:
                if any(e is None for _, e in cells):
                    c.fail(cell, "only one target of a row may be `rest`")
                cells.append((target, None))
                continue
            expr = read_expression(c, cell, value, names, time=True, dur=dur)
            if expr is not None:
                cells.append((target, expr))
        out[origin] = cells
    for state in states:
        if rows and state not in rows:
            c.fail(("transitions",), f"has no row for state {state!r} (an absorbing state is "
                                     f"`{state}: {{{state}: 1}}`)")
    return out


def _rewards(c: Checker, states: list[str], names: list[str],
             dur: bool) -> dict[str, dict[str, Expression]]:
    out: dict[str, dict[str, Expression]] = {}
    for reward, values in c.mapping(("rewards",)).items():
        path: PathT = ("rewards", reward)
        if not isinstance(values, dict):
            c.fail(path, "must map states to values (a state left out is 0)")
            continue
        out[reward] = {}
        for state, value in values.items():
            if _state(c, (*path, state), state, states):
                expr = read_expression(c, (*path, state), value, names, time=True, dur=dur)
                if expr is not None:
                    out[reward][state] = expr
    if c.present(("rewards",)) and not out:
        c.fail(("rewards",), "needs at least one reward (a cost and an effect)")
    return out


def _moves(c: Checker, states: list[str], names: list[str],
           rewards: list[str]) -> dict[str, dict[str, dict[str, Expression]]]:
    """``transition_rewards: {reward: {from: {to: expression}}}``; ``t`` is the cycle."""
    out: dict[str, dict[str, dict[str, Expression]]] = {}
    for reward, rows in c.mapping(("transition_rewards",), required=False).items():
        path: PathT = ("transition_rewards", reward)
        if reward not in rewards:
            c.fail(path, f"is not one of the rewards ({', '.join(rewards) or 'none'}); give "
                         "the reward its state values under `rewards` (0 where none)")
            continue
        if not isinstance(rows, dict):
            c.fail(path, "must map origin states to {target: value}")
            continue
        out[reward] = {}
        for origin, row in rows.items():
            if not _state(c, (*path, origin), origin, states):
                continue
            if not isinstance(row, dict):
                c.fail((*path, origin), "must map target states to values")
                continue
            out[reward][origin] = {}
            for target, value in row.items():
                cell = (*path, origin, target)
                if _state(c, cell, target, states):
                    expr = read_expression(c, cell, value, names, time=True, dur=False)
                    if expr is not None:
                        out[reward][origin][target] = expr
    return out


def _modifiers(c: Checker, path: PathT, states: list[str], rewards: list[str]) -> list[Modifier]:
    out: list[Modifier] = []
    for i, _ in enumerate(c.sequence(path, required=False)):
        at: PathT = (*path, i)
        if not c.mapping(at):
            continue
        c.unknown_keys(at, ("reward", "states", "low", "high", "trait", "note"))
        reward = c.choice((*at, "reward"), rewards) if rewards else None
        group = [str(s) for s in c.sequence((*at, "states"))]
        known = all(_state(c, (*at, "states", j), s, states) for j, s in enumerate(group))
        low = c.number((*at, "low"), low=0.0)
        high = c.number((*at, "high"), low=0.0)
        trait = c.integer((*at, "trait"), default=0)
        if low is not None and high is not None and low > high:
            c.fail((*at, "high"), f"is {high:g}, below low ({low:g})")
        elif None not in (reward, low, high, trait) and known and group:
            out.append(Modifier(str(reward), tuple(group), float(low or 0), float(high or 0),
                                int(trait or 0)))
    return out


def _strategies(c: Checker, order: list[str], states: list[str],
                rewards: list[str]) -> list[StrategySpec]:
    shared = _modifiers(c, ("modifiers",), states, rewards)
    out: list[StrategySpec] = []
    for name, raw in c.mapping(("strategies",)).items():
        path: PathT = ("strategies", name)
        if not isinstance(raw, dict):
            c.fail(path, "must be a mapping (label, parameters, modifiers)")
            continue
        c.unknown_keys(path, ("label", "description", "parameters", "modifiers"))
        label = c.text((*path, "label"), default=name) or name
        if label in (s.label for s in out):
            c.fail((*path, "label"), f"{label!r} labels another strategy too")
        overrides: dict[str, Expression] = {}
        for pname, value in c.mapping((*path, "parameters"), required=False).items():
            at: PathT = (*path, "parameters", pname)
            if pname not in order:
                c.fail(at, _unknown_parameter(pname, order))
                continue
            # An override takes the parameter's place, so it reads what is declared above it.
            here = order.index(pname)
            expr = read_expression(c, at, value, order[:here], below=order[here:])
            if expr is not None:
                overrides[pname] = expr
        own = _modifiers(c, (*path, "modifiers"), states, rewards)
        out.append(StrategySpec(name, label, overrides, shared + own))
    if c.present(("strategies",)) and not out:
        c.fail(("strategies",), "needs at least one strategy")
    return out


def _unknown_parameter(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"unknown parameter {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")


def _settings(c: Checker, spec: ModelSpec) -> dict[str, Any]:
    """The scenario's remaining fields, checked."""
    rewards, states = list(spec.rewards), spec.states
    out: dict[str, Any] = {
        "title": c.text(("title",)), "source": c.text(("source",)),
        "currency": c.text(("currency",)), "method": c.choice(("method",), METHODS),
        "correction": c.choice(("correction",), CORRECTIONS),
        "patients": c.integer(("patients",), default=1000, low=1)}
    c.mapping(("cycle",))
    c.unknown_keys(("cycle",), ("length", "unit"))
    length = c.number(("cycle", "length"), above=0.0, what="a positive number")
    unit = c.choice(("cycle", "unit"), YEARS_PER)
    if length is not None and unit is not None:
        out["cycle_length"] = length * YEARS_PER[unit]
        out["cycle_unit"] = unit if length == 1 else f"{length:g} {unit}s"
    c.mapping(("roles",))
    c.unknown_keys(("roles",), ("cost", "effect", "life_years"))
    for role in ("cost", "effect", "life_years"):
        name = c.text(("roles", role), default="" if role == "life_years" else None)
        if name and rewards and name not in rewards:
            c.fail(("roles", role), f"names reward {name!r}, which is not one of the rewards "
                                    f"({', '.join(rewards)})")
        out[role] = name or None
    out["discount"] = _discount(c, rewards)
    out["initial"] = _initial(c, states)
    groups = c.mapping(("groups",), required=False)
    for g, members in groups.items():
        if not isinstance(members, list) or not members:
            c.fail(("groups", g), "must be a list of states")
            continue
        for i, s in enumerate(members):
            _state(c, ("groups", g, i), str(s), states)
    out["groups"] = {g: tuple(map(str, m)) for g, m in groups.items() if isinstance(m, list)}
    tracks = [str(x) for x in c.sequence(("tracks",), required=False)]
    for i, x in enumerate(tracks):
        if rewards and x not in rewards:
            c.fail(("tracks", i), f"tracks {x!r}, which is not one of the rewards")
    out["tracks"] = tuple(tracks)
    out["assumptions"] = _assumptions(c)
    out["citations"] = tuple(
        Citation(p.name, p.point.text, str(c.doc.get((*p.path, "source"))),
                 str(c.doc.get((*p.path, "where")) or ""))
        for p in spec.parameters if c.present((*p.path, "source")))
    return out


def _discount(c: Checker, rewards: list[str]) -> dict[str, float]:
    raw = c.doc.get(("discount",))
    if not isinstance(raw, dict):
        rate = c.number(("discount",), low=0.0, high=1.0, what="an annual rate in [0, 1]")
        return dict.fromkeys(rewards, rate or 0.0)
    out: dict[str, float] = {}
    for name in raw:
        rate = c.number(("discount", name), low=0.0, high=1.0, what="an annual rate in [0, 1]")
        if name not in rewards:
            c.fail(("discount", name), f"unknown reward {name!r}; rewards are: "
                                       f"{', '.join(rewards)}")
        elif rate is not None:
            out[name] = rate
    for name in rewards:
        if name not in raw:
            c.fail(("discount",), f"has no rate for reward {name!r}")
    return out


def _initial(c: Checker, states: list[str]) -> Float:
    share = np.zeros(len(states))
    raw = c.mapping(("initial",))
    ok = True
    for name in raw:
        x = c.number(("initial", name), low=0.0, what="a non-negative share")
        if _state(c, ("initial", name), name, states) and x is not None:
            share[states.index(name)] = x
        else:
            ok = False
    if raw and ok and states and abs(share.sum() - 1) > ROW_TOLERANCE:
        c.fail(("initial",), f"shares sum to {share.sum():.12g}, not 1")
    return share


def _assumptions(c: Checker) -> tuple[Assumption, ...]:
    out = []
    for i, _ in enumerate(c.sequence(("assumptions",), required=False)):
        at: PathT = ("assumptions", i)
        if not c.mapping(at):
            continue
        c.unknown_keys(at, ("name", "value", "reason", "change"))
        fields = [c.text((*at, k), default="" if k == "change" else None)
                  for k in ("name", "value", "reason", "change")]
        if None not in fields:
            out.append(Assumption(*(str(f) for f in fields)))
    return tuple(out)
