"""Counting rewards over a trace: discounting and within-cycle corrections, chosen explicitly.

References
----------
Elbasha EH, Chhatwal J. Myths and misconceptions of within-cycle correction: a guide for
modelers and decision makers. Pharmacoeconomics 2016;34:13-22.
Alarid-Escudero F, Krijkamp EM, Enns EA, et al. An introductory tutorial on cohort
state-transition models in R using a cost-effectiveness analysis example. Med Decis Making
2023;43:3-20 (the ``simpson-darth`` weights of their gen_wcc).
"""

from __future__ import annotations

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.model import Float

CORRECTIONS = ("none", "none-skip-start", "half-cycle", "simpson-darth")


def discount_weights(n_cycles: int, rate: float, cycle_length: float = 1.0) -> Float:
    """1 / (1 + rate)^(t · cycle_length) for t = 0..n_cycles (annual rate)."""
    if rate < 0:
        raise ModelError("discount rate must not be negative")
    t = np.arange(n_cycles + 1) * cycle_length
    return np.asarray(1.0 / (1.0 + rate) ** t)


def cycle_weights(n_cycles: int, method: str) -> Float:
    """How much each of t = 0..n_cycles counts.

    ``none``: every cycle including the start counts once; ``none-skip-start``: rewards accrue
    at the end of each cycle (t = 1..T, as in Briggs et al.'s HIV model); ``half-cycle``: the
    trapezoidal rule (start and end count one half); ``simpson-darth``: the weights of the DARTH
    tutorials' gen_wcc (1/3 at both ends, then 2/3 and 4/3 alternating from t = 1).
    """
    if method not in CORRECTIONS:
        raise ModelError(f"within-cycle correction must be one of {', '.join(CORRECTIONS)}")
    w = np.ones(n_cycles + 1)
    if method == "none-skip-start":
        w[0] = 0.0
    elif method == "half-cycle":
        w[0] = w[-1] = 0.5
    elif method == "simpson-darth":
        i = np.arange(1, n_cycles + 2)              # 1-based index as in R
        w = np.where(i % 2 == 0, 2 / 3, 4 / 3)
        w[0] = w[-1] = 1 / 3
    return w


def accumulate(trace: Float, reward: Float, weights: Float) -> Float:
    """Sum over cycles and states of trace · reward · weights; trace (D, T+1, S) -> (D,)."""
    return np.asarray(np.einsum("dts,dts,t->d", trace,
                                np.broadcast_to(reward, trace.shape), weights))


def accumulate_transitions(trace: Float, transitions: Float, reward: Float,
                           weights: Float) -> Float:
    """Expected transition rewards: sum over t = 1..T of weights[t] times the expected reward
    of the moves from t - 1 to t, trace (D, T+1, S), transitions and reward (D|1, T|1, S, S)."""
    d, t1, s = trace.shape
    p = np.broadcast_to(transitions, (d, t1 - 1, s, s))
    r = np.broadcast_to(reward, (d, t1 - 1, s, s))
    return np.asarray(np.einsum("dts,dtsk,dtsk,t->d", trace[:, :-1], p, r, weights[1:]))
