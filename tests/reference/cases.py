"""Load the published reference cases (tests/reference/cases) and compare results with them.

Expected values are ``{"value": v, "tol": t}`` (absolute), ``{"value": v, "rtol": r}``
(relative), ``{"upper_bound": x}``, exact integers or strings, ``null`` (not available), or
lists and mappings of those (see cases/README.md).
"""

from __future__ import annotations

import csv
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

CASES = Path(__file__).resolve().parent / "cases"


@cache
def load_case(case_id: str) -> dict[str, Any]:
    """The case whose id (or file-name prefix such as ``P01``) is ``case_id``."""
    for path in sorted(CASES.glob("ma_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        if case["case_id"] == case_id or case["case_id"].startswith(case_id + "_"):
            return case  # type: ignore[no-any-return]
    raise KeyError(case_id)


def all_analyses() -> list[tuple[str, str]]:
    """(case prefix, analysis id) for every analysis of every case file."""
    out = []
    for path in sorted(CASES.glob("ma_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        prefix = case["case_id"].split("_")[0]
        out += [(prefix, a["id"]) for a in case["analyses"]]
    return out


def analysis(case_id: str, analysis_id: str) -> dict[str, Any]:
    for a in load_case(case_id)["analyses"]:
        if a["id"] == analysis_id:
            return a  # type: ignore[no-any-return]
    raise KeyError((case_id, analysis_id))


def columns(case_id: str) -> dict[str, np.ndarray]:
    """The case's data file as columns (numeric where every cell parses; NA -> nan)."""
    path = CASES / load_case(case_id)["data"]["file"]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, np.ndarray] = {}
    for name in rows[0]:
        cells = [r[name] for r in rows]
        try:
            out[name] = np.array([float(c) if c not in ("", "NA") else np.nan for c in cells])
        except ValueError:
            out[name] = np.array(cells, dtype=object)
    return out


def _num(x: Any) -> float | None:
    if x is None:
        return None
    value = float(x)
    return None if math.isnan(value) else value


def mismatches(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every difference between an expected value tree and the computed one."""
    if isinstance(expected, dict) and ("value" in expected or "upper_bound" in expected):
        got = _num(actual)
        if "upper_bound" in expected:
            ok = got is not None and got < expected["upper_bound"]
            return [] if ok else [f"{path}: {got} not < {expected['upper_bound']}"]
        want = expected["value"]
        if got is None:
            return [f"{path}: missing (expected {want})"]
        tol = expected.get("tol")
        if tol is None:
            tol = abs(want) * expected["rtol"]
        return [] if abs(got - want) <= tol + 1e-15 else [
            f"{path}: {got!r} != {want!r} (tol {tol:g}, diff {abs(got - want):.3g})"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {type(actual).__name__}"]
        out = []
        for key, value in expected.items():
            if key not in actual:
                out.append(f"{path}/{key}: not computed")
            else:
                out += mismatches(value, actual[key], f"{path}/{key}")
        return out
    if isinstance(expected, list):
        if actual is None or len(actual) != len(expected):
            n = None if actual is None else len(actual)
            return [f"{path}: length {n} != {len(expected)}"]
        return [m for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for m in mismatches(e, a, f"{path}[{i}]")]
    if expected is None:
        return [] if _num(actual) is None else [f"{path}: {actual!r} should be unavailable"]
    if isinstance(expected, str):
        return [] if expected == actual else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(expected, bool | int):
        return [] if actual is not None and float(actual) == expected else [
            f"{path}: {actual!r} != {expected!r}"]
    got = _num(actual)
    return [] if got is not None and abs(got - float(expected)) < 1e-12 else [
        f"{path}: {actual!r} != {expected!r}"]
