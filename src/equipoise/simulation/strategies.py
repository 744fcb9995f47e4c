"""Anxiety treatment strategies as data, compiled into one multi-state model per strategy.

A strategy is a sequence of treatment *lines* (SSRI, then an SNRI switch; CBT; ketamine
induction; a ketamine bridge while an SSRI starts; ...) and an optional maintenance rule on
relapse. Each line runs from its start until its assessment week; patients who respond leave
for the line's response or remission state, those who stop for side effects leave for dropout,
and those still without response at the assessment move to the next line (or to non-response).
Responders relapse at a weekly hazard; with ketamine maintenance a weekly booster can restore
the response. The cycle is one week and every parameter comes from
``datasets/data/anxiety_parameters.yaml`` (cited, with its uncertainty) unless the strategy file
overrides it. docs/anxiety-model.md describes the model and lists its assumptions; the report
flags every one.

States (``i`` = line number): ``line{i}`` (on line i, no response yet), ``response{i}``,
``remission{i}``, ``relapse{i}`` (after responding on line i), ``non_response`` and ``dropout``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from equipoise.errors import ModelError
from equipoise.simulation.files import (
    Checker,
    Document,
    PathT,
    parse_document,
    parse_duration,
    read_document,
)
from equipoise.simulation.microsim import as_seed
from equipoise.simulation.model import Float, MultiStateModel
from equipoise.simulation.parameters import ParameterSet, override_parameters, read_parameters
from equipoise.simulation.scenario import Assumption, Citation, Scenario

FORMAT = "equipoise-strategies/1"
PARAMETER_FILE = "anxiety_parameters.yaml"
WEEK_YEARS = 7 / 365.25
_TOP_KEYS = ("format", "title", "horizon", "currency", "discount", "method", "patients",
             "scale", "parameters", "sources", "strategies", "description")
_STRATEGY_KEYS = ("label", "lines", "maintenance", "description")
_LINE_KEYS = ("treatments", "treatment", "assess_week", "continue", "sessions")
_KETAMINE_FADE_ROWS = ("KET-HART23-01", "KET-HART23-02", "KET-HART23-03")

# Structural choices of the model: not parameters, but assumptions the report must flag.
STRUCTURAL_ASSUMPTIONS = (
    Assumption("combination response", "independent action",
               "a line combining treatments without an entry under `combinations` responds by "
               "week k with probability 1 - prod(1 - F_j(k)); dropout combines the same way",
               "add a `combinations` entry in `parameters`"),
    Assumption("combination durability", "most durable component",
               "responders to a line relapse at the lowest weekly hazard among its treatments "
               "(a continuous drug counts only while continued)",
               "choose `continue` per line"),
    Assumption("response curve", "linear from onset to the response week",
               "the share responding by week k rises evenly from the onset week to the week "
               "of the cited response rate and stays there (no response is extrapolated)",
               "set `treatments.<t>.onset_week` or `.response.week`"),
    Assumption("after the last line", "no further treatment",
               "patients without response after the last line, or who stop for side effects, "
               "stay untreated and at baseline severity to the horizon", "add a line"),
    Assumption("relapse without maintenance", "no retreatment",
               "a relapsed patient stays relapsed unless the strategy has maintenance",
               "set `maintenance: ketamine_iv`"),
    Assumption("courses", "completed by responders",
               "responders finish the scheduled induction infusions and CBT sessions", ""),
    Assumption("mortality", "none", "no deaths within the horizon, so life-years are not "
               "reported", ""),
    Assumption("side effects", "counted, not valued",
               "side effects are reported as the share of patients with each, among those "
               "still on the line after its first week; they carry no utility decrement "
               "(no sourced decrement in the inputs)", ""),
    Assumption("visits", "two per oral-drug line",
               "an SSRI or SNRI line has a prescribing visit in week 1 and a review in its "
               "assessment week, each costed as a 10-minute GP consultation; no other "
               "monitoring visits are costed", "override `treatments.<t>.costs.visit`"),
    Assumption("price years", "not inflated",
               "costs are used at their own price years (2025 Drug Tariff, an undated 2026 "
               "price list, a CBT course cost without a stated year); the sources give no "
               "inflation index", ""),
)


@dataclass(frozen=True)
class Line:
    """One treatment line: what is given, when response is assessed, what continues."""

    treatments: tuple[str, ...]
    assess_week: int
    continued: tuple[str, ...]
    sessions: int | None = None


@dataclass(frozen=True)
class Strategy:
    id: str
    label: str
    lines: tuple[Line, ...]
    maintenance: str | None


@dataclass(frozen=True)
class Scale:
    """GAD-7 means per state; each is an assumption the user can change (``scale:``)."""

    baseline: float
    response: float
    remission: float


# The defaults are assumptions the report flags: the lower edge of the severe band, midway
# between remission and half of baseline, the middle of the minimal band.
DEFAULT_SCALE = Scale(baseline=15.0, response=6.25, remission=2.0)


@cache
def bundled_parameters() -> ParameterSet:
    """The cited treatment parameters of the anxiety model (read and checked once)."""
    text = resources.files("equipoise").joinpath("datasets", "data", PARAMETER_FILE).read_text(
        encoding="utf-8")
    return read_parameters(parse_document(text, PARAMETER_FILE))


def _treatments(params: ParameterSet) -> dict[str, dict[str, Any]]:
    tree = params.tree.get("treatments", {})
    return {k: v for k, v in tree.items() if isinstance(v, dict)}


def _continuous(params: ParameterSet, t: str) -> bool:
    return bool(_treatments(params)[t].get("continuous", False))


def _read_lines(check: Checker, path: PathT, known: Sequence[str], params: ParameterSet
                ) -> tuple[Line, ...]:
    lines = []
    for i, _ in enumerate(check.sequence((*path, "lines"))):
        lp: PathT = (*path, "lines", i)
        check.mapping(lp)
        check.unknown_keys(lp, _LINE_KEYS)
        raw = check.doc.get((*lp, "treatments"))
        if raw is None and check.doc.get((*lp, "treatment")) is not None:
            names: list[Any] = [check.doc.get((*lp, "treatment"))]
            where: list[PathT] = [(*lp, "treatment")]
        else:
            names = check.sequence((*lp, "treatments"))
            where = [(*lp, "treatments", j) for j in range(len(names))]
        good = []
        for name, at in zip(names, where, strict=True):
            if not isinstance(name, str) or name not in known:
                check.fail(at, f"unknown treatment {name!r}; known treatments: "
                               f"{', '.join(known)}")
            elif name in good:
                check.fail(at, f"treatment {name!r} is named twice in one line")
            else:
                good.append(name)
        week = check.integer((*lp, "assess_week"), low=1)
        cont_raw = check.doc.get((*lp, "continue"))
        continuous = [t for t in good if _continuous(params, t)]
        continued = list(continuous)
        if cont_raw is not None:
            continued = []
            for j, name in enumerate(check.sequence((*lp, "continue"))):
                if name not in continuous:
                    check.fail((*lp, "continue", j), f"{name!r} is not a continuous drug of "
                               f"this line ({', '.join(continuous) or 'none'})")
                else:
                    continued.append(name)
        sessions = None
        if check.present((*lp, "sessions")):
            if "cbt" not in good:
                check.fail((*lp, "sessions"), "only a line with cbt has sessions")
            sessions = check.integer((*lp, "sessions"), low=1)
        if good and week is not None and len(good) == len(names):
            lines.append(Line(tuple(sorted(good)), week, tuple(sorted(continued)), sessions))
    if not lines and not check.problems:
        check.fail((*path, "lines"), "needs at least one line")
    return tuple(lines)


def _read_strategies(check: Checker, params: ParameterSet) -> list[Strategy]:
    known = sorted(_treatments(params))
    out = []
    block = check.mapping(("strategies",))
    if not block and not check.problems:
        check.fail(("strategies",), "needs at least one strategy")
    for sid in block:
        path: PathT = ("strategies", sid)
        if not isinstance(block[sid], dict):
            check.fail(path, "must be a mapping with label and lines")
            continue
        check.unknown_keys(path, _STRATEGY_KEYS)
        label = check.text((*path, "label"), default=sid) or sid
        lines = _read_lines(check, path, known, params)
        maintenance = None
        if check.present((*path, "maintenance")):
            maintenance = check.text((*path, "maintenance"))
            if maintenance is not None and params.get(
                    f"treatments.{maintenance}.maintenance.rescue") is None:
                able = [t for t in known if params.get(f"treatments.{t}.maintenance.rescue")]
                check.fail((*path, "maintenance"), f"{maintenance!r} has no maintenance "
                           f"parameters; maintenance can be: {', '.join(able) or 'none'}")
                maintenance = None
        out.append(Strategy(sid, label, lines, maintenance))
    return out


def _read_horizon(check: Checker, override: str | None) -> int | None:
    raw = override if override is not None else check.doc.get(("horizon",))
    if raw is None:
        return 52
    try:
        value, unit = parse_duration(raw)
    except ValueError:
        _horizon_problem(check, override, f"{raw!r} is not a duration like 52w or 1y")
        return None
    weeks = value if unit in ("w", "c") else value * 365.25 / 7 if unit == "y" else value / 7
    if weeks <= 0 or abs(weeks - round(weeks)) > 1e-9:
        _horizon_problem(check, override, f"{raw!r} must be a positive whole number of "
                                          "weeks (one cycle is a week)")
        return None
    return round(weeks)


def _horizon_problem(check: Checker, override: str | None, message: str) -> None:
    if override is not None:
        raise ModelError(f"--horizon {override}: {message}")
    check.fail(("horizon",), message)


def _read_scale(check: Checker) -> Scale:
    check.mapping(("scale",), required=False)
    check.unknown_keys(("scale",), ("name", "baseline", "response", "remission"))
    if check.present(("scale", "name")):
        check.choice(("scale", "name"), ["GAD-7"])
    d = DEFAULT_SCALE
    b = check.number(("scale", "baseline"), default=d.baseline, low=0, high=21,
                     what="a GAD-7 score")
    r = check.number(("scale", "response"), default=d.response, low=0, high=21,
                     what="a GAD-7 score")
    m = check.number(("scale", "remission"), default=d.remission, low=0, high=21,
                     what="a GAD-7 score")
    if None not in (b, r, m) and not (m or 0) <= (r or 0) <= (b or 0):
        check.fail(("scale",), "needs remission <= response <= baseline")
    if b is None or r is None or m is None:     # reported above; the run stops at done()
        return d
    return Scale(b, r, m)


def _read_discount(check: Checker) -> float | None:
    value = check.doc.get(("discount",))
    if value is None:
        check.fail(("discount",), "is required: the annual discount rate of costs and QALYs "
                                  "(NICE's reference case uses 0.035)")
        return None
    return check.number(("discount",), low=0.0, high=1.0, what="an annual rate in [0, 1]")


@dataclass(frozen=True)
class StrategyFile:
    """A validated strategy file, before its models are built."""

    title: str
    name: str
    horizon: int
    discount: float
    method: str
    patients: int
    scale: Scale
    strategies: tuple[Strategy, ...]
    params: ParameterSet


def read_strategy_file(doc: Document, *, horizon: str | None = None) -> StrategyFile:
    """Validate a strategy file; every problem is reported with its file, line and field."""
    check = Checker(doc)
    check.unknown_keys((), _TOP_KEYS)
    if check.doc.get(("format",)) != FORMAT:
        check.fail(("format",), f"must be {FORMAT!r} for a strategy file")
    title = check.text(("title",), default=Path(doc.name).stem) or doc.name
    weeks = _read_horizon(check, horizon)
    currency = check.text(("currency",), default="GBP")
    if currency not in (None, "GBP"):
        check.fail(("currency",), "the bundled costs are in GBP; other currencies need every "
                                  "cost overridden, which is not supported yet")
    discount = _read_discount(check)
    method = check.choice(("method",), ["microsimulation", "cohort"],
                          default="microsimulation")
    patients = check.integer(("patients",), default=1000, low=1)
    scale = _read_scale(check)
    params = bundled_parameters()
    try:
        params = override_parameters(params, doc)
    except ModelError as exc:
        check.problems.extend(getattr(exc, "problems", ()))
    strategies = _read_strategies(check, params)
    check.done()
    if weeks is None or discount is None or method is None:   # always reported above
        raise ModelError(f"{doc.name}: invalid horizon, discount or method")
    return StrategyFile(title, doc.name, weeks, discount, method, patients or 1000, scale,
                        tuple(strategies), params)


# ----------------------------------------------------------------------------- compilation


@dataclass(frozen=True)
class _Curves:
    """Per-line arrays over draws: response by week k (D, K+1), dropout and relapse hazards."""

    response: Float          # F(k), k = 0..assess_week
    dropout: Float           # (D,) weekly
    relapse: Float           # (D,) weekly, responders
    remission: Float         # (D,) share of responders who remit


def _curve(p: Float, week: Float, onset: Float, k: Float) -> Float:
    """F(k) = p · clip((k - onset + 1) / (week - onset + 1), 0, 1)."""
    span = np.maximum(week - onset + 1, 1.0)
    return np.asarray(p[:, None] * np.clip((k[None] - onset[:, None] + 1) / span[:, None],
                                           0.0, 1.0))


def _weekly(probability: Float, weeks: Float) -> Float:
    """Constant weekly hazard giving ``probability`` over ``weeks``."""
    return np.asarray(1 - (1 - probability) ** (1 / weeks))


def _relapse_hazard(v: Mapping[str, Float], t: str) -> Float:
    base = f"treatments.{t}.relapse"
    if f"{base}.median_weeks" in v:
        return np.asarray(1 - 0.5 ** (1 / v[f"{base}.median_weeks"]))
    return _weekly(v[f"{base}.probability"], v[f"{base}.weeks"])


def _line_curves(v: Mapping[str, Float], line: Line, d: int) -> _Curves:
    k = np.arange(line.assess_week + 1, dtype=np.float64)
    combo = "+".join(line.treatments)
    onset = np.min([v[f"treatments.{t}.onset_week"] for t in line.treatments], axis=0)
    if len(line.treatments) > 1 and f"combinations.{combo}.response.probability" in v:
        f = _curve(v[f"combinations.{combo}.response.probability"],
                   v[f"combinations.{combo}.response.week"], onset, k)
    else:
        miss = np.ones((d, k.size))
        for t in line.treatments:
            miss *= 1 - _curve(v[f"treatments.{t}.response.probability"],
                               v[f"treatments.{t}.response.week"],
                               v[f"treatments.{t}.onset_week"], k)
        f = 1 - miss
    stay = np.ones(d)
    for t in line.treatments:
        stay *= 1 - _weekly(v[f"treatments.{t}.dropout.probability"],
                            v[f"treatments.{t}.dropout.weeks"])
    durable = [t for t in line.treatments if t in line.continued or not _is_drug(v, t)]
    relapse = np.min([_relapse_hazard(v, t) for t in durable or line.treatments], axis=0)
    remission = np.max([v[f"treatments.{t}.remission_given_response"]
                        for t in line.treatments], axis=0)
    return _Curves(f, 1 - stay, relapse, remission)


def _is_drug(v: Mapping[str, Float], t: str) -> bool:
    return f"treatments.{t}.costs.drug_per_week" in v


def state_names(n_lines: int) -> tuple[str, ...]:
    per = [f"{kind}{i}" for i in range(1, n_lines + 1)
           for kind in ("line", "response", "remission", "relapse")]
    return (*per, "non_response", "dropout")


def _ketamine_fade(draws: int, seed: int | None) -> Float:
    """Mean ketamine effect over hours 24-168 after an infusion relative to its 24-h value,
    from the fitted time course of the cited rows (per draw)."""
    from equipoise.datasets import load_evidence
    from equipoise.synthesis.time_course import TimePoint, fit_time_course, window_hours

    evidence = load_evidence()
    points = []
    for rid in _KETAMINE_FADE_ROWS:
        row = evidence.get(rid)
        if row.ci is None or row.ci.low is None or row.ci.high is None \
                or row.timepoint_hours is None or row.point is None:
            raise ModelError(f"evidence row {rid} lacks the interval or time the ketamine "
                             "time course needs")
        points.append(TimePoint(window_hours(row.timepoint_hours), float(row.point),
                                (row.ci.high - row.ci.low) / (2 * 1.959963984540054), rid))
    course = fit_time_course(points, favourable=-1)
    hours = np.linspace(24.0, 168.0, 145)
    if seed is None:
        effect = np.array([[course.predict(h)[0] for h in hours]])
    else:
        effect = course.draw(np.random.default_rng([seed, 1]), draws, hours.tolist())
    ratio = effect.mean(axis=1) / effect[:, 0]
    return np.asarray(np.clip(np.broadcast_to(ratio, (draws,)), 0.0, 1.0))


def _build(sf: StrategyFile, strategy: Strategy, v: Mapping[str, Float], d: int,
           n_lines: int, fade: Float, ae_names: Sequence[str]) -> MultiStateModel:
    states = state_names(n_lines)
    s = len(states)
    ix = {name: i for i, name in enumerate(states)}
    t_max = sf.horizon
    p = np.zeros((d, t_max, s, s))
    rewards = {"cost": np.zeros((d, t_max + 1, s)), "qaly": np.zeros((d, t_max + 1, s)),
               "gad7": np.zeros((d, t_max + 1, s))}
    for name in ae_names:
        rewards[f"ae: {name}"] = np.zeros((d, t_max + 1, s))
    u = {k: v[f"utilities.{k}"] * WEEK_YEARS
         for k in ("non_response", "response", "remission", "relapse")}
    sc = sf.scale
    for name in states:                                # unreachable states stay put
        p[:, :, ix[name], ix[name]] = 1.0
    for key, state in (("non_response", "non_response"), ("non_response", "dropout")):
        rewards["qaly"][:, :, ix[state]] = u[key][:, None]
        rewards["gad7"][:, :, ix[state]] = sc.baseline
    rescue = (v[f"treatments.{strategy.maintenance}.maintenance.rescue"]
              if strategy.maintenance else None)
    start = 0
    for i in range(1, n_lines + 1):
        a, r, m, x = (ix[f"{k}{i}"] for k in ("line", "response", "remission", "relapse"))
        rewards["qaly"][:, :, a] = u["non_response"][:, None]
        rewards["qaly"][:, :, r] = u["response"][:, None]
        rewards["qaly"][:, :, m] = u["remission"][:, None]
        rewards["qaly"][:, :, x] = u["relapse"][:, None]
        for st in (a, x):
            rewards["gad7"][:, :, st] = sc.baseline
        rewards["gad7"][:, :, r] = sc.response
        rewards["gad7"][:, :, m] = sc.remission
        if i > len(strategy.lines):
            continue
        line = strategy.lines[i - 1]
        c = _line_curves(v, line, d)
        nxt = ix[f"line{i + 1}"] if i < len(strategy.lines) else ix["non_response"]
        for t in range(1, t_max + 1):
            k = t - start
            tt = t - 1
            p[:, tt, r, r] = 1 - c.relapse
            p[:, tt, r, x] = c.relapse
            p[:, tt, m, m] = 1 - c.relapse
            p[:, tt, m, x] = c.relapse
            if rescue is not None:
                p[:, tt, x, x] = 1 - rescue
                p[:, tt, x, r] = rescue * (1 - c.remission)
                p[:, tt, x, m] = rescue * c.remission
            if 1 <= k <= line.assess_week:
                prev, now = c.response[:, k - 1], c.response[:, k]
                h = np.where(prev < 1, (now - prev) / np.where(prev < 1, 1 - prev, 1), 0.0)
                keep = (1 - c.dropout) * (1 - h)
                p[:, tt, a, a] = 0.0
                p[:, tt, a, ix["dropout"]] = c.dropout
                p[:, tt, a, r] = (1 - c.dropout) * h * (1 - c.remission)
                p[:, tt, a, m] = (1 - c.dropout) * h * c.remission
                p[:, tt, a, a if k < line.assess_week else nxt] += keep
            _line_costs(rewards, v, line, strategy, k, t, (a, r, m, x), fade, sc)
        start += line.assess_week
    return MultiStateModel.build(states, _initial(s), p, t_max, rewards,
                                 cycle_length=WEEK_YEARS)


def _initial(s: int) -> Float:
    init = np.zeros(s)
    init[0] = 1.0
    return init


def _line_costs(rewards: dict[str, Float], v: Mapping[str, Float], line: Line,
                strategy: Strategy, k: int, t: int, idx: tuple[int, int, int, int],
                fade: Float, sc: Scale) -> None:
    """Week-k costs (and side-effect incidence, ketamine fade) of line states at cycle t."""
    a, r, m, x = idx
    cost = rewards["cost"]
    if strategy.maintenance:
        cost[:, t, x] += v[f"treatments.{strategy.maintenance}.costs.infusion"]
    if k < 1:
        return
    everyone = (a, r, m, x)
    for tr in line.treatments:
        pre = f"treatments.{tr}"
        if f"{pre}.costs.drug_per_week" in v:
            drug = v[f"{pre}.costs.drug_per_week"]
            if k <= line.assess_week:
                cost[:, t, a] += drug
            if tr in line.continued:
                for st in (r, m, x):
                    cost[:, t, st] += drug
        if f"{pre}.costs.visit" in v and k in (1, line.assess_week):
            for st in everyone:
                cost[:, t, st] += v[f"{pre}.costs.visit"]
        if f"{pre}.costs.session" in v:
            sessions = line.sessions or round(float(v[f"{pre}.sessions"][0]))
            if k <= sessions:
                for st in everyone:
                    cost[:, t, st] += v[f"{pre}.costs.session"]
        if f"{pre}.induction.infusions" in v:
            weeks = v[f"{pre}.induction.weeks"]
            if k == 1:
                for st in everyone:
                    cost[:, t, st] += v[f"{pre}.costs.assessment"]
            per_week = v[f"{pre}.induction.infusions"] / weeks
            on = k <= weeks
            for st in everyone:
                cost[:, t, st] += np.where(on, per_week * v[f"{pre}.costs.infusion"], 0.0)
            if line.treatments == (tr,):       # ketamine alone: its effect fades between doses
                off = ~on
                for st, level in ((r, sc.response), (m, sc.remission)):
                    faded = sc.baseline - fade * (sc.baseline - level)
                    rewards["gad7"][:, t, st] = np.where(off, faded, level)
        if k == 1:
            for key in v:
                if key.startswith(f"{pre}.side_effects."):
                    name = key.removeprefix(f"{pre}.side_effects.")
                    for st in everyone:
                        rewards[f"ae: {name}"][:, t, st] += v[key]


def compile_strategies(sf: StrategyFile, *, draws: int = 1, seed: int | None = None
                       ) -> Scenario:
    """One model per strategy of ``sf``; ``draws`` > 1 samples every parameter (PSA)."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ModelError(f"draws must be a positive integer, got {draws!r}")
    psa_seed = None if draws == 1 else seed
    v = sf.params.draws(draws, psa_seed)
    used = sorted({t for s in sf.strategies for line in s.lines for t in line.treatments}
                  | {s.maintenance for s in sf.strategies if s.maintenance})
    ae_names = sorted({k.split(".side_effects.")[1] for k in v
                       if any(k.startswith(f"treatments.{t}.side_effects.") for t in used)})
    n_lines = max(len(s.lines) for s in sf.strategies)
    ketamine_alone = any(line.treatments == ("ketamine_iv",) for s in sf.strategies
                         for line in s.lines)
    fade = _ketamine_fade(draws, psa_seed) if ketamine_alone else np.ones(draws)
    models = {s.id: _build(sf, s, v, draws, n_lines, fade, ae_names) for s in sf.strategies}
    rewards = list(next(iter(models.values())).rewards)
    discount = {r: (sf.discount if r in ("cost", "qaly") else 0.0) for r in rewards}
    states = state_names(n_lines)
    lines = range(1, n_lines + 1)
    groups = {
        "responded (time to response)": tuple(f"{k}{i}" for i in lines
                                              for k in ("response", "remission", "relapse")),
        "in response or remission": tuple(f"{k}{i}" for i in lines
                                          for k in ("response", "remission")),
        "in remission": tuple(f"remission{i}" for i in lines),
        "relapsed": tuple(f"relapse{i}" for i in lines),
        "stopped for side effects": ("dropout",),
    }
    assert all(s in states for g in groups.values() for s in g)
    return Scenario(
        title=sf.title, source=sf.name, strategies=models,
        labels={s.id: s.label for s in sf.strategies}, cost="cost", effect="qaly",
        discount=discount, correction="none-skip-start", cycle_unit="week", currency="GBP",
        life_years=None, method=sf.method, groups=groups, tracks=("gad7",),
        assumptions=_assumptions(sf, used), citations=_citations(sf, used),
        default_patients=sf.patients)


def _relevant(path: str, used: Sequence[str]) -> bool:
    parts = path.split(".")
    if parts[0] == "treatments":
        return parts[1] in used
    if parts[0] == "combinations":
        return all(t in used for t in parts[1].split("+"))
    return True


def _assumptions(sf: StrategyFile, used: Sequence[str]) -> tuple[Assumption, ...]:
    out = [Assumption(f"scale.{k}", f"{getattr(sf.scale, k):g}",
                      f"mean GAD-7 of patients {what}; no sourced value", f"scale: {k}")
           for k, what in (("baseline", "before response, without response or relapsed"),
                           ("response", "responding but not remitted"),
                           ("remission", "in remission"))]
    for path, p in sorted(sf.params.params.items()):
        if p.assumption and _relevant(path, used):
            out.append(Assumption(path, f"{p.mean:g}", p.assumption,
                                  f"parameters: {{{path}: ...}}"))
    return (*out, *STRUCTURAL_ASSUMPTIONS)


def _citations(sf: StrategyFile, used: Sequence[str]) -> tuple[Citation, ...]:
    return tuple(Citation(path, f"{p.mean:g}", p.basis, p.kind)
                 for path, p in sorted(sf.params.params.items())
                 if p.basis != "assumption" and _relevant(path, used))


def load_strategies(source: str | Path | Document, *, draws: int = 1,
                    seed: int | np.random.Generator = 0, horizon: str | None = None
                    ) -> Scenario:
    """Read, validate and compile a strategy file (``format: equipoise-strategies/1``).

    Parameters
    ----------
    draws
        1: every parameter at its point value; more: a PSA with that many draws, sampled with
        ``seed`` (the same seed gives the same draws).
    horizon
        Overrides the file's ``horizon`` (``"52w"``, ``"1y"``).
    """
    doc = source if isinstance(source, Document) else read_document(source)
    sf = read_strategy_file(doc, horizon=horizon)
    return compile_strategies(sf, draws=draws, seed=as_seed(seed))
