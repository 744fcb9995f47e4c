"""Cost building blocks for strategies: weight-based drug doses, infusion visits, therapy sessions.

Each takes every unit cost the bundled economic inputs lack from the caller, with no default
(``datasets/economic_inputs.py`` lists what the file has and its ``gap``); parts must share one
currency and price year (:func:`equipoise.datasets.economic_inputs.sum_costs`).
"""

from __future__ import annotations

from collections.abc import Iterable

from equipoise.datasets.economic_inputs import Cost, is_finite_number, sum_costs
from equipoise.errors import ModelError


def drug_cost_per_dose(dose_mg_per_kg: float, weight_kg: float, price_per_mg: Cost) -> Cost:
    """Drug cost of one weight-based dose: dose (mg/kg) x weight (kg) x price per mg.

    The inputs file gives no price per mg for ketamine or any other drug, so the caller passes
    one, naming its source in ``price_per_mg.basis``; there is no default. The file's nearest
    figures are per dose or per session and stay inputs of their own:
    ``ross_soeteman2020.esketamine_price_per_dose`` (esketamine, fixed-dose, TRD) and
    ``ee_trd.iv_ketamine_drug_cost_per_session`` (an unpublished toolkit's assumption).
    """
    _positive("dose_mg_per_kg", dose_mg_per_kg)
    _positive("weight_kg", weight_kg)
    _not_negative("price_per_mg", price_per_mg)
    return Cost(dose_mg_per_kg * weight_kg * price_per_mg.amount, price_per_mg.currency,
                price_per_mg.price_year,
                f"{dose_mg_per_kg:g} mg/kg x {weight_kg:g} kg x {price_per_mg.basis}")


def infusion_visit_cost(*, drug: Cost, monitoring_minutes: float, staff_cost_per_minute: Cost,
                        other: Iterable[Cost] = ()) -> Cost:
    """Cost of one infusion visit: drug + monitoring minutes x staff cost per minute + other.

    The inputs file gives neither the monitoring time nor a staff cost per minute, so both are
    required. Its whole-visit figures (``ketaminerelief.iv_infusion_cost``,
    ``openpolitics.booster_infusion_cost``, ``ee_trd.iv_ketamine_session_cost`` and its
    ``ee_trd.iv_ketamine_admin_cost_per_session``) are grey sources and stay inputs of their own;
    pass one in ``other`` only for a part the drug and monitoring do not already cover.
    All parts must share one currency and price year (see :func:`sum_costs`).
    """
    return sum_costs(drug, _staff_time(monitoring_minutes, staff_cost_per_minute), *other)


def therapy_session_cost(*, minutes: float, staff_cost_per_minute: Cost,
                         other: Iterable[Cost] = ()) -> Cost:
    """Cost of one therapy session: therapist minutes x staff cost per minute + other.

    The inputs file gives CBT costs only per course (``nice_cg22.cbt_course_cost``, a range;
    ``jcpmh.cbt_course_cost`` for ``jcpmh.cbt_sessions_per_course`` sessions) and no session
    length or therapist cost per minute, so the caller passes both. All parts must share one
    currency and price year (see :func:`sum_costs`).
    """
    return sum_costs(_staff_time(minutes, staff_cost_per_minute), *other)


def _staff_time(minutes: float, per_minute: Cost) -> Cost:
    _positive("minutes", minutes)
    _not_negative("staff_cost_per_minute", per_minute)
    return Cost(minutes * per_minute.amount, per_minute.currency, per_minute.price_year,
                f"{minutes:g} min x {per_minute.basis}")


def _positive(name: str, x: float) -> None:
    if not (is_finite_number(x) and x > 0):
        raise ModelError(f"{name} must be a positive finite number, got {x!r}")


def _not_negative(name: str, cost: Cost) -> None:
    if cost.amount < 0:
        raise ModelError(f"{name} must not be negative, got {cost.amount:g} {cost.currency}")
