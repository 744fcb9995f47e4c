"""Cited model parameters with their uncertainty, drawn along a leading draw axis.

A parameter file (YAML, read with `equipoise.simulation.files`) holds a tree whose leaves are
parameter entries: a mapping with a number and where it came from. The forms, and how a PSA
draws them:

``{mean, n}``            beta(mean·n, (1 - mean)·n), a proportion observed in n patients
``{mean, low, high}``    beta with that mean and a 95% interval's spread, sd = (high - low) / 3.92
``{low, high}``          uniform(low, high), for a source that gives only a range
``{value}``              fixed
``{input, per?}``        an economic input of the bundled file (its own distribution), divided by
                         another input named in ``per`` (e.g. a course cost per session)
``{source, per_weeks?}`` a number quoted in the file's ``sources`` block, times its ``scale``
``{same_as}``            the same value, and in a PSA the same draw, as another parameter

and each entry says why it holds that number: ``evidence`` (a row id of the bundled evidence),
``derived`` (row ids it was computed from, with a ``note`` saying how), ``input``, ``source``, or
``assumption`` (free text: the report flags every assumption).

References
----------
Briggs A, Claxton K, Sculpher M. Decision Modelling for Health Economic Evaluation. Oxford
University Press; 2006 (ch. 4: beta for probabilities, method of moments).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from equipoise.datasets.economic_inputs import CitedValue, load_economic_inputs
from equipoise.errors import ModelError
from equipoise.simulation.files import Checker, Document, PathT, dotted
from equipoise.simulation.model import Float

Z975 = 1.959963984540054
# A number in a quote: thousands grouped by commas in threes ("1,200"), else plain digits, so
# a CSV line "minutes,45,37" holds 45 and 37.
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_NUMERIC = ("mean", "value", "low", "input", "source", "same_as")
_WHY = ("evidence", "derived", "input", "source", "assumption", "same_as")
_ENTRY_KEYS = ("mean", "n", "low", "high", "value", "input", "per", "source", "per_weeks",
               "evidence", "derived", "assumption", "note", "evidence_protocol", "derived_from",
               "same_as")


@dataclass(frozen=True)
class Param:
    """One parameter: its point value, how to draw it, and its basis.

    ``kind`` is ``beta``, ``uniform``, ``gamma``, ``lognormal`` or ``fixed``; ``a`` and ``b``
    are that distribution's two parameters (beta a, b; uniform low, high; gamma shape, scale;
    lognormal mu, sigma). ``scale`` multiplies every value (a cost per session from a course).
    """

    path: str
    mean: float
    kind: str
    a: float
    b: float
    basis: str
    assumption: str | None
    scale: float = 1.0

    def draw(self, rng: np.random.Generator | None, n: int) -> Float:
        """``n`` draws (the point value ``n`` times when ``rng`` is None)."""
        if rng is None or self.kind == "fixed":
            return np.full(n, self.mean)
        if self.kind == "beta":
            x = rng.beta(self.a, self.b, n)
        elif self.kind == "uniform":
            x = rng.uniform(self.a, self.b, n)
        elif self.kind == "gamma":
            x = rng.gamma(self.a, self.b, n)
        else:
            x = rng.lognormal(self.a, self.b, n)
        return np.asarray(x * self.scale)


def _beta_from_interval(mean: float, low: float, high: float) -> tuple[float, float]:
    sd = (high - low) / (2 * Z975)
    k = mean * (1 - mean) / sd ** 2 - 1
    if k <= 0:
        raise ValueError("the interval is too wide for a beta distribution with this mean")
    return mean * k, (1 - mean) * k


def _basis(entry: Mapping[str, Any]) -> str:
    parts = []
    for key in ("evidence", "derived", "input", "source"):
        if key in entry:
            v = entry[key]
            parts.append(f"{key} {', '.join(v) if isinstance(v, list) else v}")
    return "; ".join(parts) or "assumption"


def is_entry(value: Any) -> bool:
    """Whether a YAML value is a parameter entry (a leaf of the tree)."""
    return isinstance(value, dict) and any(k in value for k in _NUMERIC)


def _entry(check: Checker, path: PathT, sources: Mapping[str, Any],
           inputs: Mapping[str, CitedValue], *, probability: bool) -> Param | None:
    doc = check.doc
    entry: dict[str, Any] = doc.get(path)
    name = dotted(path)
    check.unknown_keys(path, _ENTRY_KEYS)
    if not any(k in entry for k in _WHY):
        check.fail(path, "says where its number comes from: give evidence, derived, input, "
                         "source or assumption")
    assumption = entry.get("assumption")
    assumption = str(assumption) if assumption is not None else None
    basis = _basis(entry)
    high = 1.0 if probability else None
    try:
        if "same_as" in entry:
            other = entry["same_as"]
            if not isinstance(other, str):
                check.fail((*path, "same_as"), "must name another parameter's path")
                return None
            return Param(name, math.nan, "same_as", math.nan, math.nan, f"same as {other}",
                         assumption)
        if "input" in entry:
            return _from_input(check, path, entry, inputs, basis, assumption)
        if "source" in entry:
            return _from_source(check, path, entry, sources, basis, assumption)
        if "value" in entry:
            v = check.number((*path, "value"), low=0.0, high=high)
            return None if v is None else Param(name, v, "fixed", v, v, basis, assumption)
        if "mean" in entry and "n" in entry:
            m = check.number((*path, "mean"), low=0.0, high=1.0, what="a proportion in [0, 1]")
            n = check.number((*path, "n"), above=0.0, what="a patient count")
            if m is None or n is None:
                return None
            if m in (0.0, 1.0):
                return Param(name, m, "fixed", m, m, basis, assumption)
            return Param(name, m, "beta", m * n, (1 - m) * n, basis, assumption)
        if "mean" in entry:
            m = check.number((*path, "mean"), low=0.0, high=1.0, what="a proportion in [0, 1]")
            lo = check.number((*path, "low"), low=0.0, high=1.0, what="a proportion in [0, 1]")
            hi = check.number((*path, "high"), low=0.0, high=1.0, what="a proportion in [0, 1]")
            if m is None or lo is None or hi is None:
                return None
            if not lo <= m <= hi or lo == hi:
                check.fail(path, f"needs low < high with the mean between them, got "
                                 f"{lo:g} <= {m:g} <= {hi:g}")
                return None
            a, b = _beta_from_interval(m, lo, hi)
            return Param(name, m, "beta", a, b, basis, assumption)
        lo = check.number((*path, "low"), low=0.0, high=high)
        hi = check.number((*path, "high"), low=0.0, high=high)
        if lo is None or hi is None:
            return None
        if lo > hi:
            check.fail(path, f"low ({lo:g}) is above high ({hi:g})")
            return None
        return Param(name, (lo + hi) / 2, "uniform" if hi > lo else "fixed", lo, hi, basis,
                     assumption)
    except ValueError as exc:
        check.fail(path, str(exc))
        return None


def _from_input(check: Checker, path: PathT, entry: Mapping[str, Any],
                inputs: Mapping[str, CitedValue], basis: str,
                assumption: str | None) -> Param | None:
    key = entry["input"]
    per = entry.get("per")
    for field, name in (("input", key), ("per", per)):
        if name is not None and name not in inputs:
            check.fail((*path, field), f"unknown economic input {name!r}")
            return None
    value = inputs[key]
    divisor = inputs[per].mean if per is not None else 1.0
    a, b = (*value.params, value.mean, value.mean)[:2]
    return Param(dotted(path), value.mean / divisor, value.distribution, a, b,
                 f"{basis}: {value.source}" + (f" / {per}" if per else ""), assumption,
                 1.0 / divisor)


def _from_source(check: Checker, path: PathT, entry: Mapping[str, Any],
                 sources: Mapping[str, Any], basis: str, assumption: str | None) -> Param | None:
    key = entry["source"]
    src = sources.get(key)
    if not isinstance(src, dict):
        check.fail((*path, "source"), f"unknown source {key!r}; the file's sources are: "
                                      f"{', '.join(sources) or 'none'}")
        return None
    per = check.number((*path, "per_weeks"), default=1.0, above=0.0, what="a number of weeks")
    if per is None:
        return None
    v = float(src["number"]) * float(src.get("scale", 1.0)) / per
    return Param(dotted(path), v, "fixed", v, v, f"{basis}: {src['citation']}", assumption)


def _check_sources(check: Checker, sources: Mapping[str, Any]) -> None:
    for key, src in sources.items():
        path: PathT = ("sources", key)
        if not isinstance(src, dict):
            check.fail(path, "must be a mapping with citation, url, quote, number, unit")
            continue
        for field in ("citation", "url", "quote", "unit"):
            check.text((*path, field))
        number = check.number((*path, "number"), low=0.0)
        check.number((*path, "scale"), default=1.0, above=0.0)
        quote = src.get("quote")
        if number is not None and isinstance(quote, str):
            found = [float(x.replace(",", "")) for x in _NUMBER.findall(quote)]
            if not any(math.isclose(number, f) for f in found):
                check.fail((*path, "number"), f"{number:g} does not appear in the quote "
                                              f"{quote!r}")


def _leaves(value: Any, path: PathT) -> Iterator[PathT]:
    if is_entry(value):
        yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))


@dataclass(frozen=True, eq=False)
class ParameterSet:
    """Every parameter of a file by dotted path, with the file they came from."""

    name: str
    params: Mapping[str, Param]
    tree: Mapping[str, Any]

    def __getitem__(self, path: str) -> Param:
        try:
            return self.params[path]
        except KeyError:
            raise ModelError(f"{self.name}: no parameter {path!r}") from None

    def get(self, path: str) -> Param | None:
        return self.params.get(path)

    def draws(self, n_draws: int, seed: int | None) -> dict[str, Float]:
        """Every parameter drawn ``n_draws`` times (point values when ``seed`` is None),
        in sorted path order so the same seed always gives the same draws."""
        rng = None if seed is None else np.random.default_rng(seed)
        out = {p: self.params[p].draw(rng, n_draws) for p in sorted(self.params)
               if self.params[p].kind != "same_as"}
        for p in sorted(self.params):
            if self.params[p].kind == "same_as":
                target = self.params[p].basis.removeprefix("same as ").split(" (")[0]
                out[p] = out[target]
        return out


PROBABILITY_WORDS = ("probability", "remission_given_response", "rescue")


def read_parameters(doc: Document, *, root: PathT = (), probability_words: tuple[str, ...] =
                    PROBABILITY_WORDS) -> ParameterSet:
    """Parse every parameter entry under ``root`` of ``doc``; problems raise ModelFileError.

    An entry whose path contains one of ``probability_words`` (or sits under
    ``side_effects``) must lie in [0, 1].
    """
    check = Checker(doc)
    sources = check.mapping(("sources",), required=False)
    _check_sources(check, sources)
    inputs = {v.name: v for v in load_economic_inputs().values}
    params: dict[str, Param] = {}
    base = doc.get(root)
    for path in _leaves(base, root):
        probability = any(w in path for w in probability_words) or "side_effects" in path
        p = _entry(check, path, sources, inputs, probability=probability)
        if p is not None:
            params[dotted(path[len(root):])] = Param(
                dotted(path[len(root):]), p.mean, p.kind, p.a, p.b, p.basis, p.assumption,
                p.scale)
    _resolve_same_as(check, params, root)
    check.done()
    return ParameterSet(doc.name, params, base if isinstance(base, dict) else {})


def _resolve_same_as(check: Checker, params: dict[str, Param], root: PathT) -> None:
    """Give every ``same_as`` entry its target's point value (targets must be plain entries)."""
    for key, p in list(params.items()):
        if p.kind != "same_as":
            continue
        target = p.basis.removeprefix("same as ")
        other = params.get(target)
        path = (*root, *key.split("."))
        if other is None or other.kind == "same_as":
            check.fail(path, f"same_as names {target!r}, which is not a parameter with a "
                             "value of its own")
            continue
        params[key] = Param(key, other.mean, "same_as", other.a, other.b,
                            f"same as {target} ({other.basis})", p.assumption, other.scale)


def override_parameters(base: ParameterSet, doc: Document, at: PathT = ("parameters",)
                        ) -> ParameterSet:
    """``base`` with the entries of ``doc`` at ``at`` replacing parameters of the same path.

    Keys are dotted parameter paths (``treatments.ssri.response.probability``); a value is a
    parameter entry, or a bare number, which becomes a fixed value flagged as the user's
    assumption. Unknown paths and bad values are problems naming the file, line and field.
    """
    check = Checker(doc)
    block = check.mapping(at, required=False)
    sources = check.mapping(("sources",), required=False)
    _check_sources(check, sources)
    inputs = {v.name: v for v in load_economic_inputs().values}
    params = dict(base.params)
    for key, value in block.items():
        path = (*at, key)
        if key not in base.params:
            near = [k for k in base.params if k.split(".")[-1] == key.split(".")[-1]][:5]
            check.fail(path, f"unknown parameter {key!r}" + (
                f"; did you mean {', '.join(near)}?" if near else
                f" (known parameters start with: "
                f"{', '.join(sorted({k.split('.')[0] for k in base.params}))})"))
            continue
        probability = any(w in key.split(".") for w in PROBABILITY_WORDS) \
            or "side_effects" in key.split(".")
        if is_entry(value):
            p = _entry(check, path, sources, inputs, probability=probability)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            what = "a probability in [0, 1]" if probability else "a non-negative number"
            v = check.number(path, low=0.0, high=1.0 if probability else None, what=what)
            p = None if v is None else Param(key, v, "fixed", v, v, f"set in {doc.name}",
                                             f"set by the user in {doc.name}")
        else:
            check.fail(path, "must be a number or a parameter entry ({mean, n, evidence}, "
                             "{value, assumption}, ...)")
            continue
        if p is not None:
            params[key] = Param(key, p.mean, p.kind, p.a, p.b, p.basis,
                                p.assumption or f"set by the user in {doc.name}", p.scale)
    check.done()
    return ParameterSet(base.name, params, base.tree)
