"""The treatment catalogue: canonical treatments and the free text that names them.

Each evidence row names its arm in free text ("escitalopram 10-20 mg/day"); the catalogue maps that
text to a canonical :class:`Treatment` with its modality, mechanism, route, supervision, regulatory
status (with the protocol rows that source it) and place in the class tree (escitalopram -> SSRI).
Matching is exact after case and whitespace folding: an unknown name is an error, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from equipoise.errors import CatalogueError

MODALITIES = (
    "ketamine", "esketamine", "SSRI", "SNRI", "antidepressant", "medication", "CBT", "iCBT",
    "psychotherapy", "ketamine-assisted psychotherapy", "combination", "mixed", "control",
)


def fold(text: str) -> str:
    """Case- and whitespace-insensitive key for matching names."""
    return re.sub(r"\s+", " ", text.strip().lower())


@dataclass(frozen=True, slots=True)
class Regulatory:
    """Regulatory status for anxiety, summarising the protocol rows that state it."""

    status: str
    rows: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Treatment:
    """One canonical treatment (a drug, a therapy format, a combination, or a control)."""

    id: str
    name: str
    modality: str
    mechanism: str
    route: str
    drug_or_format: str
    dose_schedule: str = ""
    parent: str | None = None
    components: tuple[str, ...] = ()
    is_control: bool = False
    supervision: str = ""
    regulatory: Regulatory | None = None
    dose_schedule_rows: tuple[str, ...] = ()
    note: str = ""
    aliases: tuple[str, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise CatalogueError(f"treatment {self.id!r}: unknown modality {self.modality!r}; "
                                 f"use one of {', '.join(MODALITIES)}")


class TreatmentCatalogue(Mapping[str, Treatment]):
    """Immutable id -> :class:`Treatment` mapping with alias resolution and the class tree."""

    def __init__(self, treatments: Iterable[Treatment],
                 comparator_groups: Mapping[str, Iterable[str]] | None = None) -> None:
        self._by_id: dict[str, Treatment] = {}
        self._alias: dict[str, str] = {}
        for t in treatments:
            if t.id in self._by_id:
                raise CatalogueError(f"treatment id {t.id!r} is defined twice")
            self._by_id[t.id] = t
        for t in self._by_id.values():
            for name in (t.id, t.name, *t.aliases):
                key = fold(name)
                owner = self._alias.setdefault(key, t.id)
                if owner != t.id:
                    raise CatalogueError(f"name {name!r} maps to both {owner!r} and {t.id!r}")
            for ref in (t.parent, *t.components):
                if ref is not None and ref not in self._by_id:
                    raise CatalogueError(f"treatment {t.id!r} refers to unknown treatment {ref!r}")
        self._groups: dict[str, tuple[str, ...]] = {}
        for name, ids in (comparator_groups or {}).items():
            members = tuple(ids)
            unknown = [i for i in members if i not in self._by_id]
            if unknown:
                raise CatalogueError(f"comparator group {name!r} names unknown {unknown}")
            self._groups[fold(name)] = members

    def __getitem__(self, key: str) -> Treatment:
        return self._by_id[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def resolve(self, text: str) -> Treatment | None:
        """The treatment a name, id or alias denotes, or ``None`` when unknown."""
        tid = self._alias.get(fold(text))
        return None if tid is None else self._by_id[tid]

    def resolve_comparator(self, text: str) -> tuple[Treatment, ...]:
        """Every treatment a comparator string names ("placebo / CBT" names two); () if unknown."""
        group = self._groups.get(fold(text))
        if group is not None:
            return tuple(self._by_id[i] for i in group)
        single = self.resolve(text)
        return () if single is None else (single,)

    def get_strict(self, text: str) -> Treatment:
        """Like :meth:`resolve` but raising :class:`CatalogueError` with close names."""
        found = self.resolve(text)
        if found is None:
            raise CatalogueError(f"unknown treatment {text!r}; known ids: {', '.join(self)}")
        return found

    def ancestors(self, tid: str) -> tuple[str, ...]:
        """Parents of ``tid`` from nearest to root (escitalopram -> ('ssri',))."""
        out: list[str] = []
        parent = self._by_id[tid].parent
        while parent is not None:
            out.append(parent)
            parent = self._by_id[parent].parent
        return tuple(out)

    def descendants(self, tid: str) -> tuple[str, ...]:
        """Every treatment whose ancestors include ``tid``."""
        return tuple(t for t in self._by_id if tid in self.ancestors(t))

    def regulatory(self, tid: str) -> Regulatory | None:
        """The treatment's regulatory status, or its nearest ancestor's."""
        for candidate in (tid, *self.ancestors(tid)):
            reg = self._by_id[candidate].regulatory
            if reg is not None:
                return reg
        return None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TreatmentCatalogue:
        """Build from the JSON layout of ``datasets/data/treatments.json``."""
        treatments = []
        for raw in data["treatments"]:
            reg = raw.get("regulatory")
            treatments.append(Treatment(
                id=raw["id"], name=raw["name"], modality=raw["modality"],
                mechanism=raw["mechanism"], route=raw["route"],
                drug_or_format=raw["drug_or_format"],
                dose_schedule=raw.get("dose_schedule", ""), parent=raw.get("parent"),
                components=tuple(raw.get("components", ())),
                is_control=bool(raw.get("is_control", False)),
                supervision=raw.get("supervision", ""),
                regulatory=None if reg is None else Regulatory(reg["status"], tuple(reg["rows"])),
                dose_schedule_rows=tuple(raw.get("dose_schedule_rows", ())),
                note=raw.get("note", ""), aliases=tuple(raw.get("aliases", ())),
            ))
        return cls(treatments, data.get("comparator_groups"))
