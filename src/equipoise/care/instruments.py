"""Instruments as scoring rules: items, answer codes, ranges, bands and change rules, each cited.

Built from the bundled definitions (`equipoise.datasets.instruments`). Only values the
definitions source are encoded; a rule they mark UNSOURCED (GAD-7 remission) is left out, so
asking for it is an error or None, never a silent default. Facts equipoise read itself for
values the definitions leave UNVERIFIED (the CADSS item scale) come from
``instrument_additions.json``, each with the words of its source.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from equipoise.datasets.instruments import (
    INSTRUMENT_FILES,
    load_instrument_additions,
    load_instrument_definition,
)
from equipoise.errors import MeasureError


@dataclass(frozen=True)
class Band:
    """A severity band: totals from ``low`` to ``high`` inclusive."""

    low: int
    high: int
    label: str
    code: str | None = None            # a LOINC answer code for the band, where there is one


@dataclass(frozen=True)
class Item:
    """One scored rating: its key, its LOINC code where it has one, and a short label."""

    key: str                           # "1", "2", ... or "1.fear", "1.avoidance" (LSAS)
    loinc: str | None
    label: str


@dataclass(frozen=True)
class Rule:
    """A cited number: what it is, its value and the sources that give it."""

    name: str
    value: float
    sources: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Instrument:
    """What scoring one instrument needs; every number carries its sources."""

    id: str
    name: str
    items: tuple[Item, ...]
    item_range: tuple[int, int]
    total_range: tuple[int, int]
    bands: tuple[Band, ...]
    band_sources: tuple[str, ...]
    answer_codes: Mapping[str, int] = field(default_factory=dict)       # LOINC LA code -> score
    item_codes: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # per-item extras
    panel: str | None = None           # LOINC panel code
    total_code: str | None = None      # LOINC code of the total score
    mcid: Rule | None = None
    response: Rule | None = None       # the fraction of reduction from baseline
    response_strict: bool = False      # True: the reduction must exceed the fraction
    partial_response: Rule | None = None
    remission: Rule | None = None      # remission at totals <= value
    reliable_improvement: Rule | None = None
    reliable_change: Rule | None = None    # a published reliable change index, in points
    sources: Mapping[str, str] = field(default_factory=dict)
    caveats: tuple[str, ...] = ()

    @property
    def n_items(self) -> int:
        return len(self.items)

    def band(self, total: float) -> Band:
        for b in self.bands:
            if b.low <= total <= b.high:
                return b
        raise MeasureError(f"{self.id}: total {total:g} lies outside every severity band")

    def cite(self, keys: tuple[str, ...]) -> str:
        """The sources behind ``keys``, as ``key: reference`` separated by semicolons."""
        return "; ".join(f"{k}: {self.sources.get(k, k)}" for k in keys)


def _src(node: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(s) for s in node.get("src", ()))


def _codes(definition: Mapping[str, Any], list_id: str) -> dict[str, int]:
    return {a["code"]: int(a["score"]) for a in definition["answerLists"][list_id]["answers"]
            if a.get("score") is not None}


def _bands(raw: list[dict[str, Any]]) -> tuple[Band, ...]:
    return tuple(Band(int(b["min"]), int(b["max"]), str(b["label"]), b.get("la")) for b in raw)


def _gad7(d: Mapping[str, Any]) -> Instrument:
    change = d["change"]
    rci = _addition("gad7", "reliable_change_index")
    items = tuple(Item(str(i["n"]), i.get("loinc"), i.get("text", ""))
                  for i in d["items"] if i.get("scored", True) and i["n"] <= 7)
    extra = {a["code"]: int(a["score"])
             for a in d["answerLists"]["LL358-3+item2-variant"]["answers"]}
    return Instrument(
        d["id"], d["name"], items, tuple(d["scoring"]["itemRange"]),
        tuple(d["scoring"]["totalRange"]), _bands(d["severityBands"]), tuple(d["severitySrc"]),
        _codes(d, "LL358-3"), {"2": extra}, d["loinc"]["panel"], d["loinc"]["totalScore"],
        mcid=Rule("MCID", change["mcid"]["points"], _src(change["mcid"])),
        response=Rule("response", 0.5, _src(change["responseConvention"]),
                      change["responseConvention"].get("note", "")),
        reliable_improvement=Rule("reliable improvement (IAPT)",
                                  change["reliableImprovementIAPT"]["pointsDecrease"],
                                  _src(change["reliableImprovementIAPT"]), "secondary source"),
        reliable_change=Rule("reliable change index (Jacobson-Truax)", rci["value"],
                             ("bischoff2020",), "5.59 rounded to 6"),
        sources={**d["sources"], "bischoff2020": _cite(rci)},
        caveats=("remission: no sourced GAD-7 cut-off (the definition marks it UNSOURCED); "
                 "pass one explicitly to assess remission",))


def _phq9(d: Mapping[str, Any]) -> Instrument:
    change = d["change"]
    items = tuple(Item(str(i["n"]), i.get("loinc"), i.get("text", ""))
                  for i in d["items"] if i.get("scored", True) and i["n"] <= 9)
    return Instrument(
        d["id"], d["name"], items, tuple(d["scoring"]["itemRange"]),
        tuple(d["scoring"]["totalRange"]), _bands(d["severityBands"]), tuple(d["severitySrc"]),
        _codes(d, "LL358-3"), {}, d["loinc"]["panel"], d["loinc"]["totalScore"],
        mcid=Rule("MCID", change["mcid"]["points"], _src(change["mcid"])),
        response=Rule("response", 0.5, _src(change["response"])),
        partial_response=Rule("partial response", 0.25, _src(change["partialResponse"])),
        remission=Rule("remission", 4, _src(change["remission"]), "score < 5"),
        reliable_improvement=Rule("reliable improvement (IAPT)",
                                  change["reliableImprovementIAPT"]["pointsDecrease"],
                                  _src(change["reliableImprovementIAPT"]), "secondary source"),
        sources=d["sources"])


def _ham_a(d: Mapping[str, Any]) -> Instrument:
    change = d["change"]
    scale = [int(x["score"]) for x in d["itemScale"]]
    items = tuple(Item(str(i["n"]), None, i["label"]) for i in d["items"])
    bands = d["severityBands"]["recommended"]
    return Instrument(
        d["id"], d["name"], items, (min(scale), max(scale)), tuple(d["scoring"]["totalRange"]),
        _bands(bands["bands"]), tuple(bands["src"]), sources=d["sources"],
        response=Rule("response", 0.5, _src(change["response"])),
        remission=Rule("remission", 7, _src(change["remission"]), "total <= 7"),
        caveats=("severity bands differ between sources (Matza 2010 used; Cambio CKM differs)",))


def _lsas(d: Mapping[str, Any]) -> Instrument:
    s = d["structure"]
    items = tuple(Item(f"{n}.{kind}", None, f"situation {n}, {kind}")
                  for n in range(1, int(s["items"]) + 1) for kind in ("fear", "avoidance"))
    bands = d["severityBands"]
    return Instrument(
        d["id"], d["name"], items, (0, 3), tuple(s["totalRange"]), _bands(bands["bands"]),
        _src(bands), sources=d["sources"],
        response=Rule("response (ketamine SAD trial)", 0.35, _src(d["change"]),
                      "a reduction of more than 35%"),
        response_strict=True,
        caveats=(f"severity bands: confidence {bands['confidence']}",))


def _addition(instrument_id: str, field_name: str) -> dict[str, Any]:
    for entry in load_instrument_additions()["entries"]:
        if (entry["instrument"], entry["field"]) == (instrument_id, field_name):
            found: dict[str, Any] = entry
            return found
    raise MeasureError(f"{instrument_id}: no sourced {field_name.replace('_', ' ')}")


def _cite(entry: Mapping[str, Any]) -> str:
    return f"{entry['source']} ({entry['url']}): \"{entry['quote']}\""


def _cadss(d: Mapping[str, Any]) -> Instrument:
    # The definition leaves the item scale UNVERIFIED; equipoise read one (instrument_additions).
    scale = _addition("cadss", "item_scale")
    v = scale["value"]
    items = tuple(Item(str(n), None, f"item {n}") for n in range(1, int(v["items"]) + 1))
    return Instrument(
        d["id"], d["name"], items, (int(v["item_min"]), int(v["item_max"])),
        (int(v["total_min"]), int(v["total_max"])),
        (Band(int(v["total_min"]), int(v["total_max"]), "no severity bands"),),
        ("cadss_scale",), sources={**d["sources"], "cadss_scale": _cite(scale)},
        caveats=(scale["caveat"],))


_BUILDERS = {"gad7": _gad7, "phq9": _phq9, "ham-a": _ham_a, "lsas": _lsas, "cadss": _cadss}


@cache
def instrument(name: str) -> Instrument:
    """The scoring rules of instrument ``name`` (``gad7``, ``phq9``, ``ham-a``, ``lsas``)."""
    key = name.lower().replace("_", "-")
    key = {"gad-7": "gad7", "phq-9": "phq9", "hama": "ham-a"}.get(key, key)
    if key not in _BUILDERS:
        raise MeasureError(f"unknown instrument {name!r}; known: {', '.join(INSTRUMENT_FILES)}")
    return _BUILDERS[key](load_instrument_definition(key))
