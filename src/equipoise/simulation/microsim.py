"""Individual-level (microsimulation) runs of a multi-state model, compiled and reproducible.

Each patient follows the model one cycle at a time (Krijkamp et al. 2018, Appendix B order):
at t = 0 the patient starts in a state drawn from ``initial`` with ``dur = 0`` and accrues that
state's rewards; for t = 1..T the next state is drawn from the row for (draw, cycle t,
min(dur, U - 1), current state), the rewards of the new state are evaluated with ``dur`` as it
was before this step, then ``dur`` becomes ``dur + 1`` if the new state is a duration state and
0 otherwise.

Random numbers are counter-based, so results are bit-identical for any chunking or thread
count: patient p of draw d owns a SplitMix64 stream keyed by a murmur3-finalised hash of
(seed, d, p); its output 0 picks the start state and output t the step into cycle t. Baseline
modifiers read a second stream of the same patient (one output per trait), so strategies that
differ in their modifiers still share every transition draw: runs of two strategies with the same
seed use common random numbers, as Krijkamp et al.'s ``set.seed(seed + i)`` per individual.

References
----------
Krijkamp EM, Alarid-Escudero F, Enns EA, et al. Microsimulation modeling for health decision
sciences using R: a tutorial. Med Decis Making 2018;38:400-422.
Steele GL, Lea D, Flood CH. Fast splittable pseudorandom number generators. OOPSLA 2014:453-472.
Salmon JK, Moraes MA, Dror RO, Shaw DE. Parallel random numbers: as easy as 1, 2, 3. SC11, 2011.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

from equipoise.errors import ModelError
from equipoise.simulation.model import Float, MultiStateModel
from equipoise.simulation.outcomes import cycle_weights, discount_weights

Int = NDArray[np.int64]
_F = TypeVar("_F", bound=Callable[..., Any])

# SplitMix64 (Steele et al. 2014) and the murmur3 64-bit finaliser; every operand is uint64,
# because in numba uint64 op int64 promotes to float64.
_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_F1, _F2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
# Salts: SHA-512's initial hash words (fractions of sqrt 2, 3, 5, 7), nothing up the sleeve.
_SALT_SEED = np.uint64(0x6A09E667F3BCC908)
_SALT_DRAW = np.uint64(0xBB67AE8584CAA73B)
_SALT_PATIENT = np.uint64(0x3C6EF372FE94F82B)
_SALT_TRAIT = np.uint64(0xA54FF53A5F1D36F1)
_S11, _S27, _S30, _S31, _S33 = (np.uint64(k) for k in (11, 27, 30, 31, 33))
_UNIT = 2.0 ** -53
_ABOVE = 2.0                  # a cumulative bound no uniform in [0, 1) reaches
_MAX_SEED = 2 ** 64
_LANES = 128
# numba's fallback "workqueue" threading layer aborts on concurrent parallel calls (e.g. from a
# threaded scheduler); each call already uses every numba thread, so calls take turns.
_KERNEL_LOCK = threading.Lock()


def _compiled(*, parallel: bool = False) -> Callable[[_F], _F]:
    """``numba.njit`` (cached, nogil) that keeps the function's type for mypy."""
    def wrap(fn: _F) -> _F:
        return cast(_F, numba.njit(cache=True, nogil=True, parallel=parallel)(fn))
    return wrap


@_compiled()
def _splitmix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_compiled()
def _fmix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> _S33)) * _F1
    z = (z ^ (z >> _S33)) * _F2
    return z ^ (z >> _S33)


@_compiled()
def _draw_key(seed: np.uint64, draw: int) -> np.uint64:
    return _fmix(_fmix(seed ^ _SALT_SEED) ^ (np.uint64(draw + 1) * _SALT_DRAW))


@_compiled()
def _patient_key(draw_key: np.uint64, patient: int) -> np.uint64:
    return _fmix(draw_key ^ (np.uint64(patient + 1) * _SALT_PATIENT))


@_compiled()
def _unit(z: np.uint64) -> float:
    return float(np.int64(z >> _S11)) * _UNIT         # int64 -> float64 converts faster


@_compiled()
def _pick(cum: Float, u: float) -> int:
    """The first j with u < cum[j], branch-free (cum is non-decreasing and ends above 1)."""
    j = 0
    for c in range(cum.shape[0] - 1):
        j += u >= cum[c]
    return j


@_compiled()
def _uniforms(seed: np.uint64, draw: int, patient: int, n: int, trait: bool) -> Float:
    """The first ``n`` uniforms of one patient's main stream (or trait stream)."""
    state = _patient_key(_draw_key(seed, draw), patient)
    if trait:
        state = _fmix(state ^ _SALT_TRAIT)
    out = np.empty(n)
    for i in range(n):
        state += _GAMMA
        out[i] = _unit(_splitmix(state))
    return out


@_compiled(parallel=True)
def _kernel(seed: np.uint64, draw0: int, patient0: int, n_patients: int, block: int,
            init_cum: Float, cum: Float, succ: Int, rewards: Float, weights: Float,
            in_group: Int | None, mod_reward: Int, mod_states: Any, mod_low: Float,
            mod_span: Float, mod_trait: Int, counts: Int, totals: Float, trans: Float,
            trans_weights: Float, has_trans: bool) -> None:
    # cum, succ (D|1, T|1, U|1, S, K): each row's K possible next states and their cumulative
    # probabilities (see _sparse); rewards (D|1, R, T+1|1, U|1, S); weights (R, T+1).
    # in_group is None when nothing depends on duration: numba then compiles without `dur`.
    # trans (D|1, R, T|1, S, S) with trans_weights (R, T+1): rewards of the move into cycle t.
    n_draws, n_blocks, n_points, n_states = counts.shape
    n_rewards, n_mod = rewards.shape[1], mod_reward.shape[0]
    last_u, last_ur = cum.shape[2] - 1, rewards.shape[3] - 1
    for k in numba.prange(n_draws * n_blocks):
        d = k // n_blocks
        b = k - d * n_blocks
        p_draw = cum[d if cum.shape[0] > 1 else 0]
        s_draw = succ[d if succ.shape[0] > 1 else 0]
        r_draw = rewards[d if rewards.shape[0] > 1 else 0]
        x_draw = trans[d if trans.shape[0] > 1 else 0]
        tally = counts[d, b]
        draw_key = _draw_key(seed, draw0 + d)
        stream = np.empty(_LANES, dtype=np.uint64)
        state = np.empty(_LANES, dtype=np.int64)
        dur = np.empty(_LANES, dtype=np.int64)
        level = np.zeros(_LANES, dtype=np.int64)
        acc = np.empty((n_rewards, _LANES))
        mult = np.empty((n_rewards, _LANES, n_states))
        spread = np.zeros((4, n_states), dtype=np.int64)
        uniform = np.empty(_LANES)
        prev = np.empty(_LANES, dtype=np.int64)
        end = min((b + 1) * block, n_patients)
        # Patients advance in lanes, a cycle at a time and one step per pass, so that their
        # dependency chains interleave; each patient's own arithmetic is unchanged.
        for first in range(b * block, end, _LANES):
            lanes = min(_LANES, end - first)
            mult[:] = 1.0
            for lane in range(lanes):
                key = _patient_key(draw_key, patient0 + first + lane)
                trait_key = _fmix(key ^ _SALT_TRAIT)
                for m in range(n_mod):
                    z = _splitmix(trait_key + np.uint64(mod_trait[m] + 1) * _GAMMA)
                    factor = mod_low[m] + mod_span[m] * _unit(z)
                    for s in range(n_states):
                        if mod_states[m, s]:
                            mult[mod_reward[m], lane, s] *= factor
                stream[lane] = key + _GAMMA
                state[lane] = _pick(init_cum, _unit(_splitmix(stream[lane])))
                dur[lane] = 0
            acc[:] = 0.0
            for t in range(n_points):
                spread[:] = 0
                if t > 0:
                    tp = t - 1 if p_draw.shape[0] > 1 else 0
                    p_t, s_t = p_draw[tp], s_draw[tp]
                    for lane in range(lanes):           # the uniforms first: no gathers
                        stream[lane] += _GAMMA
                        uniform[lane] = _unit(_splitmix(stream[lane]))
                    if has_trans:
                        prev[:lanes] = state[:lanes]
                    for lane in range(lanes):
                        lvl = 0 if in_group is None else min(dur[lane], last_u)
                        now = state[lane]
                        j = _pick(p_t[lvl, now], uniform[lane])
                        state[lane] = s_t[lvl, now, j]
                    if has_trans:                       # the move's rewards, before the state's
                        x_t = x_draw[:, t - 1 if x_draw.shape[1] > 1 else 0]
                        for r in range(n_rewards):
                            wx = trans_weights[r, t]
                            for lane in range(lanes):
                                acc[r, lane] += x_t[r, prev[lane], state[lane]] * wx
                # Four interleaved tallies, so that patients in the same state do not wait
                # on one another's increments.
                for lane in range(lanes):
                    spread[lane & 3, state[lane]] += 1
                if in_group is not None:
                    for lane in range(lanes):
                        level[lane] = min(dur[lane], last_ur)
                tr = t if r_draw.shape[1] > 1 else 0
                for r in range(n_rewards):
                    values, w = r_draw[r, tr], weights[r, t]
                    if n_mod:
                        for lane in range(lanes):
                            s = state[lane]
                            acc[r, lane] += values[level[lane], s] * mult[r, lane, s] * w
                    elif in_group is None:      # x * 1.0 == x: the same sums without modifiers
                        row = values[0]
                        for lane in range(lanes):
                            acc[r, lane] += row[state[lane]] * w
                    else:
                        for lane in range(lanes):
                            acc[r, lane] += values[level[lane], state[lane]] * w
                if t > 0 and in_group is not None:
                    for lane in range(lanes):
                        dur[lane] = (dur[lane] + 1) * in_group[state[lane]]
                for s in range(n_states):
                    tally[t, s] += spread[0, s] + spread[1, s] + spread[2, s] + spread[3, s]
            for r in range(n_rewards):
                for lane in range(lanes):
                    totals[r, d, first + lane] = acc[r, lane]


def _cumulative(p: Float) -> Float:
    """Cumulative rows whose bound from the last positive entry on exceeds every uniform."""
    cum = np.cumsum(p, axis=-1)
    s = p.shape[-1]
    last = s - 1 - np.argmax(p[..., ::-1] > 0, axis=-1)
    cum[np.arange(s) >= last[..., None]] = _ABOVE
    return np.ascontiguousarray(cum)


@_compiled()
def _sparse_rows(p: Float, k: int, cum_k: Float, succ_k: Int) -> None:
    # p (rows, S) -> each row's non-zero entries: the running sum at each (as np.cumsum adds,
    # one term at a time), the last real one and any padding set to _ABOVE.
    for row in range(p.shape[0]):
        last = 0
        for j in range(p.shape[1]):
            if p[row, j] > 0:
                last = j
        acc = 0.0
        n = 0
        for j in range(p.shape[1]):
            acc += p[row, j]
            if p[row, j] > 0:
                cum_k[row, n] = acc if j < last else _ABOVE
                succ_k[row, n] = j
                n += 1
        for pad in range(n, k):
            cum_k[row, pad] = _ABOVE
            succ_k[row, pad] = last


def _sparse(p: Float) -> tuple[Float, Int]:
    """Each row's possible next states and their cumulative bounds, ``(..., S, K)``.

    K is the largest number of non-zero entries in any row. The bounds are the dense
    cumulative sums at those entries (so the pick is bit-identical to the dense one: a zero
    entry never moves the sum), the last real one and any padding set above every uniform.
    """
    s = p.shape[-1]
    flat = np.ascontiguousarray(p.reshape(-1, s))
    k = max(1, int((flat > 0).sum(axis=1).max()))
    cum_k = np.empty((flat.shape[0], k))
    succ_k = np.empty((flat.shape[0], k), dtype=np.int64)
    _sparse_rows(flat, k, cum_k, succ_k)
    return cum_k.reshape(*p.shape[:-1], k), succ_k.reshape(*p.shape[:-1], k)


def as_seed(seed: int | np.random.Generator) -> int:
    """A 64-bit seed: ``seed`` itself, or one integer drawn from a Generator."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, _MAX_SEED, dtype=np.uint64))
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise ModelError(f"seed must be an integer or a numpy Generator, got {type(seed).__name__}")
    if not 0 <= int(seed) < _MAX_SEED:
        raise ModelError(f"seed must lie in [0, 2**64), got {seed}")
    return int(seed)


def reward_weights(model: MultiStateModel, discount: float | Mapping[str, float],
                   correction: str) -> dict[str, Float]:
    """Per-reward weights for t = 0..T: within-cycle correction times discounting.

    ``discount`` is one annual rate for every reward or a rate per reward name (costs and
    QALYs may be discounted differently); a mapping must name every reward and nothing else.
    """
    names = list(model.rewards)
    if isinstance(discount, Mapping):
        unknown = sorted(set(discount) - set(names))
        missing = [n for n in names if n not in discount]
        if unknown or missing:
            raise ModelError(f"discount rates must name every reward ({', '.join(names)}); "
                             f"unknown: {unknown or 'none'}, missing: {missing or 'none'}")
        rates = {n: float(discount[n]) for n in names}
    else:
        rates = dict.fromkeys(names, float(discount))
    w = cycle_weights(model.n_cycles, correction)
    return {n: w * discount_weights(model.n_cycles, rates[n], model.cycle_length)
            for n in names}


@dataclass(frozen=True, eq=False)
class MicrosimChunk:
    """One block of a run: draws x patients, as `simulate_chunk` returns it."""

    draws: range
    patients: range
    counts: Int                            # (len(draws), T + 1, S) patients per state
    totals: Mapping[str, Float]            # name -> (len(draws), len(patients)) weighted totals
    # After `reduced`: name -> (means, mcse) per draw, and no totals.
    summary: Mapping[str, tuple[Float, Float]] | None = None

    def reduced(self, n_patients: int) -> MicrosimChunk:
        """The chunk with each draw's mean and MCSE in place of per-patient totals (for a
        chunk of every patient: far less to send, and the same numbers `assemble_chunks` would
        compute from the totals)."""
        if (self.patients.start, self.patients.stop) != (0, n_patients):
            raise ModelError("only a chunk of every patient can be reduced to means")
        return MicrosimChunk(self.draws, self.patients, self.counts, {},
                             {k: (v.mean(axis=1), _mcse(v)) for k, v in self.totals.items()})


def _check_range(r: range, stop: int, what: str) -> None:
    if r.step != 1 or len(r) < 1 or r.start < 0 or r.stop > stop:
        raise ModelError(f"{what} must be a non-empty range with step 1 inside [0, {stop}), "
                         f"got {r}")


def patient_reward_names(model: MultiStateModel,
                         patient_rewards: Collection[str] | None) -> list[str]:
    """The rewards a run totals patient by patient (all when ``patient_rewards`` is None).

    The others must depend on state and cycle only: their means follow exactly from the
    state counts, so the compiled loop need not carry them.
    """
    if patient_rewards is None:
        return list(model.rewards)
    unknown = sorted(set(patient_rewards) - set(model.rewards))
    if unknown:
        raise ModelError(f"patient_rewards names unknown rewards {unknown}")
    modified = {m.reward for m in model.modifiers}
    for name in model.rewards:
        if name not in patient_rewards and (model.reward_by_duration(name).shape[2] > 1
                                            or name in modified
                                            or name in model.transition_rewards):
            raise ModelError(f"reward {name!r} depends on patient history or on "
                             "transitions, so it must be totalled patient by patient (add it "
                             "to patient_rewards)")
    return [n for n in model.rewards if n in patient_rewards]


def simulate_chunk(model: MultiStateModel, seed: int, draws: range, patients: range, *,
                   weights: Mapping[str, Float],
                   patient_rewards: Collection[str] | None = None,
                   transition_weights: Mapping[str, Float] | None = None) -> MicrosimChunk:
    """Simulate patients ``patients`` of draws ``draws``; the unit a distributed run schedules.

    Patient numbers are global: patient p of draw d gets the same stream whichever chunk
    simulates it, so chunks can run anywhere, in any order, and be assembled exactly.
    ``weights`` maps every reward to its (T + 1,) weights (see `reward_weights`); only the
    rewards in ``patient_rewards`` (default all) are totalled per patient. A model with
    transition rewards needs their ``transition_weights`` (see `transition_weights`).
    """
    seed = as_seed(seed)
    _check_range(draws, model.n_draws, "draws")
    _check_range(patients, 2 ** 63 - 1, "patients")
    if sorted(weights) != sorted(model.rewards):
        raise ModelError(f"weights must name every reward ({', '.join(model.rewards)}), got "
                         f"{', '.join(weights) or 'none'}")
    names = patient_reward_names(model, patient_rewards)
    t1, s = model.n_cycles + 1, len(model.states)
    w = np.empty((len(names), t1))
    for i, name in enumerate(names):
        row = np.asarray(weights[name], dtype=np.float64)
        if row.shape != (t1,) or not np.isfinite(row).all():
            raise ModelError(f"weights of {name!r} must be {t1} finite values, one per "
                             f"t = 0..{t1 - 1}; got shape {row.shape}")
        w[i] = row

    def rows(a: Float) -> Float:                   # this chunk's draws of a (D|1, ...) array
        return a if a.shape[0] == 1 else a[draws.start:draws.stop]

    cum, succ = _sparse(rows(model.transitions_by_duration()))
    arrays = [rows(model.reward_by_duration(n)) for n in names]
    shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else (1, 1, 1, s)
    stacked = np.array([np.broadcast_to(a, shape) for a in arrays], dtype=np.float64)
    rewards = np.ascontiguousarray(np.moveaxis(stacked.reshape(len(names), *shape), 0, 1))
    in_group: Int | None = None
    if cum.shape[2] > 1 or rewards.shape[3] > 1:
        in_group = np.zeros(s, dtype=np.int64)
        in_group[list(model.duration_states)] = 1
    mods = model.modifiers
    mod_states = np.zeros((len(mods), s), dtype=np.bool_)
    for m, mod in enumerate(mods):
        mod_states[m, [model.states.index(x) for x in mod.states]] = True
    n = len(patients)
    threads = numba.get_num_threads()
    per_draw = max(1, min(math.ceil(n / 256), math.ceil(16 * threads / len(draws))))
    block = math.ceil(n / per_draw)
    n_blocks = math.ceil(n / block)
    counts = np.zeros((len(draws), n_blocks, t1, s), dtype=np.int64)
    totals = np.empty((len(names), len(draws), n))
    with _KERNEL_LOCK:
        _kernel(np.uint64(seed), draws.start, patients.start, n, block,
                _cumulative(model.initial[None])[0], cum, succ, rewards, w, in_group,
                np.array([names.index(m.reward) for m in mods], dtype=np.int64), mod_states,
                np.array([m.low for m in mods], dtype=np.float64),
                np.array([m.high - m.low for m in mods], dtype=np.float64),
                np.array([m.trait for m in mods], dtype=np.int64), counts, totals,
                *_transition_arrays(model, names, rows, t1, transition_weights))
    return MicrosimChunk(draws, patients, counts.sum(axis=1),
                         {name: totals[i] for i, name in enumerate(names)})


def _transition_arrays(model: MultiStateModel, names: list[str],
                       rows: Callable[[Float], Float], t1: int,
                       weights: Mapping[str, Float] | None) -> tuple[Float, Float, bool]:
    """The kernel's (D|1, R, T|1, S, S) transition rewards, their weights, and whether any."""
    s = len(model.states)
    used = [n for n in names if n in model.transition_rewards]
    if not used:
        return np.zeros((1, 1, 1, s, s)), np.zeros((1, t1)), False
    if weights is None or any(n not in weights for n in used):
        raise ModelError(f"transition rewards {used} need their transition_weights")
    arrays = [rows(model.transition_rewards[n]) if n in model.transition_rewards
              else np.zeros((1, 1, s, s)) for n in names]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    stacked = np.ascontiguousarray(np.moveaxis(
        np.array([np.broadcast_to(a, shape) for a in arrays], dtype=np.float64), 0, 1))
    w = np.zeros((len(names), t1))
    for i, n in enumerate(names):
        if n in model.transition_rewards:
            w[i] = np.asarray(weights[n], dtype=np.float64)
    return stacked, w, True


def transition_weights(model: MultiStateModel, discount: float | Mapping[str, float]
                       ) -> dict[str, Float]:
    """Weights of transition rewards for t = 0..T: discounting to the end of the cycle of the
    move (no move leads into t = 0, and no within-cycle correction applies)."""
    names = list(model.transition_rewards)
    rates = {n: float(discount[n] if isinstance(discount, Mapping) else discount)
             for n in names}
    out = {}
    for n in names:
        w = discount_weights(model.n_cycles, rates[n], model.cycle_length)
        w[0] = 0.0
        out[n] = w
    return out


@dataclass(frozen=True, eq=False)
class Microsimulation:
    """A microsimulation run: state counts, per-patient totals, their means and MCSEs.

    ``mcse`` is the Monte Carlo standard error of each mean, sd / sqrt(N) (sd with N - 1).
    """

    states: tuple[str, ...]
    seed: int
    counts: Int                            # (D, T + 1, S) patients per state and cycle
    totals: Mapping[str, Float]            # name -> (D, N) weighted, discounted totals
    means: Mapping[str, Float]             # name -> (D,)
    mcse: Mapping[str, Float]              # name -> (D,)

    @classmethod
    def from_totals(cls, states: tuple[str, ...], seed: int, counts: Int,
                    totals: Mapping[str, Float],
                    count_means: Mapping[str, Float] | None = None,
                    summary: Mapping[str, tuple[Float, Float]] | None = None
                    ) -> Microsimulation:
        """``count_means``: means of rewards not totalled per patient (their MCSE is NaN);
        ``summary``: means and MCSEs of rewards whose totals were reduced where simulated."""
        means = {k: _frozen(v.mean(axis=1)) for k, v in totals.items()}
        mcse = {k: _frozen(_mcse(v)) for k, v in totals.items()}
        for k, (m, e) in (summary or {}).items():
            means[k], mcse[k] = _frozen(m), _frozen(e)
        for k, v in (count_means or {}).items():
            means[k] = _frozen(v)
            mcse[k] = _frozen(np.full(v.shape, np.nan))
        return cls(states, seed, _frozen(counts), {k: _frozen(v) for k, v in totals.items()},
                   means, mcse)

    @property
    def n_patients(self) -> int:
        return int(self.counts[0, 0].sum())

    @property
    def n_draws(self) -> int:
        return int(self.counts.shape[0])

    def trace(self) -> Float:
        """Share of patients per state, ``(D, T + 1, S)``, comparable with a cohort trace."""
        return self.counts / self.n_patients

    def paired_difference(self, reference: Microsimulation, reward: str) -> tuple[Float, Float]:
        """Mean and MCSE of the per-patient difference ``self - reference`` of ``reward``.

        With common random numbers (same seed, patients and draws) the pairing removes most
        of the noise that two independent means would carry (Krijkamp et al. 2018).
        """
        if (reference.seed, reference.totals[reward].shape) != (self.seed,
                                                                 self.totals[reward].shape):
            raise ModelError("paired differences need runs with the same seed, draws and "
                             "patients (common random numbers)")
        diff = self.totals[reward] - reference.totals[reward]
        return np.asarray(diff.mean(axis=1)), _mcse(diff)


def _frozen(x: NDArray[Any]) -> NDArray[Any]:
    x = np.asarray(x)
    x.flags.writeable = False
    return x


def _mcse(x: Float) -> Float:
    n = x.shape[1]
    if n < 2:
        return np.full(x.shape[0], np.nan)
    return np.asarray(x.std(axis=1, ddof=1) / math.sqrt(n))


def microsimulate(model: MultiStateModel, n_patients: int, seed: int | np.random.Generator, *,
                  discount: float | Mapping[str, float], correction: str,
                  chunk_size: int | None = None,
                  patient_rewards: Collection[str] | None = None) -> Microsimulation:
    """Simulate ``n_patients`` patients through every draw of ``model``.

    Parameters
    ----------
    seed
        An integer in [0, 2**64), or a Generator from which one such integer is drawn. Two
        strategies run with the same seed share their random numbers.
    discount, correction
        Annual discount rate(s) and within-cycle correction, as `reward_weights` takes them.
    chunk_size
        Patients per `simulate_chunk` call, simulated one after another (the unit a distributed
        run schedules); results do not depend on it.
    patient_rewards
        Rewards to total patient by patient (default all); the means of the others come
        exactly from the state counts, without an MCSE (see `patient_reward_names`).
    """
    size = check_run(n_patients, chunk_size)
    seed = as_seed(seed)
    weights = reward_weights(model, discount, correction)
    moves = transition_weights(model, discount)
    patient_reward_names(model, patient_rewards)
    draws = range(model.n_draws)
    return assemble_chunks(model, seed, n_patients, (
        simulate_chunk(model, seed, draws, range(start, min(start + size, n_patients)),
                       weights=weights, patient_rewards=patient_rewards,
                       transition_weights=moves)
        for start in range(0, n_patients, size)), weights=weights)


def check_run(n_patients: int, chunk_size: int | None) -> int:
    """Validate a run's patient count and chunk size; the chunk size to use."""
    if isinstance(n_patients, bool) or not isinstance(n_patients, int) or n_patients < 1:
        raise ModelError(f"n_patients must be a positive integer, got {n_patients!r}")
    size = n_patients if chunk_size is None else chunk_size
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ModelError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return size


def assemble_chunks(model: MultiStateModel, seed: int, n_patients: int,
                    chunks: Iterable[MicrosimChunk], *,
                    weights: Mapping[str, Float] | None = None) -> Microsimulation:
    """The whole run from chunks that together cover every draw and patient exactly once.

    Rewards the chunks did not total per patient get their means from the state counts, with
    ``weights`` (required then).
    """
    counts = np.zeros((model.n_draws, model.n_cycles + 1, len(model.states)), dtype=np.int64)
    totals: dict[str, Float] = {}
    summary: dict[str, tuple[Float, Float]] = {}
    for chunk in chunks:
        d = slice(chunk.draws.start, chunk.draws.stop)
        counts[d] += chunk.counts
        whole = (len(chunk.draws), len(chunk.patients)) == (model.n_draws, n_patients)
        for name, block in chunk.totals.items():
            if whole:                           # one chunk is the whole run: no copy
                totals[name] = block
                continue
            if name not in totals:
                totals[name] = np.empty((model.n_draws, n_patients))
            totals[name][d, chunk.patients.start:chunk.patients.stop] = block
        for name, (m, e) in (chunk.summary or {}).items():
            if name not in summary:
                summary[name] = (np.empty(model.n_draws), np.empty(model.n_draws))
            summary[name][0][d], summary[name][1][d] = m, e
    rest = [n for n in model.rewards if n not in totals and n not in summary]
    if rest and weights is None:
        raise ModelError(f"rewards {rest} were not totalled per patient; their means need "
                         "the reward weights")
    share = counts / n_patients
    count_means = {n: np.einsum("dts,dts,t->d", share,
                                np.broadcast_to(model.reward_by_duration(n)[:, :, 0],
                                                share.shape), np.asarray(weights[n]))
                   for n in rest} if weights is not None else {}
    ordered = {n: totals[n] for n in model.rewards if n in totals}
    return Microsimulation.from_totals(model.states, seed, counts, ordered, count_means,
                                       summary)
