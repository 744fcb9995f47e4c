"""A general multi-state (Markov) model: states, transition probabilities, rewards.

Arrays carry a leading draw axis D (uncertainty is an array dimension, DESIGN.md) and a cycle
axis T where they change over time: transitions are ``(D, T, S, S)`` and rewards ``(D, T + 1, S)``
(cycle 0 is the start). Smaller shapes broadcast: ``(S, S)`` is one matrix for every draw and
cycle, ``(T, S, S)`` varies by cycle only. The model is validated once, at construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equipoise.errors import ModelError

Float = NDArray[np.float64]
ROW_TOLERANCE = 1e-9


def _as_transitions(p: ArrayLike, s: int, t: int) -> Float:
    arr = np.asarray(p, dtype=np.float64)
    if arr.shape[-2:] != (s, s):
        raise ModelError(f"transition matrices must be {s} x {s}, got {arr.shape[-2:]}")
    if arr.ndim == 2:
        arr = arr[None, None]
    elif arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[1] not in (1, t):
        raise ModelError(f"transitions must be (S,S), (T,S,S) or (D,T,S,S) with T={t}; got "
                         f"{arr.shape}")
    return arr


def _as_reward(r: ArrayLike, s: int, t: int, name: str) -> Float:
    arr = np.asarray(r, dtype=np.float64)
    if arr.shape[-1] != s:
        raise ModelError(f"reward {name!r} needs one value per state ({s}), got {arr.shape}")
    if arr.ndim == 1:
        arr = arr[None, None]
    elif arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] not in (1, t + 1):
        raise ModelError(f"reward {name!r} must be (S,), (T+1,S) or (D,T+1,S) with T+1={t + 1}; "
                         f"got {arr.shape}")
    return arr


@dataclass(frozen=True, eq=False)
class MultiStateModel:
    """States, a start distribution, per-cycle transition probabilities and state rewards."""

    states: tuple[str, ...]
    initial: Float
    transitions: Float                       # (D|1, T|1, S, S)
    n_cycles: int
    rewards: Mapping[str, Float] = field(default_factory=dict)   # name -> (D|1, T+1|1, S)
    cycle_length: float = 1.0                # years per cycle

    @classmethod
    def build(cls, states: Sequence[str], initial: ArrayLike, transitions: ArrayLike,
              n_cycles: int, rewards: Mapping[str, ArrayLike] | None = None,
              cycle_length: float = 1.0) -> MultiStateModel:
        """Validate and normalise shapes; errors name the state, cycle and draw at fault."""
        s = len(states)
        if len(set(states)) != s:
            raise ModelError("state names must be unique")
        if n_cycles < 1:
            raise ModelError(f"the horizon must be at least one cycle, got {n_cycles}")
        if cycle_length <= 0:
            raise ModelError("cycle_length must be positive")
        init = np.asarray(initial, dtype=np.float64)
        if init.shape != (s,) or (init < 0).any() or abs(init.sum() - 1) > ROW_TOLERANCE:
            raise ModelError("initial must be one non-negative share per state summing to 1")
        p = _as_transitions(transitions, s, n_cycles)
        bad = (p < -ROW_TOLERANCE) | (p > 1 + ROW_TOLERANCE) | ~np.isfinite(p)
        if bad.any():
            d, t, i, j = (int(x) for x in np.argwhere(bad)[0])
            raise ModelError(f"transition {states[i]} -> {states[j]} (cycle {t + 1}, draw {d}) "
                             f"is {float(p[d, t, i, j])!r}; probabilities lie in [0, 1]")
        rows = p.sum(axis=-1)
        off = np.abs(rows - 1) > ROW_TOLERANCE
        if off.any():
            d, t, i = (int(x) for x in np.argwhere(off)[0])
            raise ModelError(f"transitions out of {states[i]} (cycle {t + 1}, draw {d}) sum to "
                             f"{rows[d, t, i]:.12g}, not 1")
        rw = {name: _as_reward(r, s, n_cycles, name) for name, r in (rewards or {}).items()}
        for name, arr in rw.items():
            if not np.isfinite(arr).all():
                raise ModelError(f"reward {name!r} has a missing or infinite value")
        return cls(tuple(states), init, np.clip(p, 0.0, 1.0), n_cycles, rw, cycle_length)

    @property
    def n_draws(self) -> int:
        sizes = {self.transitions.shape[0], *(r.shape[0] for r in self.rewards.values())}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ModelError(f"draw axes disagree: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def transition(self, cycle: int) -> Float:
        """Matrices for cycle ``cycle`` (1-based: the step from cycle-1 to cycle), (D|1, S, S)."""
        return self.transitions[:, 0 if self.transitions.shape[1] == 1 else cycle - 1]
