"""Microsimulation on a Dask cluster: the same run as `microsimulate`, chunk by chunk.

The run is split into (draw range, patient range) chunks; each is one `simulate_chunk` task.
Random streams are keyed by global draw and patient numbers, so the assembled result equals
the single-process run bit for bit, whatever the chunking or the workers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
from distributed import Client, LocalCluster

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
)
from equipoise.simulation.model import MultiStateModel


def microsimulate_distributed(model: MultiStateModel, n_patients: int,
                              seed: int | np.random.Generator, *,
                              discount: float | Mapping[str, float], correction: str,
                              scheduler: str = "local", n_workers: int = 2,
                              chunk_patients: int | None = None, chunk_draws: int = 1,
                              timeout: float = 10.0,
                              patient_rewards: Collection[str] | None = None
                              ) -> Microsimulation:
    """`microsimulate` with its chunks run by Dask workers.

    Parameters
    ----------
    scheduler
        ``"local"``: a `distributed.LocalCluster` of ``n_workers`` single-threaded worker
        processes, started and closed by this call; or the address ``"tcp://HOST:PORT"`` of a
        running scheduler (whose workers must be able to import equipoise).
    chunk_patients, chunk_draws
        Patients and draws per task (default: the patients split evenly over the workers, one
        draw per task); results do not depend on them.
    timeout
        Seconds to wait for a remote scheduler before giving up.
    patient_rewards
        Rewards totalled patient by patient, as `microsimulate` takes them.
    """
    if scheduler != "local" and not (scheduler.startswith("tcp://")
                                     and len(scheduler) > len("tcp://")):
        raise ModelError(f"scheduler must be 'local' or 'tcp://HOST:PORT', got {scheduler!r}")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ModelError(f"n_workers must be a positive integer, got {n_workers!r}")
    if isinstance(chunk_draws, bool) or not isinstance(chunk_draws, int) or chunk_draws < 1:
        raise ModelError(f"chunk_draws must be a positive integer, got {chunk_draws!r}")
    check_run(n_patients, None)
    size = check_run(n_patients, chunk_patients if chunk_patients is not None
                     else -(-n_patients // n_workers))
    seed = as_seed(seed)
    weights = reward_weights(model, discount, correction)
    patient_reward_names(model, patient_rewards)
    blocks = [(range(d, min(d + chunk_draws, model.n_draws)),
               range(p, min(p + size, n_patients)))
              for d in range(0, model.n_draws, chunk_draws)
              for p in range(0, n_patients, size)]

    def run(client: Client) -> list[MicrosimChunk]:
        shared = client.scatter(model, broadcast=True)
        futures = [client.submit(simulate_chunk, shared, seed, draws, patients,
                                 weights=weights, patient_rewards=patient_rewards,
                                 pure=False)
                   for draws, patients in blocks]
        chunks: list[MicrosimChunk] = client.gather(futures)
        return chunks

    if scheduler == "local":
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            chunks = run(client)
    else:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ModelError(f"cannot reach the Dask scheduler at {scheduler} within "
                             f"{timeout:g} s: {exc}") from exc
        with client:
            chunks = run(client)
    return assemble_chunks(model, seed, n_patients, chunks, weights=weights)
