"""Reading a FHIR bundle for import: the plan of what a clean bundle will write, problems
named ``entry[i] Type/id: field: message``, and a reader for one resource's elements and
equipoise's extensions."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from equipoise.clinic.fhir.terminology import EXT


@dataclass
class ImportPlan:
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)     # fhir id -> values
    responses: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    courses: list[dict[str, Any]] = field(default_factory=list)
    infusions: dict[str, dict[str, Any]] = field(default_factory=dict)   # fhir id -> values
    vitals: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    care_plans: list[dict[str, Any]] = field(default_factory=list)
    # "QuestionnaireResponse/id" and "MedicationAdministration/id" -> their subject's fhir id
    subjects: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def locate(i: int, res: dict[str, Any]) -> str:
    return f"entry[{i}] {res.get('resourceType', '?')}/{res.get('id', '?')}"


def reference_to(value: Any, kind: str) -> str | None:
    ref = value.get("reference", "") if isinstance(value, dict) else ""
    return ref.removeprefix(f"{kind}/") if ref.startswith(f"{kind}/") else None


def fhir_instant(value: Any) -> dt.datetime | None:
    """A FHIR dateTime with a time and a zone, as a datetime; None if it is not one."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def codings(res: dict[str, Any], element: str = "code") -> set[tuple[Any, Any]]:
    value = res.get(element)
    return {(c.get("system"), c.get("code")) for c in value.get("coding", [])
            if isinstance(c, dict)} if isinstance(value, dict) else set()


@dataclass
class Reader:
    """One resource's values, each problem noted as ``where: field: message``; equipoise's
    extensions by name (the URL after ``EXT``)."""

    where: str
    res: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def fail(self, element: str, message: str) -> None:
        self.problems.append(f"{self.where}: {element}: {message}")

    def ext(self, name: str, required: bool = True) -> dict[str, Any] | None:
        found = [e for e in self.res.get("extension", []) if e.get("url") == EXT + name]
        if len(found) > 1:
            self.fail("extension", f"{name} is given {len(found)} times")
        elif not found and required:
            self.fail("extension", f"needs {name} ({EXT}{name})")
        return found[0] if found else None

    def code(self, name: str, allowed: tuple[str, ...]) -> str | None:
        e = self.ext(name)
        if e is None:
            return None
        if e.get("valueCode") not in allowed:
            self.fail("extension", f"{name} must be one of {', '.join(allowed)}")
            return None
        return str(e["valueCode"])

    def json(self, name: str, kind: type, required: bool = True) -> Any:
        """The canonical-JSON ``valueString`` of extension ``name``, if it is a ``kind``."""
        e = self.ext(name, required)
        if e is None:
            return None
        text = e.get("valueString")
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            value = None
        if not isinstance(value, kind) or "\\u0000" in str(text):
            self.fail("extension", f"{name} is not valid JSON (a JSON "
                                   f"{'object' if kind is dict else 'array'} is expected)")
            return None
        return value

    def quantity(self, name: str, unit: str, required: bool = True) -> float | None:
        e = self.ext(name, required)
        if e is None:
            return None
        q = e.get("valueQuantity") or {}
        if q.get("code") != unit or not isinstance(q.get("value"), int | float):
            self.fail("extension", f"{name} needs a valueQuantity in {unit}")
            return None
        return float(q["value"])

    def instant(self, name: str, required: bool = True) -> dt.datetime | None:
        e = self.ext(name, required)
        if e is None:
            return None
        when = fhir_instant(e.get("valueDateTime"))
        if when is None:
            self.fail("extension", f"{name} needs a valueDateTime with a time and a zone")
        return when

    def body(self, model: type[Any], values: dict[str, Any], where: dict[str, str],
             prefix: str = "") -> None:
        """Check ``values`` by the clinic's own request body ``model`` (its ranges and
        patterns), naming each failing value's FHIR element from ``where`` (an extension if
        not there; ``prefix`` names it)."""
        try:
            model.model_validate(values)
        except ValidationError as exc:
            for e in exc.errors():
                name = str(e["loc"][0]) if e["loc"] else "?"
                self.fail(where.get(name, "extension"),
                          f"{prefix}{'.'.join(str(x) for x in e['loc'])}: {e['msg']}")
