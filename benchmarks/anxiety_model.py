"""Benchmark: the anxiety strategy model (bundled example ``anxiety``, six strategies, 52 weekly
cycles), run three ways in one script.

(1) Throughput: equipoise's compiled microsimulation against a plain NumPy microsimulation of
    the same six models (the vectorised form of Krijkamp et al. 2018: every cycle, one uniform
    per patient and an inverse-CDF pick over the row of each patient's state, rewards gathered by
    state), 1 draw x N patients. Patient-cycles per second and the ratio; costs and QALYs agree
    within Monte Carlo error (the two use different random streams).
(2) PSA: 1,000 draws x 1,000 patients x 52 cycles x 6 strategies, end to end in one process:
    sampling and compiling the models, simulating, and the CEA (incremental analysis, CEAC,
    EVPI over 101 willingness-to-pay values). The issue's bound is 60 s.
(3) Dask: the same PSA end to end (the workers build the models from the file, then simulate
    every (strategy, draws, patients) task) on a distributed.LocalCluster of 1 and then 2
    single-threaded worker processes (numba limited to one thread in each), reached through its
    tcp:// scheduler address as ``--scheduler tcp://...`` does; scaling efficiency
    T1 / (2 T2), and a check that both give the single-process result bit for bit.

Usage: python benchmarks/anxiety_model.py [--n 1000000] [--draws 1000] [--patients 1000]
       [--repeat 3] [--skip-dask]
Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from functools import partial
from typing import Any

import numba
import numpy as np
from _timing import best_of, median, timed

from equipoise.datasets.models import example_path
from equipoise.economics.cea import cost_effectiveness
from equipoise.simulation.microsim import Microsimulation, microsimulate
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.run import ScenarioResult, simulate_scenario
from equipoise.simulation.scenario import Scenario
from equipoise.simulation.strategies import load_strategies

SEED = 7
KEEP = ("cost", "qaly")



def equipoise_run(scenario: Scenario, n: int) -> dict[str, Microsimulation]:
    return {name: microsimulate(m, n, SEED, discount=scenario.discount,
                                correction=scenario.correction, patient_rewards=KEEP)
            for name, m in scenario.strategies.items()}


def numpy_run(scenario: Scenario, n: int, rng: np.random.Generator
              ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-patient discounted totals of cost and QALYs, vectorised over patients."""
    out = {}
    for name, m in scenario.strategies.items():
        w = {r: _weights(scenario, m, r) for r in KEEP}
        cum = np.cumsum(m.transitions[0], axis=-1)          # (T, S, S)
        state = np.zeros(n, dtype=np.int64)
        totals = {r: np.zeros(n) for r in KEEP}
        for t in range(m.n_cycles + 1):
            if t > 0:
                u = rng.random(n)
                state = (u[:, None] >= cum[t - 1, state]).sum(axis=1)
            for r in KEEP:
                totals[r] += m.rewards[r][0, t if m.rewards[r].shape[1] > 1 else 0, state] * w[r][t]
        out[name] = (totals["cost"], totals["qaly"])
    return out


def _weights(scenario: Scenario, m: MultiStateModel, reward: str) -> np.ndarray:
    from equipoise.simulation.microsim import reward_weights
    return reward_weights(m, scenario.discount, scenario.correction)[reward]


def psa(draws: int, patients: int, runner: Any = None) -> tuple[ScenarioResult, Any]:
    scenario = load_strategies(example_path("anxiety"), draws=draws, seed=SEED)
    result = simulate_scenario(scenario, patients, SEED, runner=runner)
    cea = cost_effectiveness(result.matrix("cost"), result.matrix("qaly"), result.strategies)
    return result, cea


def dask_psa(draws: int, patients: int, workers: int) -> tuple[float, ScenarioResult]:
    from distributed import Client, LocalCluster

    from equipoise.simulation.scheduler import simulate_scenario_distributed

    build = partial(load_strategies, example_path("anxiety"), draws=draws, seed=SEED)
    warm = partial(load_strategies, example_path("anxiety"), draws=2, seed=SEED)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
            Client(cluster.scheduler_address) as client:       # a tcp:// scheduler
        simulate_scenario_distributed(warm, 10, SEED, scheduler=client)   # workers start up
        start = time.perf_counter()
        result = simulate_scenario_distributed(build, patients, SEED, scheduler=client)
        return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--patients", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--dask-patients", type=int, action="append",
                    help="patients per draw for the Dask runs (repeatable; default 1000 and "
                         "10000: fixed costs dominate the first, simulation the second)")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, numba "
          f"{numba.__version__} ({numba.get_num_threads()} threads), numpy {np.__version__}")

    scenario = load_strategies(example_path("anxiety"))
    cycles = scenario.n_cycles * len(scenario.strategies)
    equipoise_run(scenario, 1000)                              # compile (cached on disk)
    times, runs = timed(args.repeat, lambda: equipoise_run(scenario, args.n))
    numba.set_num_threads(1)
    times1, _ = timed(args.repeat, lambda: equipoise_run(scenario, args.n))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    t_eq = min(times)
    n_np = min(args.n, 200_000)
    t_np, ref = best_of(1, lambda: numpy_run(scenario, n_np, np.random.default_rng(SEED)))
    pc = args.n * cycles
    print(f"\n(1) throughput, {args.n:,} patients x {scenario.n_cycles} cycles x "
          f"{len(scenario.strategies)} strategies")
    for label, ts in ((f"{numba.config.NUMBA_NUM_THREADS} threads", times),
                      ("1 thread ", times1)):
        print(f"  equipoise, {label}  best {min(ts):7.3f} s  {pc / min(ts) / 1e6:7.1f} M "
              f"patient-cycles/s; median of {len(ts)} {pc / median(ts) / 1e6:7.1f} M/s")
    print(f"  NumPy ({n_np:,} patients) {t_np:8.3f} s  "
          f"{n_np * cycles / t_np / 1e6:8.1f} M patient-cycles/s")
    print(f"  ratio equipoise / NumPy per patient-cycle: "
          f"{(pc / t_eq) / (n_np * cycles / t_np):.1f}x")
    print(f"\n  {'strategy':18s} {'equipoise cost':>16s} {'NumPy cost':>16s} {'z':>6s}"
          f" {'equipoise QALY':>15s} {'NumPy QALY':>12s} {'z':>6s}")
    for name, run in runs.items():
        line = f"  {name:18s}"
        for k, (mine, other) in enumerate(zip(("cost", "qaly"), ref[name], strict=True)):
            m, se = float(run.means[mine][0]), float(run.mcse[mine][0])
            o, ose = float(other.mean()), float(other.std(ddof=1) / math.sqrt(other.size))
            z = (m - o) / math.hypot(se, ose)
            line += (f" {m:16.4f} {o:16.4f} {z:6.2f}" if k == 0
                     else f" {m:15.4f} {o:12.4f} {z:6.2f}")
        print(line)

    t_psa, (_, cea) = best_of(1, lambda: psa(args.draws, args.patients))
    total = args.draws * args.patients * cycles
    print(f"\n(2) PSA, {args.draws:,} draws x {args.patients:,} patients x {scenario.n_cycles} "
          f"cycles x {len(scenario.strategies)} strategies = {total:,} patient-cycles")
    print(f"  end to end (sample + compile + simulate + CEA): {t_psa:.2f} s (bound 60 s)")
    best = [r.strategy for r in cea.incremental if r.status == "ND"]
    print(f"  non-dominated: {', '.join(best)}; EVPI at 20,000/QALY: "
          f"{float(np.interp(20000, cea.wtp, cea.evpi)):.2f}")

    if args.skip_dask:
        return
    for patients in args.dask_patients or [args.patients, 10 * args.patients]:
        print(f"\n(3) Dask LocalCluster, PSA of {args.draws} draws x {patients:,} patients")
        start = time.perf_counter()
        base, _ = psa(args.draws, patients)
        print(f"  in process ({numba.get_num_threads()} numba threads): "
              f"{time.perf_counter() - start:7.2f} s")
        timings = {}
        for workers in (1, 2):
            secs, dres = dask_psa(args.draws, patients, workers)
            timings[workers] = secs
            same = all(np.array_equal(dres.outcomes[s].totals[k], base.outcomes[s].totals[k])
                       for s in base.outcomes for k in KEEP)
            print(f"  {workers} worker(s): {secs:7.2f} s  identical to single-process: {same}")
        print(f"  scaling efficiency T1 / (2 T2) = {timings[1] / (2 * timings[2]):.2f}")

if __name__ == "__main__":
    main()
