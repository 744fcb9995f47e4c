"""Microsimulation on a Dask cluster: the same run as `microsimulate`, chunk by chunk.

The run is split into (draw range, patient range) chunks; each is one `simulate_chunk` task.
Random streams are keyed by global draw and patient numbers, so the assembled result equals
the single-process run bit for bit, whatever the chunking or the workers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from typing import TypeVar

import numpy as np
from distributed import Client, LocalCluster, as_completed

from equipoise.errors import ModelError
from equipoise.simulation.microsim import (
    MicrosimChunk,
    Microsimulation,
    as_seed,
    assemble_chunks,
    check_run,
    patient_reward_names,
    reward_weights,
    simulate_chunk,
    transition_weights,
)
from equipoise.simulation.model import MultiStateModel
from equipoise.simulation.run import (
    Progress,
    ScenarioResult,
    outcome_of,
    patient_rewards,
    simulate_scenario,
    with_draws,
)
from equipoise.simulation.scenario import Scenario


def microsimulate_distributed(model: MultiStateModel, n_patients: int,
                              seed: int | np.random.Generator, *,
                              discount: float | Mapping[str, float], correction: str,
                              scheduler: str | Client = "local", n_workers: int = 2,
                              chunk_patients: int | None = None, chunk_draws: int = 1,
                              timeout: float = 10.0,
                              patient_rewards: Collection[str] | None = None
                              ) -> Microsimulation:
    """`microsimulate` with its chunks run by Dask workers.

    Parameters
    ----------
    scheduler
        ``"local"``: a `distributed.LocalCluster` of ``n_workers`` single-threaded worker
        processes, started and closed by this call; the address ``"tcp://HOST:PORT"`` of a
        running scheduler (whose workers must be able to import equipoise); or a connected
        `distributed.Client`, kept open, so that several runs share one connection.
    chunk_patients, chunk_draws
        Patients and draws per task (default: the patients split evenly over the workers, one
        draw per task); results do not depend on them.
    timeout
        Seconds to wait for a remote scheduler before giving up.
    patient_rewards
        Rewards totalled patient by patient, as `microsimulate` takes them.
    """
    _check_scheduler(scheduler, n_workers)
    if isinstance(chunk_draws, bool) or not isinstance(chunk_draws, int) or chunk_draws < 1:
        raise ModelError(f"chunk_draws must be a positive integer, got {chunk_draws!r}")
    check_run(n_patients, None)
    size = check_run(n_patients, chunk_patients if chunk_patients is not None
                     else -(-n_patients // n_workers))
    seed = as_seed(seed)
    weights = reward_weights(model, discount, correction)
    moves = transition_weights(model, discount)
    patient_reward_names(model, patient_rewards)
    blocks = [(range(d, min(d + chunk_draws, model.n_draws)),
               range(p, min(p + size, n_patients)))
              for d in range(0, model.n_draws, chunk_draws)
              for p in range(0, n_patients, size)]

    def run(client: Client) -> list[MicrosimChunk]:
        shared = client.scatter(model, broadcast=True)
        futures = [client.submit(simulate_chunk, shared, seed, draws, patients,
                                 weights=weights, patient_rewards=patient_rewards,
                                 transition_weights=moves, pure=False)
                   for draws, patients in blocks]
        chunks: list[MicrosimChunk] = client.gather(futures)
        return chunks

    chunks = _with_client(scheduler, n_workers, timeout, run)
    return assemble_chunks(model, seed, n_patients, chunks, weights=weights)


# A worker keeps the scenario it last built, so each worker compiles it once per run, from a
# few kilobytes of file, instead of receiving every strategy's arrays.
_BUILT: dict[str, Scenario] = {}


def _built(key: str, build: Callable[[], Scenario]) -> Scenario:
    if key not in _BUILT:
        _BUILT.clear()
        _BUILT[key] = build()
    return _BUILT[key]


def _scenario_chunk(key: str, build: Callable[[], Scenario], strategy: str, seed: int,
                    draws: range, patients: range, patient_rewards: tuple[str, ...],
                    n_patients: int) -> MicrosimChunk:
    scenario = _built(key, build)
    model = with_draws(scenario.strategies[strategy], scenario.n_draws)
    weights = reward_weights(model, scenario.discount, scenario.correction)
    chunk = simulate_chunk(model, seed, draws, patients, weights=weights,
                           patient_rewards=patient_rewards,
                           transition_weights=transition_weights(model, scenario.discount))
    return chunk.reduced(n_patients) if patients.start == 0 and len(patients) == n_patients \
        else chunk


def simulate_scenario_distributed(build: Callable[[], Scenario], n_patients: int | None,
                                  seed: int | np.random.Generator, *,
                                  scheduler: str | Client = "local", n_workers: int = 2,
                                  chunk_patients: int | None = None,
                                  chunk_draws: int | None = None, timeout: float = 10.0,
                                  progress: Progress | None = None) -> ScenarioResult:
    """`simulate_scenario` with every strategy's chunks run by Dask workers at once.

    ``build`` makes the scenario (e.g. ``functools.partial(load_strategies, document,
    draws=1000, seed=1)``); it must be picklable and give the same scenario every time. Each
    worker builds it once and simulates (strategy, draw range, patient range) tasks; the
    result equals ``simulate_scenario(build(), n_patients, seed)`` bit for bit. A cohort
    scenario is exact and quick, and runs in this process. ``scheduler`` as in
    `microsimulate_distributed`; local workers use one numba thread each.
    """
    scenario = build()
    if scenario.method == "cohort":
        return simulate_scenario(scenario, n_patients, seed, progress=progress)
    _check_scheduler(scheduler, n_workers)
    n = scenario.default_patients if n_patients is None else n_patients
    check_run(n, None)
    seed = as_seed(seed)
    d = scenario.n_draws
    workers = n_workers if scheduler == "local" else 2
    size = check_run(n, chunk_patients if chunk_patients is not None
                     else -(-n // max(1, workers if d < workers else 1)))
    per = chunk_draws if chunk_draws is not None else max(1, -(-d // (8 * workers)))
    if isinstance(per, bool) or not isinstance(per, int) or per < 1:
        raise ModelError(f"chunk_draws must be a positive integer, got {chunk_draws!r}")
    key = uuid.uuid4().hex
    tasks = [(name, range(a, min(a + per, d)), range(p, min(p + size, n)))
             for name in scenario.strategies for a in range(0, d, per)
             for p in range(0, n, size)]
    keep = {name: patient_rewards(scenario, with_draws(m, d))
            for name, m in scenario.strategies.items()}

    def run(client: Client) -> dict[str, list[MicrosimChunk]]:
        shared = client.scatter(build, broadcast=True)
        futures = {client.submit(_scenario_chunk, key, shared, name, seed, draws, patients,
                                 keep[name], n, pure=False): name
                   for name, draws, patients in tasks}
        chunks: dict[str, list[MicrosimChunk]] = {name: [] for name in scenario.strategies}
        for done, future in enumerate(as_completed(futures), start=1):
            chunks[futures[future]].append(future.result())
            if progress is not None:
                progress(done, len(tasks))
        return chunks

    chunks = _with_client(scheduler, n_workers, timeout, run)
    outcomes = {}
    for name, model in scenario.strategies.items():
        full = with_draws(model, d)
        weights = reward_weights(full, scenario.discount, scenario.correction)
        sim = assemble_chunks(full, seed, n, chunks[name], weights=weights)
        outcomes[name] = outcome_of(scenario, name, full, sim)
    return ScenarioResult(scenario, n, seed, outcomes)


_T = TypeVar("_T")


def _with_client(scheduler: str | Client, n_workers: int, timeout: float,
                 run: Callable[[Client], _T]) -> _T:
    if isinstance(scheduler, Client):
        return run(scheduler)
    if scheduler == "local":
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0", env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
                Client(cluster) as client:
            return run(client)
    try:
        client = Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise ModelError(f"cannot reach the Dask scheduler at {scheduler} within "
                         f"{timeout:g} s: {exc}") from exc
    with client:
        return run(client)


def _check_scheduler(scheduler: str | Client, n_workers: int) -> None:
    if not isinstance(scheduler, Client) and scheduler != "local" and not (
            scheduler.startswith("tcp://") and len(scheduler) > len("tcp://")):
        raise ModelError(f"scheduler must be 'local' or 'tcp://HOST:PORT', got {scheduler!r}")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ModelError(f"n_workers must be a positive integer, got {n_workers!r}")
