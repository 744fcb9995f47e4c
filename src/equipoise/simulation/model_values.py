"""The second pass over a model file: evaluate every expression and check the numbers.

Each strategy's expressions are evaluated once over arrays shaped ``(D, T, U)`` (draws, cycles,
duration levels; an axis of length 1 where nothing varies along it), then the probabilities,
row sums and costs are checked and the models built. A problem names the field's line and,
where it varies, the strategy, draw, cycle and duration level at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import ModelError
from equipoise.simulation.expressions import Expression, Value
from equipoise.simulation.files import Checker, PathT
from equipoise.simulation.model import ROW_TOLERANCE, Float, Modifier, MultiStateModel
from equipoise.simulation.model_parameters import Parameter


@dataclass
class StrategySpec:
    """A strategy as read: its id, label, parameter overrides and patient modifiers."""

    name: str
    label: str
    overrides: dict[str, Expression]
    modifiers: list[Modifier]


@dataclass
class ModelSpec:
    """Everything the first pass read, with names checked and expressions compiled."""

    states: list[str]
    horizon: int
    parameters: list[Parameter]
    transitions: dict[str, list[tuple[str, Expression | None]]]    # None is `rest`
    rewards: dict[str, dict[str, Expression]]
    strategies: list[StrategySpec]
    duration: tuple[str, ...] | None
    # reward -> origin -> target -> expression: a one-off reward of a move
    moves: dict[str, dict[str, dict[str, Expression]]] = field(default_factory=dict)


def _where(index: tuple[int, ...], shape: tuple[int, ...], first_cycle: int,
           strategy: str | None) -> str:
    """``(strategy 'x', draw 3, cycle 2, duration 0)`` for an index over (D, T, U)."""
    parts = [f"strategy {strategy!r}"] if strategy else []
    for word, i, size, base in zip(("draw", "cycle", "duration"), index, shape,
                                   (0, first_cycle, 0), strict=True):
        if size > 1:
            parts.append(f"{word} {i + base}")
    return f" ({', '.join(parts)})" if parts else ""


def _as3(x: Value) -> Float:
    arr = np.asarray(x, dtype=np.float64)
    return arr.reshape((1,) * (3 - arr.ndim) + arr.shape)


def _first(bad: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def evaluate(c: Checker, spec: ModelSpec, strategy: StrategySpec, sampled: Mapping[str, Float],
             *, cost: str, many: bool
             ) -> tuple[Float, dict[str, Float], dict[str, Float]] | None:
    """One strategy's transitions (D, T, U, S, S), rewards (D, T+1, U, S) and transition
    rewards (D, T, S, S), checked.

    ``sampled`` holds the parameter draws (empty without draws), ``cost`` the reward that must
    not be negative; ``many`` names the strategy in problems. None if there was a problem.
    """
    before = len(c.problems)
    who = strategy.label if many else None
    env: dict[str, Value] = {}
    for par in spec.parameters:
        if par.name in strategy.overrides:
            env[par.name] = strategy.overrides[par.name].evaluate(env)
            at: PathT = ("strategies", strategy.name, "parameters", par.name)
        else:
            env[par.name] = sampled[par.name] if par.name in sampled \
                else par.point.evaluate(env)
            at = par.path
        x = _as3(env[par.name])
        if not np.isfinite(x).all():
            i = _first(~np.isfinite(x))
            c.fail(at, f"is {x[i]:g}{_where(i, x.shape, 0, who)}; parameters must be finite "
                       "(is there a log of a number <= 0 or a division by 0?)")
            return None
    t, u = spec.horizon, spec.horizon if spec.duration else 1
    dur = np.arange(u, dtype=np.float64).reshape(1, 1, u)
    steps = {**env, "t": np.arange(1.0, t + 1).reshape(1, t, 1), "dur": dur}
    times = {**env, "t": np.arange(0.0, t + 1).reshape(1, t + 1, 1), "dur": dur}
    s = len(spec.states)
    rows: dict[int, list[tuple[int, Float]]] = {}
    for origin, cells in spec.transitions.items():
        rows[spec.states.index(origin)] = _row(c, origin, cells, spec.states, steps, who)
    shape = np.broadcast_shapes((1, 1, 1), *(x.shape for r in rows.values() for _, x in r))
    p = np.zeros((*shape, s, s))
    for origin_index, row in rows.items():
        for j, x in row:
            p[..., origin_index, j] = x
    rewards: dict[str, Float] = {}
    for name, values in spec.rewards.items():
        cells3 = {state: _as3(e.evaluate(times)) for state, e in values.items()}
        for state, x in cells3.items():
            at = ("rewards", name, state)
            bad = ~np.isfinite(x) | ((x < 0) & (name == cost))
            if bad.any():
                i = _first(bad)
                why = "a cost must not be negative" if np.isfinite(x[i]) \
                    else "rewards must be finite"
                c.fail(at, f"is {x[i]:.12g}{_where(i, x.shape, 0, who)}; {why}")
        shape_r = np.broadcast_shapes((1, 1, 1), *(x.shape for x in cells3.values()))
        r = np.zeros((*shape_r, s))
        for state, x in cells3.items():
            r[..., spec.states.index(state)] = x
        rewards[name] = r
    moves: dict[str, Float] = {}
    for name, rows_m in spec.moves.items():
        cells4 = {(a, b): _as3(e.evaluate(steps)) for a, row in rows_m.items()
                  for b, e in row.items()}
        for (a, b), x in cells4.items():
            bad = ~np.isfinite(x) | ((x < 0) & (name == cost))
            if bad.any():
                i = _first(bad)
                why = "a cost must not be negative" if np.isfinite(x[i]) \
                    else "rewards must be finite"
                c.fail(("transition_rewards", name, a, b),
                       f"is {x[i]:.12g}{_where(i, x.shape, 1, who)}; {why}")
        shape_m = np.broadcast_shapes((1, 1, 1), *(x.shape for x in cells4.values()))
        m = np.zeros((*shape_m[:2], s, s))
        for (a, b), x in cells4.items():
            m[..., spec.states.index(a), spec.states.index(b)] = x[:, :, 0]
        moves[name] = m
    return (p, rewards, moves) if len(c.problems) == before else None


def _row(c: Checker, origin: str, cells: list[tuple[str, Expression | None]],
         states: list[str], env: Mapping[str, Value], who: str | None) -> list[tuple[int, Float]]:
    path: PathT = ("transitions", origin)
    out: list[tuple[int, Float]] = []
    rest: int | None = None
    total: Float = np.ones((1, 1, 1))
    for target, expr in cells:
        if expr is None:
            rest = states.index(target)
            continue
        x = _as3(expr.evaluate(env))
        bad = ~np.isfinite(x) | (x < -ROW_TOLERANCE) | (x > 1 + ROW_TOLERANCE)
        if bad.any():
            i = _first(bad)
            c.fail((*path, target), f"is {x[i]:.12g}{_where(i, x.shape, 1, who)}; a "
                                    "probability must lie in [0, 1]")
        total = total - x    # 1 - a - b - c in the order written, as a hand-written model
        out.append((states.index(target), x))
    if rest is not None:
        bad = total < -ROW_TOLERANCE
        if bad.any():
            i = _first(bad)
            c.fail((*path, states[rest]),
                   f"`rest` is {total[i]:.12g}{_where(i, total.shape, 1, who)}: the other "
                   f"probabilities out of {origin} sum to more than 1")
        out.append((rest, total))
    else:
        off = np.abs(total) > ROW_TOLERANCE
        if off.any():
            i = _first(off)
            c.fail(path, f"probabilities out of {origin} sum to {1 - total[i]:.12g}"
                         f"{_where(i, total.shape, 1, who)}, not 1 (give one target `rest` to "
                         "take the complement)")
    return out


def build(c: Checker, spec: ModelSpec, strategy: StrategySpec,
          arrays: tuple[Float, dict[str, Float], dict[str, Float]], initial: Float,
          years: float) -> MultiStateModel:
    """The strategy's `MultiStateModel` (a Markov model unless it declares ``duration``)."""
    p, rewards, moves = arrays
    by_duration = spec.duration is not None
    if not by_duration:        # the duration axis has length 1: a Markov model
        p, rewards = p[:, :, 0], {k: v[:, :, 0] for k, v in rewards.items()}
    try:
        return MultiStateModel.build(spec.states, initial, p, spec.horizon, rewards, years,
                                     by_duration=by_duration,
                                     duration_states=spec.duration or (),
                                     modifiers=strategy.modifiers,
                                     transition_rewards=moves)
    except ModelError as exc:
        c.fail(("strategies", strategy.name), str(exc))
        c.done()
        raise
