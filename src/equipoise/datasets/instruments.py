"""The bundled instrument definitions (GAD-7, PHQ-9, HAM-A, CADSS, LSAS), as published JSON.

Each file in ``data/instruments/`` is the project's instrument definition copied byte for byte
(hashes in ``data/PROVENANCE.md``): items, LOINC codes, answer lists, scoring, severity bands and
change rules, every value with a ``src`` key into the file's ``sources``. ``care.measures`` turns
them into scoring rules; values the files mark UNSOURCED or UNVERIFIED are not encoded there.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from equipoise.errors import MeasureError

INSTRUMENT_FILES = {"gad7": "gad7.json", "phq9": "phq9.json", "ham-a": "ham-a.json",
                    "cadss": "cadss.json", "lsas": "lsas.json"}


@cache
def load_instrument_definition(name: str) -> dict[str, Any]:
    """The bundled definition of instrument ``name`` (``gad7``, ``phq9``, ``ham-a``, ...)."""
    if name not in INSTRUMENT_FILES:
        raise MeasureError(f"unknown instrument {name!r}; bundled: "
                                     f"{', '.join(INSTRUMENT_FILES)}")
    text = resources.files("equipoise").joinpath(
        "datasets", "data", "instruments", INSTRUMENT_FILES[name]).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def load_instrument_additions() -> dict[str, Any]:
    """Instrument facts equipoise read itself (``instrument_additions.json``), each quoted."""
    text = resources.files("equipoise").joinpath(
        "datasets", "data", "instrument_additions.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data
