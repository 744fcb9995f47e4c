"""Running a multi-state model: the cohort trace (vectorised over draws).

References
----------
Siebert U, Alagoz O, Bayoumi AM, et al. State-transition modeling: a report of the ISPOR-SMDM
Modeling Good Research Practices Task Force-3. Med Decis Making 2012;32:690-700.
"""

from __future__ import annotations

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.model import Float, MultiStateModel


def cohort_trace(model: MultiStateModel) -> Float:
    """State occupancy for t = 0..T per draw, shape ``(D, T + 1, S)``.

    A cohort has no patient history, so a model with duration levels or baseline modifiers is
    refused: run it with `equipoise.simulation.microsim.microsimulate`.
    """
    if model.needs_microsimulation:
        why = (f"{model.n_durations} duration levels" if model.n_durations > 1
               else f"{len(model.modifiers)} per-patient modifier(s)")
        raise ModelError(f"a cohort trace cannot follow patient history ({why}); this model "
                         "needs microsimulation")
    d, s = model.n_draws, len(model.states)
    trace = np.empty((d, model.n_cycles + 1, s))
    trace[:, 0] = model.initial
    for t in range(1, model.n_cycles + 1):
        p = np.broadcast_to(model.transition(t), (d, s, s))
        trace[:, t] = np.einsum("ds,dsk->dk", trace[:, t - 1], p)
    return trace
