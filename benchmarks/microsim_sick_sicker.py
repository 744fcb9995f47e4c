"""Benchmark: Sick-Sicker microsimulation (Krijkamp et al. 2018, App. A), equipoise vs heormodel.

Both engines simulate the same model side by side in one run of this script: 100,000 people x 30
annual cycles x 2 strategies (No Treatment, Treatment), everyone starting healthy, costs and
QALYs of the state occupied at t = 0..30 discounted at 3% with no within-cycle correction, and
common random numbers across the strategies.

(a) equipoise: ``microsimulate`` once per strategy (compiled kernel, all numba threads; the
    one-off compilation, cached on disk, is timed separately as a warm-up). Also timed on one
    thread, for a per-core comparison.
(b) heormodel: ``MicrosimModel.discrete`` driven by ``run_psa`` on one parameter row, its
    fastest form for one population: callbacks vectorised over individuals (one fancy-indexed
    row lookup per cycle), ``collect=None``. It parallelises over parameter rows only, so one
    population runs on one core. A second run with ``collect="individuals"`` supplies the
    per-individual totals for MCSEs and is timed too.

Timings are the best of ``--repeat`` runs. Means are printed with their Monte Carlo standard
errors (sd / sqrt(N)); the two engines use different random streams, so they agree within Monte
Carlo error, not to the digit. Then patient-cycles per second of equipoise on bigger runs.

Usage: python benchmarks/microsim_sick_sicker.py [--n 100000] [--repeat 3] [--big 1000000]
Needs heormodel (``pip install -e '.[bench]'``). Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from typing import Any

import numba
import numpy as np
import pandas as pd
from _timing import best_of
from heormodel.models import MicrosimModel
from heormodel.run import run_psa

from equipoise.simulation.microsim import Microsimulation, microsimulate
from equipoise.simulation.model import Modifier, MultiStateModel

STATES = ("H", "S1", "S2", "D")
STRATEGIES = ("No Treatment", "Treatment")
N_CYCLES, DISCOUNT, SEED = 30, 0.03, 1
P_HD, P_HS1, P_S1H, P_S1S2, RR_S1, RR_S2 = 0.005, 0.15, 0.5, 0.105, 3.0, 10.0
R_HD = -math.log(1 - P_HD)
P_S1D, P_S2D = 1 - math.exp(-RR_S1 * R_HD), 1 - math.exp(-RR_S2 * R_HD)
P = np.array([[1 - P_HS1 - P_HD, P_HS1, 0, P_HD],
              [P_S1H, 1 - P_S1H - P_S1S2 - P_S1D, P_S1S2, P_S1D],
              [0, 0, 1 - P_S2D, P_S2D],
              [0, 0, 0, 1]])
COST = {"No Treatment": np.array([2000.0, 4000, 15000, 0]),
        "Treatment": np.array([2000.0, 16000, 27000, 0])}
QALY = {"No Treatment": np.array([1.0, 0.75, 0.5, 0]),
        "Treatment": np.array([1.0, 0.95, 0.5, 0])}



# --- equipoise --------------------------------------------------------------------------------

def equipoise_model(strategy: str) -> MultiStateModel:
    return MultiStateModel.build(STATES, [1, 0, 0, 0], P, N_CYCLES,
                                 {"cost": COST[strategy], "qaly": QALY[strategy]})


def equipoise_run(n: int) -> dict[str, Microsimulation]:
    return {s: microsimulate(equipoise_model(s), n, SEED, discount=DISCOUNT, correction="none")
            for s in STRATEGIES}


def equipoise_summary(runs: dict[str, Microsimulation]) -> dict[str, tuple[float, float]]:
    out = {}
    for s in STRATEGIES:
        for k in ("cost", "qaly"):
            out[f"{s} {k}"] = (float(runs[s].means[k][0]), float(runs[s].mcse[k][0]))
    for k in ("cost", "qaly"):
        mean, se = runs["Treatment"].paired_difference(runs["No Treatment"], k)
        out[f"incremental {k}"] = (float(mean[0]), float(se[0]))
    return out


# --- heormodel --------------------------------------------------------------------------------

def transition_probabilities(params: pd.Series, intervention: str, state: np.ndarray,
                             attrs: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    return P[state]


def state_rewards(params: pd.Series, intervention: str, state: np.ndarray,
                  attrs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return COST[intervention][state], QALY[intervention][state]


def heormodel_engine(n: int) -> MicrosimModel:
    return MicrosimModel.discrete(
        states=STATES, transition_probabilities=transition_probabilities,
        state_rewards=state_rewards, interventions=list(STRATEGIES), n_cycles=N_CYCLES,
        population=n, discount_rate=DISCOUNT, cycle_correction="none", initial_state="H")


def heormodel_run(engine: MicrosimModel, collect: str | None) -> Any:
    draws = pd.DataFrame({"unused": [0.0]}, index=pd.RangeIndex(1, name="iteration"))
    return run_psa(engine, draws, seed=SEED, collect=collect, sequential=True, progress=False)


def heormodel_summary(result: Any) -> dict[str, tuple[float, float]]:
    ind = result.individuals
    out = {}
    per = {s: ind[ind["intervention"] == s].sort_values("individual") for s in STRATEGIES}
    for s in STRATEGIES:
        for k in ("cost", "qaly"):
            x = per[s][k].to_numpy()
            out[f"{s} {k}"] = (float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)))
    for k in ("cost", "qaly"):
        d = per["Treatment"][k].to_numpy() - per["No Treatment"][k].to_numpy()
        out[f"incremental {k}"] = (float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size)))
    return out


# --- bigger runs ------------------------------------------------------------------------------

def extended_model(treated: bool) -> MultiStateModel:
    """Krijkamp's Appendix B: duration-dependent death and utility, a baseline modifier."""
    dur = np.arange(N_CYCLES)
    slope = 1 + 0.2 * dur
    p_s1d, p_s2d = 1 - np.exp(-RR_S1 * R_HD * slope), 1 - np.exp(-RR_S2 * R_HD * slope)
    m = np.repeat(P[None], N_CYCLES, axis=0)
    m[:, 1, 3], m[:, 1, 1] = p_s1d, 1 - P_S1H - P_S1S2 - p_s1d
    m[:, 2, 3], m[:, 2, 2] = p_s2d, 1 - p_s2d
    s = STRATEGIES[treated]
    qaly = np.tile(QALY[s], (N_CYCLES, 1))
    modifiers = []
    if treated:
        qaly[:, 1] = 0.95 - 0.03 * dur
        modifiers = [Modifier("qaly", ("S1",), 0.95, 1.05)]
    return MultiStateModel.build(STATES, [1, 0, 0, 0], m, N_CYCLES,
                                 {"cost": COST[s][None], "qaly": qaly}, by_duration=True,
                                 duration_states=("S1", "S2"), modifiers=modifiers)


def psa_model(n_draws: int) -> MultiStateModel:
    """Markov Sick-Sicker with a (D, S, S) draw axis: p_HS1 ~ U(0.1, 0.2)."""
    p_hs1 = np.random.default_rng(0).uniform(0.1, 0.2, n_draws)
    m = np.repeat(P[None, None], n_draws, axis=0)
    m[:, 0, 0, 1], m[:, 0, 0, 0] = p_hs1, 1 - p_hs1 - P_HD
    return MultiStateModel.build(STATES, [1, 0, 0, 0], m, N_CYCLES,
                                 {"cost": COST["Treatment"], "qaly": QALY["Treatment"]})


def throughput(label: str, model: MultiStateModel, n: int, repeat: int) -> None:
    secs, _ = best_of(repeat, lambda: microsimulate(model, n, SEED, discount=DISCOUNT,
                                                    correction="none"))
    cycles = model.n_draws * n * N_CYCLES
    print(f"  {label:44s} {cycles:>13,} patient-cycles {secs:8.3f} s "
          f"{cycles / secs / 1e6:8.1f} M/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--big", type=int, default=1_000_000)
    args = ap.parse_args()
    threads = numba.get_num_threads()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"numba {numba.__version__} ({threads} threads)")
    print(f"Sick-Sicker A: {args.n:,} people x {N_CYCLES} cycles x {len(STRATEGIES)} "
          f"strategies\n")

    start = time.perf_counter()
    equipoise_run(100)
    warm = time.perf_counter() - start
    eq_secs, eq_runs = best_of(args.repeat, lambda: equipoise_run(args.n))
    numba.set_num_threads(1)
    eq1_secs, _ = best_of(args.repeat, lambda: equipoise_run(args.n))
    numba.set_num_threads(threads)

    engine = heormodel_engine(args.n)
    hm_secs, _ = best_of(args.repeat, lambda: heormodel_run(engine, None))
    hmi_secs, hm_result = best_of(1, lambda: heormodel_run(engine, "individuals"))

    print(f"equipoise  first call (load/compile, once): {warm:8.3f} s")
    print(f"equipoise  microsimulate, {threads} threads:        {eq_secs:8.3f} s")
    print(f"equipoise  microsimulate, 1 thread:          {eq1_secs:8.3f} s")
    print(f"heormodel  run_psa (collect=None):           {hm_secs:8.3f} s")
    print(f"heormodel  run_psa (collect='individuals'):  {hmi_secs:8.3f} s")
    print(f"ratio heormodel / equipoise: {hm_secs / eq_secs:6.1f}x ({threads} threads), "
          f"{hm_secs / eq1_secs:6.1f}x (1 thread)\n")

    ours, theirs = equipoise_summary(eq_runs), heormodel_summary(hm_result)
    print(f"{'':24s} {'equipoise (MCSE)':>26s} {'heormodel (MCSE)':>26s} {'z':>6s}")
    for key, (m1, s1) in ours.items():
        m2, s2 = theirs[key]
        fmt = "{:12.4f} ({:8.4f})" if "qaly" in key else "{:12.1f} ({:8.1f})"
        z = (m1 - m2) / math.hypot(s1, s2)
        print(f"{key:24s} {fmt.format(m1, s1):>26s} {fmt.format(m2, s2):>26s} {z:6.2f}")
    print("(z = difference / combined MCSE; the two engines' streams are independent)\n")

    print(f"equipoise throughput ({threads} threads):")
    throughput(f"Sick-Sicker A, {args.big:,} people", equipoise_model("Treatment"), args.big,
               args.repeat)
    throughput(f"Sick-Sicker B (duration, modifier), {args.big:,}", extended_model(True),
               args.big, args.repeat)
    throughput("PSA: 200 draws x 50,000 people", psa_model(200), 50_000, args.repeat)


if __name__ == "__main__":
    main()
