"""Economic inputs for the anxiety model: cited values with unit, currency and price year.

The inputs come from the bundled ``economic_inputs_anxiety.json`` (hash and origin in
``datasets/data/PROVENANCE.md``). Every number is read from that file: structured entries at
their JSON path, entries the file gives only as text from the exact printed words they appear in
(checked on load, as the evidence base checks its quote fragments). The published *results* of
other models in the file are not inputs and are left out.

The file's own ``gap``: no published cost-effectiveness model of ketamine or esketamine for an
anxiety indication was found. Every ketamine input here is from treatment-resistant depression or
a grey source, and its ``caveat`` says which.

Currencies and price years are kept as the file gives them and never converted (it gives no
exchange or inflation rates); :func:`sum_costs` refuses to add across them. The cost building
blocks that combine these values live in ``simulation/costs.py``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import resources
from statistics import NormalDist
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from equipoise.errors import EvidenceError, ModelError

Float = NDArray[np.float64]
Distribution = Literal["beta", "gamma", "lognormal", "fixed"]
DATA_FILE = "economic_inputs_anxiety.json"
_N_PARAMS: dict[str, int] = {"beta": 2, "gamma": 2, "lognormal": 2, "fixed": 0}
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# A stated mean may be rounded; its distribution's own mean must agree within this.
_MEAN_TOLERANCE = 0.01


def is_finite_number(x: float) -> bool:
    """True for an int or float that is neither NaN nor infinite (JSON may hold anything)."""
    return isinstance(x, int | float) and math.isfinite(x)


@dataclass(frozen=True, slots=True)
class Cost:
    """An amount of money in one currency and price year; ``basis`` says what it is made of."""

    amount: float
    currency: str
    price_year: int | None
    basis: str

    def __post_init__(self) -> None:
        if not is_finite_number(self.amount):
            raise ModelError(f"cost {self.basis!r}: amount must be a finite number")
        if not self.currency.strip():
            raise ModelError(f"cost {self.basis!r}: currency must be named")


@dataclass(frozen=True, slots=True)
class CitedValue:
    """One input with its source: a mean, its unit, and for costs a currency and price year.

    ``params`` follow ``distribution``: beta ``(a, b)``; gamma ``(shape, scale)``; lognormal
    ``(mu, sigma)`` on the log scale; fixed ``()``. For a lognormal ratio, ``mean`` is the point
    estimate the source reports (``exp(mu)``), so the draws' mean lies a little above it.
    ``where`` is the JSON path in the data file (and the printed words, for text entries).
    """

    name: str
    mean: float
    unit: str
    source: str
    where: str
    currency: str | None = None
    price_year: int | None = None
    distribution: Distribution = "fixed"
    params: tuple[float, ...] = ()
    ci95: tuple[float, float] | None = None
    caveat: str = ""

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ModelError(f"input {self.name!r}: source must not be empty")
        if not is_finite_number(self.mean):
            raise ModelError(f"input {self.name!r}: mean must be a finite number")
        expected = _N_PARAMS.get(self.distribution)
        if expected is None:
            raise ModelError(f"input {self.name!r}: unknown distribution {self.distribution!r}; "
                             f"use one of {', '.join(_N_PARAMS)}")
        if len(self.params) != expected or not all(is_finite_number(p) for p in self.params):
            raise ModelError(f"input {self.name!r}: a {self.distribution} distribution takes "
                             f"{expected} finite parameters, got {self.params!r}")
        positive = self.params[1:] if self.distribution == "lognormal" else self.params
        if any(p <= 0 for p in positive):
            raise ModelError(f"input {self.name!r}: {self.distribution} parameters must be "
                             f"positive, got {self.params!r}")

    def draw(self, rng: np.random.Generator, n: int) -> Float:
        """``n`` draws from the value's distribution (a fixed value repeats its mean)."""
        if n < 0:
            raise ModelError(f"input {self.name!r}: number of draws must be >= 0, got {n}")
        if self.distribution == "beta":
            return rng.beta(self.params[0], self.params[1], n)
        if self.distribution == "gamma":
            return rng.gamma(self.params[0], self.params[1], n)
        if self.distribution == "lognormal":
            return rng.lognormal(self.params[0], self.params[1], n)
        return np.full(n, float(self.mean))

    def as_cost(self) -> Cost:
        """The mean as a :class:`Cost`; only for inputs that carry a currency."""
        if self.currency is None:
            raise ModelError(f"input {self.name!r} is not a cost (unit: {self.unit})")
        return Cost(float(self.mean), self.currency, self.price_year, self.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class CitedRange:
    """An input the source gives only as a range: no mean and no distribution to draw from."""

    name: str
    low: float
    high: float
    unit: str
    source: str
    where: str
    currency: str | None = None
    price_year: int | None = None
    caveat: str = ""

    def __post_init__(self) -> None:
        if not self.source.strip():
            raise ModelError(f"input {self.name!r}: source must not be empty")
        ends = (self.low, self.high)
        if not (all(is_finite_number(x) for x in ends) and self.low <= self.high):
            raise ModelError(f"input {self.name!r}: range needs finite low <= high, "
                             f"got {self.low!r}-{self.high!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Input = CitedValue | CitedRange


@dataclass(frozen=True)
class EconomicInputs:
    """The cited inputs of one data file, looked up by name; ``gap`` is what the file lacks."""

    values: tuple[CitedValue, ...]
    ranges: tuple[CitedRange, ...]
    note: str
    gap: str
    _index: Mapping[str, Input] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, Input] = {}
        items: tuple[Input, ...] = (*self.values, *self.ranges)
        for item in items:
            if item.name in index:
                raise ModelError(f"economic input {item.name!r} is defined twice")
            index[item.name] = item
        object.__setattr__(self, "_index", MappingProxyType(index))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._index))

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __iter__(self) -> Iterator[Input]:
        return iter(self._index[n] for n in self.names)

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, name: str) -> Input:
        try:
            return self._index[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._index, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else \
                "; EconomicInputs.names lists them all"
            raise ModelError(f"no economic input named {name!r}{hint}") from None

    def value(self, name: str) -> CitedValue:
        """The input ``name``; an error if it is unknown or only a range."""
        item = self[name]
        if isinstance(item, CitedRange):
            raise ModelError(f"economic input {name!r} is a range ({item.low:g}-{item.high:g} "
                             f"{item.unit}) with no mean; use value_range({name!r})")
        return item

    def value_range(self, name: str) -> CitedRange:
        """The ranged input ``name``; an error if it is unknown or a single value."""
        item = self[name]
        if isinstance(item, CitedValue):
            raise ModelError(f"economic input {name!r} is a single value, not a range; "
                             f"use value({name!r})")
        return item

    def to_dict(self) -> dict[str, Any]:
        return {"note": self.note, "gap": self.gap,
                "values": [v.to_dict() for v in self.values],
                "ranges": [r.to_dict() for r in self.ranges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EconomicInputs:
        """Build from the JSON layout of ``economic_inputs_anxiety.json`` (see ``_SPECS``)."""
        built = [_build(spec, data) for spec in _SPECS]
        return cls(values=tuple(b for b in built if isinstance(b, CitedValue)),
                   ranges=tuple(b for b in built if isinstance(b, CitedRange)),
                   note=str(data.get("note", "")), gap=str(data.get("gap", "")))


@cache
def load_economic_inputs() -> EconomicInputs:
    """The bundled economic inputs (cached: they are immutable)."""
    text = resources.files("equipoise.datasets").joinpath("data", DATA_FILE).read_text("utf-8")
    return EconomicInputs.from_dict(json.loads(text))


def sum_costs(*costs: Cost | CitedValue) -> Cost:
    """Total of costs in one currency and one price year.

    Costs in different currencies, or in different price years (a price year the source does not
    state counts as its own value), raise :class:`ModelError`: the inputs file gives no exchange
    or inflation rates, so a total across them would be a number no source supports.
    """
    items = [c.as_cost() if isinstance(c, CitedValue) else c for c in costs]
    if not items:
        raise ModelError("sum_costs needs at least one cost")
    if len({c.currency for c in items}) > 1:
        parts = ", ".join(f"{c.basis} ({c.currency})" for c in items)
        raise ModelError(f"cannot add costs in different currencies: {parts}; convert them "
                         "first with a cited exchange rate")
    if len({c.price_year for c in items}) > 1:
        parts = ", ".join(f"{c.basis} ({_year(c.price_year)})" for c in items)
        raise ModelError(f"cannot add costs from different price years: {parts}; inflate them "
                         "first with a cited price index")
    return Cost(math.fsum(c.amount for c in items), items[0].currency, items[0].price_year,
                " + ".join(c.basis for c in items))


def _year(year: int | None) -> str:
    return "price year not stated" if year is None else str(year)


# -- reading the data file -------------------------------------------------------------------

_TRD = "treatment-resistant depression, not anxiety"
_NICE_CCBT = "NICE CG113 (2011) GAD guideline, CCBT vs waitlist model"
_EE_TRD = "unpublished toolkit's assumption; " + _TRD
_EE_TRD_COST = _EE_TRD + "; price year read from 'AU 2024'"


@dataclass(frozen=True, slots=True)
class _Spec:
    """Where one input sits in the data file; text entries name the printed words it is in."""

    name: str
    path: str                   # '/'-separated; list positions are numbers
    unit: str
    currency: str | None = None
    price_year: int | None = None
    text: str | None = None     # exact words of a text entry that hold the number(s)
    pick: int = 0               # which number in ``text`` (a range takes it and the next)
    is_range: bool = False
    ci_path: str | None = None
    source: str | None = None   # when no 'source' or 'citation' sits on the path
    caveat: str = ""


_U = "utilities_anxiety"
_N = "nice_cg113_ccbt_model_other_inputs"
_DUONG = "utility (EQ-5D-5L index, confounder-adjusted); by GAD-7 severity"
_SPECS: tuple[_Spec, ...] = (
    *(_Spec(f"nice_cg113.utility_{s}", f"{_U}/0/states/{s}", "utility")
      for s in ("response", "non_response", "relapse_following_response",
                "non_relapse_following_response")),
    _Spec("duong2024.utility_controls_gad7_lt10_no_dx", f"{_U}/1/by_GAD7_severity/"
          "controls_GAD7_lt10_no_dx", _DUONG, caveat="conference poster"),
    *(_Spec(f"duong2024.utility_{k.lower()}", f"{_U}/1/by_GAD7_severity/{k}", _DUONG,
            ci_path=f"{_U}/1/ci95/{k.split('_')[0]}", caveat="conference poster")
      for k in ("mild_5_9", "moderate_10_14", "severe_ge15")),
    _Spec("nice_cg113.p_non_response_waitlist", f"{_N}/p_non_response_waitlist", "probability",
          source=_NICE_CCBT),
    _Spec("nice_cg113.p_relapse_both_arms", f"{_N}/p_relapse_both_arms", "probability",
          source=_NICE_CCBT),
    _Spec("nice_cg113.rr_non_response_ccbt_vs_waitlist",
          f"{_N}/rr_non_response_ccbt_vs_waitlist", "relative risk", source=_NICE_CCBT),
    _Spec("nice_cg113.ccbt_cost", f"{_N}/ccbt_cost_gbp", "cost of CCBT", "GBP",
          source=_NICE_CCBT),
    _Spec("nice_cg113.monthly_health_social_care_cost", f"{_N}/monthly_health_social_care_cost_gbp",
          "health and social care cost per month", "GBP", source=_NICE_CCBT),
    _Spec("nice_cg22.cbt_course_cost", "cbt_course_costs/0/value", "cost per course of CBT", "GBP",
          text="GBP 164-700", is_range=True, caveat="range from the UK literature"),
    _Spec("jcpmh.cbt_course_cost", "cbt_course_costs/1/value", "cost per course of CBT (approx.)",
          "GBP", text="approximately GBP 750"),
    _Spec("jcpmh.cbt_sessions_per_course", "cbt_course_costs/1/value", "sessions per course",
          text="a 10-session course"),
    _Spec("ketaminerelief.iv_infusion_cost", "ketamine_infusion_costs_grey/0/value",
          "cost per IV infusion", "$", text="$400-$800 per IV infusion", is_range=True),
    _Spec("ketaminerelief.initial_course_infusions", "ketamine_infusion_costs_grey/0/value",
          "infusions per initial course", text="initial 6 infusions"),
    _Spec("ketaminerelief.initial_course_weeks", "ketamine_infusion_costs_grey/0/value",
          "weeks per initial course", text="over 2-3 weeks", is_range=True),
    _Spec("ketaminerelief.initial_course_cost", "ketamine_infusion_costs_grey/0/value",
          "cost per initial course", "$", text="= $2,400-$4,800", is_range=True),
    _Spec("ketaminerelief.maintenance_session_cost", "ketamine_infusion_costs_grey/0/value",
          "cost per maintenance session", "$", text="maintenance $400-$800/session",
          is_range=True),
    _Spec("openpolitics.course_infusions", "ketamine_infusion_costs_grey/1/value",
          "infusions per course", text="6 infusions $3,800"),
    _Spec("openpolitics.course_cost", "ketamine_infusion_costs_grey/1/value", "cost per course",
          "$", text="6 infusions $3,800", pick=1, caveat="not insurance-covered"),
    _Spec("openpolitics.booster_infusion_cost", "ketamine_infusion_costs_grey/1/value",
          "cost per booster infusion", "$", text="booster $600", caveat="not insurance-covered"),
    _Spec("ee_trd.iv_ketamine_session_cost", "ketamine_infusion_costs_grey/2/value",
          "cost per IV ketamine session", "AUD", 2024, text="IV ketamine session AUD 300",
          caveat=_EE_TRD_COST + "; its printed parts (drug, admin) do not add up to it"),
    _Spec("ee_trd.iv_ketamine_drug_cost_per_session", "ketamine_infusion_costs_grey/2/value",
          "drug cost per IV ketamine session", "AUD", 2024, text="drug 5", caveat=_EE_TRD_COST),
    _Spec("ee_trd.iv_ketamine_admin_cost_per_session", "ketamine_infusion_costs_grey/2/value",
          "administration cost per IV ketamine session", "AUD", 2024, text="admin 250",
          caveat=_EE_TRD_COST),
    _Spec("ee_trd.esketamine_session_cost", "ketamine_infusion_costs_grey/2/value",
          "cost per esketamine session", "AUD", 2024, text="esketamine session AUD 800",
          caveat=_EE_TRD_COST),
    _Spec("ee_trd.ect_session_cost", "ketamine_infusion_costs_grey/2/value",
          "cost per ECT session", "AUD", 2024, text="ECT session AUD 1,000 x 8",
          caveat=_EE_TRD_COST),
    _Spec("ee_trd.ect_sessions_per_course", "ketamine_infusion_costs_grey/2/value",
          "ECT sessions per course", text="ECT session AUD 1,000 x 8", pick=1, caveat=_EE_TRD),
    _Spec("ee_trd.utility_depressed", "ketamine_infusion_costs_grey/2/value", "utility",
          text="depressed 0.57", caveat=_EE_TRD),
    _Spec("ee_trd.utility_remission", "ketamine_infusion_costs_grey/2/value", "utility",
          text="remission 0.81", caveat=_EE_TRD),
    _Spec("ee_trd.p_remission_iv_ketamine", "ketamine_infusion_costs_grey/2/value",
          "probability of remission", text="IV ketamine remission 0.45", caveat=_EE_TRD),
    _Spec("ee_trd.p_remission_esketamine", "ketamine_infusion_costs_grey/2/value",
          "probability of remission", text="esketamine 0.36", caveat=_EE_TRD),
    *(_Spec(f"heuzenroeder2004.prevalence_12m_{d.lower()}",
            f"models/0/inputs/12_month_prevalence/{d}", f"12-month prevalence of {d}",
            caveat="Australian adults (NSMHW)") for d in ("GAD", "PD")),
    _Spec("ross_soeteman2020.rr_remission_esketamine_vs_oral_ad",
          "models/4/inputs/rr_remission_esketamine_vs_oral_AD", "relative risk", caveat=_TRD),
    _Spec("ross_soeteman2020.rr_response", "models/4/inputs/rr_response", "relative risk",
          caveat=_TRD + "; comparison not named in the stored entry (the remission RR beside "
          "it is esketamine vs oral antidepressant)"),
    _Spec("ross_soeteman2020.esketamine_cost_month1",
          "models/4/inputs/esketamine_monthly_cost_usd/month1", "esketamine cost in month 1",
          "USD", caveat=_TRD),
    _Spec("ross_soeteman2020.esketamine_monthly_cost_thereafter",
          "models/4/inputs/esketamine_monthly_cost_usd/thereafter_range",
          "esketamine cost per month after month 1", "USD", is_range=True, caveat=_TRD),
    _Spec("ross_soeteman2020.esketamine_price_per_dose", "models/4/inputs/price_per_dose_usd",
          "esketamine price per dose", "USD", caveat=_TRD),
)


def _bad(spec: _Spec, message: str) -> EvidenceError:
    return EvidenceError(f"{DATA_FILE}: {_where(spec.path)}: input {spec.name!r}: {message}")


def _where(path: str) -> str:
    return re.sub(r"/(\d+)(?=/|$)", r"[\1]", path).replace("/", ".")


def _at(data: Any, path: str, spec: _Spec) -> Any:
    node = data
    for key in path.split("/"):
        try:
            node = node[int(key)] if isinstance(node, list) else node[key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise _bad(spec, f"no entry at {_where(path)}") from None
    return node


def _source(data: Any, spec: _Spec) -> str:
    parts = spec.path.split("/")
    found = spec.source
    for end in range(len(parts), 0, -1):
        node = _at(data, "/".join(parts[:end]), spec)
        if found is None and isinstance(node, dict):
            found = node.get("source") or node.get("citation")
    if found is None:
        raise _bad(spec, "no source or citation on its path")
    leaf = _at(data, spec.path, spec)
    return f"{found}; data from {leaf['src']}" if isinstance(leaf, dict) and "src" in leaf \
        else str(found)


def _numbers(spec: _Spec, text: str) -> list[float]:
    if spec.text is None or text.count(spec.text) != 1:
        raise _bad(spec, f"the words {spec.text!r} must occur exactly once in {text!r}")
    if spec.currency is not None and spec.currency not in text:
        raise _bad(spec, f"currency {spec.currency!r} is not stated in {text!r}")
    if spec.price_year is not None and str(spec.price_year) not in text:
        raise _bad(spec, f"price year {spec.price_year} is not stated in {text!r}")
    found = [float(n.replace(",", "")) for n in _NUMBER.findall(spec.text)]
    take = found[spec.pick:spec.pick + (2 if spec.is_range else 1)]
    if len(take) != (2 if spec.is_range else 1):
        raise _bad(spec, f"too few numbers in {spec.text!r}")
    return take


def _near(x: float, target: float) -> bool:
    return abs(x - target) <= _MEAN_TOLERANCE * abs(target)


def _distribution(spec: _Spec, raw: Mapping[str, Any], mean: float) -> tuple[
        Distribution, tuple[float, ...], tuple[float, float] | None]:
    ci = tuple(float(x) for x in raw["ci95"]) if "ci95" in raw else None
    ci95 = (ci[0], ci[1]) if ci is not None and len(ci) == 2 else None
    if "beta" in raw:
        a, b = (float(x) for x in raw["beta"])
        if not _near(a / (a + b), mean):
            raise _bad(spec, f"beta({a:g}, {b:g}) has mean {a / (a + b):.4g}, not {mean:g}")
        return "beta", (a, b), ci95
    if "gamma" in raw:  # (shape, scale): their product must give the stated mean
        k, theta = (float(x) for x in raw["gamma"])
        if not _near(k * theta, mean):
            raise _bad(spec, f"gamma({k:g}, {theta:g}) read as (shape, scale) has mean "
                             f"{k * theta:.4g}, not {mean:g}")
        return "gamma", (k, theta), ci95
    if raw.get("dist") == "lognormal":
        if ci95 is None or not 0 < ci95[0] < mean < ci95[1]:
            raise _bad(spec, "a lognormal input needs a 95% interval around its estimate")
        if not _near(math.sqrt(ci95[0] * ci95[1]), mean):
            raise _bad(spec, f"95% interval {ci95} is not centred on {mean:g} on the log scale")
        # sigma from the width of the 95% interval on the log scale
        sigma = math.log(ci95[1] / ci95[0]) / (2 * NormalDist().inv_cdf(0.975))
        return "lognormal", (math.log(mean), sigma), ci95
    if "dist" in raw:
        raise _bad(spec, f"unknown distribution {raw['dist']!r}")
    return "fixed", (), ci95


def _build(spec: _Spec, data: Mapping[str, Any]) -> Input:
    raw = _at(data, spec.path, spec)
    caveat = spec.caveat
    if spec.currency is not None and spec.price_year is None:
        caveat = "; ".join(filter(None, (caveat, "price year not stated")))
    common: dict[str, Any] = {"name": spec.name, "unit": spec.unit, "source": _source(data, spec),
                              "currency": spec.currency, "price_year": spec.price_year,
                              "caveat": caveat}
    if spec.text is not None:
        if not isinstance(raw, str):
            raise _bad(spec, "expected a text entry")
        numbers = _numbers(spec, raw)
        where = f"{_where(spec.path)}: {spec.text!r}"
        if spec.is_range:
            return CitedRange(low=numbers[0], high=numbers[1], where=where, **common)
        return CitedValue(mean=numbers[0], where=where, **common)
    if spec.currency is not None and spec.currency.lower() not in spec.path.lower():
        raise _bad(spec, f"currency {spec.currency!r} is not stated at {_where(spec.path)}")
    where = _where(spec.path)
    if spec.is_range:
        if not (isinstance(raw, list) and len(raw) == 2):
            raise _bad(spec, "expected a [low, high] pair")
        return CitedRange(low=float(raw[0]), high=float(raw[1]), where=where, **common)
    if isinstance(raw, dict):
        mean = float(raw["mean"])
        dist, params, ci95 = _distribution(spec, raw, mean)
        return CitedValue(mean=mean, distribution=dist, params=params, ci95=ci95, where=where,
                          **common)
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        raise _bad(spec, f"expected a number, got {raw!r}")
    ci95 = None
    if spec.ci_path is not None:
        low, high = (float(x) for x in _at(data, spec.ci_path, spec))
        ci95 = (low, high)
        where += f" (95% CI at {_where(spec.ci_path)})"
    return CitedValue(mean=float(raw), ci95=ci95, where=where, **common)
