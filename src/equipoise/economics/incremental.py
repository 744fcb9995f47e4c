"""Incremental cost-effectiveness analysis with strong and extended dominance.

Strategies are sorted by cost; a strategy is strongly dominated when another costs no more and
gives at least as much effect (one of the two strictly); among the rest, a strategy is extendedly
dominated when its ICER exceeds that of the next more effective strategy. ICERs are then taken
between consecutive non-dominated strategies (as dampack's ``calculate_icers``).

References
----------
Drummond MF, Sculpher MJ, Claxton K, Stoddart GL, Torrance GW. Methods for the Economic
Evaluation of Health Care Programmes. 4th ed. Oxford University Press; 2015.
Cantor SB. Cost-effectiveness analysis, extended dominance, and ethics: a quantitative
assessment. Med Decis Making 1994;14:259-265.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

from equipoise.errors import ModelError

NON_DOMINATED, DOMINATED, EXTENDED = "ND", "D", "ED"


@dataclass(frozen=True)
class IncrementalRow:
    """One strategy's place in the incremental analysis."""

    strategy: str
    cost: float
    effect: float
    status: str                 # ND, D (strongly dominated) or ED (extendedly dominated)
    compared_with: str | None   # the next cheaper non-dominated strategy (ND rows only)
    inc_cost: float | None
    inc_effect: float | None
    icer: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def incremental(costs: Mapping[str, float], effects: Mapping[str, float],
                *, tolerance: float = 0.0) -> tuple[IncrementalRow, ...]:
    """Incremental analysis of strategies' mean costs and effects.

    Returns non-dominated strategies by increasing cost (with ICERs against the previous one),
    then extendedly dominated, then strongly dominated strategies.
    """
    if set(costs) != set(effects):
        raise ModelError("costs and effects must name the same strategies")
    if not costs:
        raise ModelError("no strategies to compare")
    names = sorted(costs, key=lambda s: (costs[s], -effects[s], s))
    for a, b in pairwise(names):
        if costs[a] == costs[b] and effects[a] == effects[b]:
            raise ModelError(f"strategies {a!r} and {b!r} have identical cost and effect; "
                             "merge them or drop one")
    dominated = set()
    for s in names:
        for o in names:
            if o == s:
                continue
            cheaper = costs[o] <= costs[s] + tolerance
            better = effects[o] >= effects[s] - tolerance
            strict = costs[o] < costs[s] - tolerance or effects[o] > effects[s] + tolerance
            if cheaper and better and strict:
                dominated.add(s)
                break
    frontier = [s for s in names if s not in dominated]
    extended: list[str] = []
    changed = True
    while changed:
        changed = False
        icers = [(costs[b] - costs[a]) / (effects[b] - effects[a])
                 for a, b in pairwise(frontier)]
        for i in range(len(icers) - 1):
            if icers[i] > icers[i + 1]:
                extended.append(frontier.pop(i + 1))
                changed = True
                break
    rows = []
    for i, s in enumerate(frontier):
        if i == 0:
            rows.append(IncrementalRow(s, costs[s], effects[s], NON_DOMINATED, None, None, None,
                                       None))
            continue
        prev = frontier[i - 1]
        dc, de = costs[s] - costs[prev], effects[s] - effects[prev]
        rows.append(IncrementalRow(s, costs[s], effects[s], NON_DOMINATED, prev, dc, de,
                                   dc / de))
    rows += [IncrementalRow(s, costs[s], effects[s], EXTENDED, None, None, None, None)
             for s in sorted(extended, key=lambda s: costs[s])]
    rows += [IncrementalRow(s, costs[s], effects[s], DOMINATED, None, None, None, None)
             for s in names if s in dominated]
    return tuple(rows)
