"""The claims check: what the evidence base says about the seed article's common claims.

Each claim is a rule over the evidence set. The rule picks the rows that bear on the claim and
derives the verdict from them (supported / partly / not established / contradicted); the summary
quotes only numbers printed in those rows. Remove or change a row and the verdict can change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from equipoise.comparison.cells import SourceRef
from equipoise.comparison.certainty import OPTIMAL_INFORMATION_SIZE, rate
from equipoise.comparison.findings import (
    find_partner,
    lower_first,
    make_finding,
    number_text,
    source_ref,
    value_hours,
)
from equipoise.datasets import load_evidence
from equipoise.evidence.records import EvidenceRow, EvidenceSet
from equipoise.evidence.values import Interval, Number, Status, Unit
from equipoise.evidence.vocabulary import OutcomeKind

SUPPORTED, PARTLY, NOT_ESTABLISHED, CONTRADICTED = (
    "supported", "partly", "not established", "contradicted")
DAY = 24.0
WEEK = 168.0


@dataclass(frozen=True, slots=True)
class ClaimVerdict:
    """What the evidence says of one claim, with the rows it rests on."""

    id: str
    claim: str
    verdict: str
    summary: str
    rows: tuple[str, ...]
    certainty: str | None
    sources: tuple[SourceRef, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Claim:
    id: str
    text: str
    rule: Callable[[EvidenceSet], tuple[str, str, list[EvidenceRow]]]


def _family(ev: EvidenceSet, *roots: str) -> set[str]:
    out: set[str] = set()
    for root in roots:
        out |= {root, *ev.catalogue.descendants(root)}
    return out


def _rows(ev: EvidenceSet, treatments: set[str], *kinds: OutcomeKind,
          anxiety_only: bool = False) -> list[EvidenceRow]:
    return [r for r in ev if r.treatment in treatments and r.kind in kinds
            and (not anxiety_only or r.condition.is_anxiety_only)]


class _Cites:
    """Formats cited numbers and remembers every row (and paired control row) it quoted."""

    def __init__(self, ev: EvidenceSet) -> None:
        self.ev = ev
        self.rows: list[EvidenceRow] = []

    def one(self, r: EvidenceRow, *, pair: bool = False, what: str = "") -> str:
        self.rows.append(r)
        if pair:
            f = make_finding(r, self.ev, "anxiety")
            text = f.text
            self.rows += [self.ev.get(s.row_id) for s in f.sources[1:]]
        else:
            text = number_text(r)
        where = "" if r.condition.is_anxiety_only else f", {r.condition.text}"
        if r.condition.pediatric and "pediatric" not in where:
            where += ", paediatric"
        return f"{what + ' ' if what else ''}{text} [{r.id}{where}]"

    def many(self, rows: Sequence[EvidenceRow], *, pair: bool = False,
             what: Callable[[EvidenceRow], str] | None = None) -> str:
        return ", ".join(self.one(r, pair=pair, what=what(r) if what else "") for r in rows)


def _drug(ev: EvidenceSet) -> Callable[[EvidenceRow], str]:
    return lambda r: lower_first(ev.catalogue[r.treatment].name) + ":"


def _ssri_onset(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    drugs = _family(ev, "ssri")
    onset = [r for r in _rows(ev, drugs, OutcomeKind.ONSET) if value_hours(r) is not None]
    if not onset:
        return NOT_ESTABLISHED, "No onset data for SSRIs in the evidence base.", []
    earliest = min(h[0] for r in onset if (h := value_hours(r)) is not None)
    endpoints = [r for r in _rows(ev, drugs, OutcomeKind.RESPONSE)
                 if r.source.key in {o.source.key for o in onset} and r.treatment in drugs]
    if earliest <= WEEK:
        text = ("Separation from placebo is reported from the first week or two ("
                + c.many(onset, what=_drug(ev)) + ")")
        if endpoints:
            text += (f"; response is judged at the trials' endpoints ("
                     f"{c.one(endpoints[0], pair=True)} at {endpoints[0].timepoint})")
        return PARTLY, text + ": benefit starts within weeks, not hours.", c.rows
    return SUPPORTED, f"Earliest reported benefit: {c.many(onset)}.", c.rows


def _ssri_nonresponse(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    about = _family(ev, "ssri") | {"first-line", "ssri-snri"}
    rows = [r for r in ev if r.kind is OutcomeKind.NONRESPONSE and r.treatment in about
            and r.measure.unit in (Unit.PERCENT, Unit.FRACTION)]
    if not rows:
        return NOT_ESTABLISHED, "No non-response proportion for SSRIs in the evidence base.", []
    responses = [r for r in _rows(ev, _family(ev, "ssri"), OutcomeKind.RESPONSE,
                                  anxiety_only=True)
                 if r.measure.unit is Unit.PERCENT and r.controlled
                 and "completer" not in r.outcome_text and not r.condition.pediatric]
    lows, hit = [], None
    for r in rows:
        nums = r.value.numbers()
        scale = 100.0 if r.measure.unit is Unit.FRACTION else 1.0
        lows.append(min(nums) * scale)
        if hit is None and min(nums) * scale <= 30 <= max(nums) * scale:
            hit = r
    context = (f" In GAD trials, response on SSRIs was {c.many(responses, pair=True)}; "
               "non-response was not derived from these response rates." if responses else "")
    if hit is not None:
        return SUPPORTED, f"Reported non-response includes 30%: {c.one(hit)}.{context}", c.rows
    if all(low > 30 for low in lows):
        return (PARTLY, "No source gives 30%; statements about first-line treatment put "
                f"non-response higher: {c.many(rows)}.{context}", c.rows)
    return CONTRADICTED, f"Reported non-response is lower: {c.many(rows)}.{context}", c.rows


def _ketamine_hours(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    ket = _family(ev, "ketamine")
    rows = [r for r in _rows(ev, ket, OutcomeKind.ONSET, anxiety_only=True)
            if (h := value_hours(r)) is not None and h[1] <= DAY]
    iv = [r for r in _rows(ev, {"ketamine-iv"}, OutcomeKind.SIGNIFICANCE, anxiety_only=True)
          if r.controlled]
    if not rows:
        return NOT_ESTABLISHED, "No onset within a day reported in an anxiety disorder.", []
    big = [r for r in rows if r.controlled and (r.n or 0) >= OPTIMAL_INFORMATION_SIZE]
    if big:
        return SUPPORTED, f"Onset within hours in adequately sized trials: {c.many(big)}.", rows
    ns = sorted({r.n for r in rows if r.n is not None})
    text = (f"Onset within hours is reported ({c.many(rows, what=_drug(ev))}) but only in very "
            f"small studies (n={', '.join(map(str, ns))}) of treatment-resistant GAD/SAD, one "
            "with a midazolam control and none with a large randomised sample.")
    if iv:
        text += (" The one randomised trial of IV ketamine (SAD) reports "
                 + c.many(iv, what=lambda r: r.outcome_text.split(" time")[0] + ":")
                 + f" over {iv[0].timepoint}.")
    return PARTLY, text, c.rows


def _ketamine_fade(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    ket = _family(ev, "ketamine")
    duration = _rows(ev, ket, OutcomeKind.DURATION)
    relapse = list(_rows(ev, ket, OutcomeKind.RELAPSE))
    course = sorted((r for r in ket_effects(ev, ket) if r.timepoint_hours is not None),
                    key=lambda r: r.timepoint_hours or (0.0, 0.0))
    faded = len(course) >= 2 and abs(course[-1].point or 0) < abs(course[0].point or 0)
    short = [r for r in duration if (h := value_hours(r)) is not None and h[1] <= 2 * WEEK]
    maintenance = [r for r in ev if r.treatment in ket | {"esketamine"}
                   and r.kind is OutcomeKind.RELAPSE and r.controlled and r.ci is not None]
    maint_anxiety = [r for r in maintenance if r.condition.is_anxiety_only]
    if not (short or faded):
        return NOT_ESTABLISHED, "No data on how long ketamine's benefit lasts.", []
    fade = ("Benefit fades: single-dose effects last " + c.many(short)
            + ("; the pooled effect shrinks over time: "
               + c.many(course, what=lambda r: r.timepoint + ":") if faded else "")
            + (f"; after an infusion series, median time to relapse {c.many(relapse)}"
               if relapse else "") + ".")
    if maint_anxiety:
        return (SUPPORTED, fade + f" Controlled maintenance data: {c.many(maint_anxiety)}.",
                c.rows)
    return (PARTLY, fade + " No controlled trial has tested maintenance ketamine in an anxiety "
            "disorder; controlled maintenance evidence exists only for esketamine in TRD ("
            + c.many(maintenance, what=lambda r: r.outcome_text + ":") + ").", c.rows)


def ket_effects(ev: EvidenceSet, ket: set[str]) -> list[EvidenceRow]:
    """Effect-vs-control rows of one ketamine source measured at several times."""
    rows = [r for r in ev if r.treatment in ket and r.kind is OutcomeKind.EFFECT
            and r.timepoint_hours is not None]
    groups: dict[tuple[str, str], list[EvidenceRow]] = {}
    for r in rows:
        groups.setdefault((r.source.key, r.outcome_text), []).append(r)
    best = max(groups.values(), key=len, default=[])
    return best if len(best) > 1 else []


def _ketamine_cbt(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    kap = [r for r in ev if ev.catalogue[r.treatment].modality ==
           "ketamine-assisted psychotherapy" and not r.protocol]
    controlled = [r for r in kap if r.controlled]
    if controlled:
        return SUPPORTED, f"Controlled evidence: {c.many(controlled)}.", c.rows
    return (NOT_ESTABLISHED, "No trial compares ketamine plus CBT with either alone. The "
            "ketamine-assisted psychotherapy data are uncontrolled case series ("
            + c.many(kap, what=lambda r: r.outcome_text + ":") + ").", c.rows)


def _regulatory(ev: EvidenceSet, tids: set[str]) -> list[EvidenceRow]:
    return [r for r in ev if r.kind is OutcomeKind.REGULATORY and r.treatment in tids]


def _ketamine_not_fda(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    rows = _regulatory(ev, _family(ev, "ketamine"))
    approvals = [r for r in rows if isinstance(r.value, Status) and r.value.flag
                 and r.condition.codes & {"GAD", "SAD", "PANIC", "PTSD", "ANXIETY"}]
    denials = [r for r in rows if isinstance(r.value, Status) and not r.value.flag]
    if approvals:
        return (CONTRADICTED, "An anxiety approval is reported ("
                + ", ".join(r.id for r in approvals) + ").", approvals)
    if denials:
        return (SUPPORTED, "Racemic ketamine is not FDA-approved for any psychiatric disorder, "
                "and its psychiatric uses, anxiety included, are off-label ("
                + ", ".join(r.id for r in denials) + ").", denials)
    return NOT_ESTABLISHED, "No regulatory source for ketamine in the evidence base.", []


def _ketamine_fda_depression(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    esk = [r for r in _regulatory(ev, {"esketamine"}) if "DEPRESSION" in r.condition.codes]
    ket = [r for r in _regulatory(ev, _family(ev, "ketamine"))
           if isinstance(r.value, Status) and not r.value.flag]
    c.rows += ket
    if esk:
        return (PARTLY, "Only esketamine nasal spray (Spravato) is FDA-approved for depression "
                f"(treatment-resistant depression: {c.many(esk)}); racemic ketamine infusions "
                "are not approved for any psychiatric disorder"
                + (f" ({', '.join(r.id for r in ket)})" if ket else "") + ".", c.rows)
    return NOT_ESTABLISHED, "No depression approval in the evidence base.", ket


def _ketamine_resistant(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    ket = _family(ev, "ketamine")
    rows = [r for r in ev if r.treatment in ket and r.condition.treatment_resistant
            and r.condition.is_anxiety_only and r.kind in (OutcomeKind.RESPONSE,
                                                          OutcomeKind.ONSET)]
    randomised = [r for r in rows if r.design.name in ("RCT", "META_ANALYSIS")]
    if randomised:
        return (SUPPORTED, f"Randomised evidence in resistant anxiety: {c.many(randomised)}.",
                c.rows)
    if rows:
        return (PARTLY, "In treatment-refractory GAD/SAD, small non-randomised studies report "
                "benefit (" + c.many(rows, what=lambda r: r.outcome_text + ":") + "); no trial "
                "compared ketamine with a next-step SSRI, SNRI or CBT in non-responders.",
                c.rows)
    return NOT_ESTABLISHED, "No ketamine data in treatment-resistant anxiety.", []


def _ssri_side_effects(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    drugs = _family(ev, "ssri") | {"ssri-snri"}
    named = [r for r in _rows(ev, drugs, OutcomeKind.ADVERSE_EVENT)
             if r.outcome.effect in ("nausea", "fatigue", "sexual dysfunction")]
    if named:
        return SUPPORTED, f"Named side-effect rates: {c.many(named, pair=True)}.", c.rows
    general = _rows(ev, drugs, OutcomeKind.ADVERSE_EVENT, OutcomeKind.DISCONTINUATION_AE)
    pairs = [(r, find_partner(r, ev)) for r in general]
    higher = [r for r, p in pairs if p is not None and r.point is not None
              and p.point is not None and r.point > p.point]

    def label(r: EvidenceRow) -> str:
        return f"{lower_first(ev.catalogue[r.treatment].name)}, {r.outcome_text}:"

    if general and len(higher) == len(general):
        return (PARTLY, "Adverse events and discontinuations for adverse events are more "
                f"frequent than on placebo ({c.many(general, pair=True, what=label)}), but "
                "rates of nausea, fatigue or sexual dysfunction on SSRIs in anxiety were not "
                "captured.", c.rows)
    if general:
        return (NOT_ESTABLISHED, "Adverse-event rates on SSRIs are not consistently above "
                f"placebo in the rows captured ({c.many(general, pair=True, what=label)}).",
                c.rows)
    return NOT_ESTABLISHED, "No SSRI adverse-event data in the evidence base.", []


def _ketamine_side_effects(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    ket = _family(ev, "ketamine") | {"esketamine"}
    rows = [r for r in _rows(ev, ket, OutcomeKind.ADVERSE_EVENT)
            if r.outcome.effect in ("dissociation", "dizziness")]
    monitoring = [r for r in ev if r.treatment in ket and r.kind is OutcomeKind.MONITORING]
    if not rows:
        return NOT_ESTABLISHED, "No dissociation or dizziness data for ketamine.", []
    percent = [r for r in rows if r.measure.unit is Unit.PERCENT]
    anxiety = [r for r in rows if r.condition.is_anxiety_only]
    text = ("Dissociation and dizziness are common ("
            + c.many(percent[:4], pair=True, what=lambda r: f"{r.outcome.effect}:") + ")")
    if anxiety:
        text += ("; in anxiety-disorder patients dissociation was measured on the CADSS ("
                 + c.many(anxiety, what=lambda r: r.timepoint + ":") + ")")
    if monitoring:
        text += f"; esketamine requires post-dose monitoring ({c.many(monitoring)})"
    return SUPPORTED, text + ". Most of the rates come from depression populations.", c.rows


def _cbt_durable(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    c = _Cites(ev)
    cbt = _family(ev, "cbt", "psychotherapy") | {"icbt"}
    cbt_relapse = _rows(ev, cbt, OutcomeKind.RELAPSE)
    cbt_duration = _rows(ev, cbt, OutcomeKind.DURATION)
    drug_relapse = [r for r in ev if r.kind is OutcomeKind.RELAPSE
                    and r.treatment == "placebo-discontinuation"
                    and isinstance(r.value, Number | Interval)
                    and r.measure.unit is Unit.PERCENT]
    head_to_head = [r for r in ev if r.treatment in cbt and r.kind is OutcomeKind.RELAPSE
                    and set(r.comparators) & _family(ev, "ssri", "snri", "antidepressant")]
    if head_to_head:
        return SUPPORTED, f"Head-to-head: {c.many(head_to_head)}.", c.rows
    if cbt_relapse and drug_relapse:
        text = f"After successful CBT, relapse is low ({c.many(cbt_relapse)})"
        if cbt_duration:
            text += (f" and internet CBT's improvement was maintained over a median follow-up "
                     f"of {c.many(cbt_duration)}")
        text += (f", while stopping an antidepressant raises relapse ("
                 f"{c.many(drug_relapse, pair=True)}); these come from different studies and "
                 "populations, not a head-to-head comparison.")
        return PARTLY, text, c.rows
    return NOT_ESTABLISHED, "No durability data for CBT.", c.rows


CLAIMS: tuple[_Claim, ...] = (
    _Claim("ssri-onset-weeks", "SSRIs take weeks to produce noticeable results", _ssri_onset),
    _Claim("ssri-nonresponse-30", "About 30% of patients show little to no improvement on SSRIs",
           _ssri_nonresponse),
    _Claim("ketamine-onset-hours", "Ketamine infusions reduce anxiety within hours",
           _ketamine_hours),
    _Claim("ketamine-fade-maintenance",
           "Ketamine's benefits fade over time and need maintenance infusions", _ketamine_fade),
    _Claim("ketamine-cbt-synergy", "Combining ketamine with CBT works better than either alone",
           _ketamine_cbt),
    _Claim("ketamine-not-fda-anxiety", "Ketamine is not FDA-approved for anxiety",
           _ketamine_not_fda),
    _Claim("ketamine-fda-depression", "Ketamine is FDA-approved for depression",
           _ketamine_fda_depression),
    _Claim("ketamine-ssri-nonresponders",
           "Ketamine is a viable option for patients unresponsive to SSRIs", _ketamine_resistant),
    _Claim("ssri-side-effects", "SSRIs cause side effects like nausea, fatigue and sexual "
           "dysfunction", _ssri_side_effects),
    _Claim("ketamine-side-effects", "Ketamine needs medical supervision because of dizziness "
           "and dissociation", _ketamine_side_effects),
    _Claim("cbt-outlasts-medication", "CBT's long-term benefits often outlast medication",
           _cbt_durable),
)
CLAIM_IDS = tuple(c.id for c in CLAIMS)


def check_claims(evidence: EvidenceSet | None = None,
                 claims: Sequence[str] | None = None) -> tuple[ClaimVerdict, ...]:
    """Verdicts for the seed article's claims (all, or the ids in ``claims``)."""
    full = evidence if evidence is not None else load_evidence()
    ev = EvidenceSet((r for r in full if r.value_quoted), full.catalogue)
    chosen = [c for c in CLAIMS if claims is None or c.id in claims]
    unknown = set(claims or ()) - set(CLAIM_IDS)
    if unknown:
        from equipoise.errors import ComparisonError
        raise ComparisonError(f"unknown claim(s) {sorted(unknown)}; use {', '.join(CLAIM_IDS)}")
    out = []
    for c in chosen:
        verdict, summary, rows = c.rule(ev)
        unique = list(dict.fromkeys(rows))
        findings = [make_finding(r, ev, "anxiety") for r in unique if not r.protocol]
        certainty = rate(findings, ev) if findings else None
        out.append(ClaimVerdict(c.id, c.text, verdict, summary, tuple(r.id for r in unique),
                                None if certainty is None else certainty.label,
                                tuple(source_ref(r) for r in unique)))
    return tuple(out)
