"""Load the bundled evidence base and catalogue (cached: they are immutable)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path

from equipoise.evidence.io import IdentifierAddition, parse_text, read_evidence
from equipoise.evidence.records import EvidenceSet
from equipoise.evidence.treatments import TreatmentCatalogue

_EVIDENCE_FILES = ("evidence.csv", "protocols.csv", "additions.csv")
# Seed rows whose value is not in the fragment that was read (see data/PROVENANCE.md); they load,
# marked, and are never displayed.
UNQUOTED_ROWS = frozenset({"PR-REG-02", "PR-REG-05", "PR-REG-06"})


def _data(name: str) -> str:
    return resources.files("equipoise.datasets").joinpath("data", name).read_text("utf-8")


def bundled_paths() -> tuple[str, ...]:
    """Names of the bundled evidence files, in load order."""
    return _EVIDENCE_FILES


@cache
def load_catalogue() -> TreatmentCatalogue:
    """The bundled treatment catalogue."""
    return TreatmentCatalogue.from_dict(json.loads(_data("treatments.json")))


@cache
def load_identifier_additions() -> Mapping[str, IdentifierAddition]:
    """Identifiers equipoise verified for bundled rows that lacked them, keyed by row id."""
    reader = csv.DictReader(_data("source_identifiers.csv").splitlines())
    return {r["row_id"]: IdentifierAddition(r["row_id"], r["identifiers"], r["first_author"],
                                            r["verified_at"]) for r in reader}


@cache
def _bundled() -> EvidenceSet:
    catalogue = load_catalogue()
    additions = load_identifier_additions()
    problems: list = []  # type: ignore[type-arg]
    seen: dict[str, str] = {}
    rows = []
    for name in _EVIDENCE_FILES:
        rows.extend(parse_text(_data(name), name, catalogue, additions, problems, seen,
                               UNQUOTED_ROWS))
    if problems:  # a packaging defect, not a user error: fail loudly with every location
        from equipoise.errors import EvidenceValidationError
        raise EvidenceValidationError(problems)
    return EvidenceSet(rows, catalogue)


def load_evidence(extra: Iterable[str | Path] = (), *, bundled: bool = True) -> EvidenceSet:
    """The bundled evidence base, plus the user's files in ``extra`` (validated all or nothing)."""
    paths = tuple(extra)
    base = _bundled() if bundled else None
    if not paths:
        return base if base is not None else EvidenceSet((), load_catalogue())
    return read_evidence(paths, load_catalogue(), base=base)
