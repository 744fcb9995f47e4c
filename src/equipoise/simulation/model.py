"""A general multi-state model: states, transition probabilities, rewards, patient history.

Arrays carry a leading draw axis D (uncertainty is an array dimension, DESIGN.md) and a cycle
axis T where they change over time: transitions are ``(D, T, S, S)`` and rewards ``(D, T + 1, S)``
(cycle 0 is the start). Smaller shapes broadcast: ``(S, S)`` is one matrix for every draw and
cycle, ``(T, S, S)`` varies by cycle only. The model is validated once, at construction.

History dependence (individual-level models only): a model built with ``by_duration=True``
carries a duration axis U just before the state axes, transitions ``(D|1, T|1, U, S, S)`` and
rewards ``(D|1, T+1|1, U, S)``, indexed by ``dur``, the patient's count of consecutive cycles in
``duration_states`` (capped at U - 1; an axis of length 1 means "the same at every duration").
A model whose duration axes all have length 1 is stored without them, as a Markov model. Per-patient
``modifiers`` multiply a reward by a factor drawn once at baseline. Either makes the model one for
microsimulation only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from equipoise.errors import ModelError

Float = NDArray[np.float64]
ROW_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Modifier:
    """A per-patient multiplier of one reward in some states, drawn once at baseline.

    The factor is ``low + (high - low) · u`` with ``u`` the patient's ``trait``-th baseline
    uniform. Modifiers naming the same trait share one draw per patient, in every strategy run
    with the same seed, so a patient characteristic stays the same across strategies (common
    random numbers, as Krijkamp et al.'s ``v.x``).

    References
    ----------
    Krijkamp EM, Alarid-Escudero F, Enns EA, et al. Microsimulation modeling for health decision
    sciences using R: a tutorial. Med Decis Making 2018;38:400-422 (Appendix B, ``x_i``).
    """

    reward: str
    states: tuple[str, ...]
    low: float
    high: float
    trait: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.states, str) or not self.states:
            raise ModelError(f"modifier of {self.reward!r}: states must be a non-empty tuple of "
                             "state names")
        object.__setattr__(self, "states", tuple(self.states))
        if not (math.isfinite(self.low) and math.isfinite(self.high)
                and 0 <= self.low <= self.high):
            raise ModelError(f"modifier of {self.reward!r}: needs 0 <= low <= high, got "
                             f"low={self.low!r}, high={self.high!r}")
        if isinstance(self.trait, bool) or not isinstance(self.trait, int) or self.trait < 0:
            raise ModelError(f"modifier of {self.reward!r}: trait must be a non-negative integer")


def _as_transitions(p: ArrayLike, s: int, t: int, by_duration: bool) -> Float:
    arr = np.asarray(p, dtype=np.float64)
    if arr.shape[-2:] != (s, s):
        raise ModelError(f"transition matrices must be {s} x {s}, got {arr.shape[-2:]}")
    full = 5 if by_duration else 4
    if full - 2 <= arr.ndim < full:
        arr = arr.reshape((1,) * (full - arr.ndim) + arr.shape)
    if arr.ndim != full or arr.shape[1] not in (1, t):
        shapes = ("(U,S,S), (T,U,S,S) or (D,T,U,S,S)" if by_duration
                  else "(S,S), (T,S,S) or (D,T,S,S)")
        raise ModelError(f"transitions must be {shapes} with T={t}; got {arr.shape}")
    return arr


def _as_reward(r: ArrayLike, s: int, t: int, name: str, by_duration: bool) -> Float:
    arr = np.asarray(r, dtype=np.float64)
    if arr.shape[-1:] != (s,):
        raise ModelError(f"reward {name!r} needs one value per state ({s}), got {arr.shape}")
    full = 4 if by_duration else 3
    if full - 2 <= arr.ndim < full:
        arr = arr.reshape((1,) * (full - arr.ndim) + arr.shape)
    if arr.ndim != full or arr.shape[1] not in (1, t + 1):
        shapes = ("(U,S), (T+1,U,S) or (D,T+1,U,S)" if by_duration
                  else "(S,), (T+1,S) or (D,T+1,S)")
        raise ModelError(f"reward {name!r} must be {shapes} with T+1={t + 1}; got {arr.shape}")
    return arr


def _where(index: Sequence[int], duration: bool) -> str:
    """``(cycle c, draw d[, duration u])`` for an argwhere row over (D, T[, U], ...)."""
    d, t = index[0], index[1]
    return f"(cycle {t + 1}, draw {d}" + (f", duration {index[2]})" if duration else ")")


@dataclass(frozen=True, eq=False)
class MultiStateModel:
    """States, a start distribution, per-cycle transition probabilities and state rewards."""

    states: tuple[str, ...]
    initial: Float
    transitions: Float                       # (D|1, T|1, S, S), or (D|1, T|1, U, S, S)
    n_cycles: int
    rewards: Mapping[str, Float] = field(default_factory=dict)   # name -> (D|1, T+1|1[, U], S)
    cycle_length: float = 1.0                # years per cycle
    duration_states: tuple[int, ...] = ()    # indices of the states whose run length is `dur`
    modifiers: tuple[Modifier, ...] = ()
    # name -> (D|1, T|1, S, S): accrued on moving from row state to column state in a cycle
    transition_rewards: Mapping[str, Float] = field(default_factory=dict)

    @classmethod
    def build(cls, states: Sequence[str], initial: ArrayLike, transitions: ArrayLike,
              n_cycles: int, rewards: Mapping[str, ArrayLike] | None = None,
              cycle_length: float = 1.0, *, by_duration: bool = False,
              duration_states: Sequence[str] = (),
              modifiers: Sequence[Modifier] = (),
              transition_rewards: Mapping[str, ArrayLike] | None = None) -> MultiStateModel:
        """Validate and normalise shapes; errors name the state, cycle and draw at fault.

        Parameters
        ----------
        by_duration
            Every array (transitions and each reward) carries a duration axis U right before
            its state axes: ``(U, S, S)``, ``(T, U, S, S)`` or ``(D, T, U, S, S)`` and ``(U, S)``,
            ``(T+1, U, S)`` or ``(D, T+1, U, S)``. Level u applies to patients with ``dur == u``
            (the last level to every longer run); length 1 means no dependence on duration.
        duration_states
            Names of the states whose consecutive occupancy counts as ``dur``; leaving them
            resets it to 0. Required when ``by_duration`` is set.
        modifiers
            Per-patient baseline multipliers of rewards (`Modifier`).
        transition_rewards
            Rewards accrued on a transition (a one-off cost of switching, of death): name ->
            ``(S, S)``, ``(T, S, S)`` or ``(D, T, S, S)``, entry ``[i, j]`` for a move from state
            i to state j (staying is ``[i, i]``) in cycle t. A name that is not a state reward
            becomes one with zero values. They accrue at the end of the cycle, discounted to
            it, without within-cycle correction.
        """
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
        group = tuple(cls._index(states, name, "duration_states") for name in duration_states)
        if len(set(group)) != len(group):
            raise ModelError("duration_states names a state twice")
        if by_duration and not group:
            raise ModelError("by_duration needs duration_states: the states whose consecutive "
                             "occupancy is counted")
        p = _as_transitions(transitions, s, n_cycles, by_duration)
        rw = {name: _as_reward(r, s, n_cycles, name, by_duration)
              for name, r in (rewards or {}).items()}
        if by_duration:
            levels = {p.shape[2], *(r.shape[2] for r in rw.values())} - {1}
            if len(levels) > 1:
                raise ModelError(f"duration axes disagree: {sorted(levels)} levels")
            if not levels:                   # no dependence on duration after all: Markov
                p, rw = p[:, :, 0], {name: r[:, :, 0] for name, r in rw.items()}
        duration = p.ndim == 5
        bad = (p < -ROW_TOLERANCE) | (p > 1 + ROW_TOLERANCE) | ~np.isfinite(p)
        if bad.any():
            at = [int(x) for x in np.argwhere(bad)[0]]
            i, j = at[-2], at[-1]
            raise ModelError(f"transition {states[i]} -> {states[j]} "
                             f"{_where(at, duration)} is {float(p[tuple(at)])!r}; "
                             "probabilities lie in [0, 1]")
        rows = p.sum(axis=-1)
        off = np.abs(rows - 1) > ROW_TOLERANCE
        if off.any():
            at = [int(x) for x in np.argwhere(off)[0]]
            raise ModelError(f"transitions out of {states[at[-1]]} "
                             f"{_where(at, duration)} sum to {rows[tuple(at)]:.12g}, "
                             "not 1")
        for name, arr in rw.items():
            if not np.isfinite(arr).all():
                raise ModelError(f"reward {name!r} has a missing or infinite value")
        for m in modifiers:
            if m.reward not in rw:
                raise ModelError(f"modifier names reward {m.reward!r}, which the model does not "
                                 f"have ({', '.join(rw) or 'no rewards'})")
            for name in m.states:
                cls._index(states, name, f"modifier of {m.reward!r}")
        tr = {name: _as_transitions(arr, s, n_cycles, False)
              for name, arr in (transition_rewards or {}).items()}
        for name, arr in tr.items():
            if not np.isfinite(arr).all():
                raise ModelError(f"transition reward {name!r} has a missing or infinite value")
            if name not in rw:
                rw[name] = _as_reward(np.zeros((1, s) if duration else s), s, n_cycles, name,
                                      duration)
        return cls(tuple(states), init, np.clip(p, 0.0, 1.0), n_cycles, rw, cycle_length,
                   group, tuple(modifiers), tr)

    @staticmethod
    def _index(states: Sequence[str], name: str, what: str) -> int:
        if name not in states:
            raise ModelError(f"{what}: unknown state {name!r} (states: {', '.join(states)})")
        return list(states).index(name)

    @property
    def n_draws(self) -> int:
        sizes = {self.transitions.shape[0], *(r.shape[0] for r in self.rewards.values()),
                 *(r.shape[0] for r in self.transition_rewards.values())}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ModelError(f"draw axes disagree: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    @property
    def n_durations(self) -> int:
        """U, the number of duration levels (1 for a Markov model)."""
        arrays = [self.transitions_by_duration(), *map(self.reward_by_duration, self.rewards)]
        return max(int(a.shape[2]) for a in arrays)

    @property
    def needs_microsimulation(self) -> bool:
        """Whether patient history (duration levels or baseline modifiers) matters."""
        return self.n_durations > 1 or bool(self.modifiers)

    def transitions_by_duration(self) -> Float:
        """Transitions with the duration axis always present, ``(D|1, T|1, U|1, S, S)``."""
        return self.transitions if self.transitions.ndim == 5 else self.transitions[:, :, None]

    def reward_by_duration(self, name: str) -> Float:
        """Reward ``name`` with the duration axis always present, ``(D|1, T+1|1, U|1, S)``."""
        r = self.rewards[name]
        return r if r.ndim == 4 else r[:, :, None]

    def transition(self, cycle: int) -> Float:
        """Matrices for cycle ``cycle`` (1-based: the step from cycle-1 to cycle), (D|1, S, S)."""
        p = self.transitions_by_duration()
        if p.shape[2] > 1:
            raise ModelError("this model's transitions depend on duration; it needs "
                             "microsimulation")
        return p[:, 0 if p.shape[1] == 1 else cycle - 1, 0]
