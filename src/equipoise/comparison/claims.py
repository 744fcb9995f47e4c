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
    make_finding,
    number_text,
    source_ref,
    value_hours,
)
from equipoise.datasets import load_evidence
from equipoise.evidence.quotes import value_in_quote
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


def _cite(rows: Sequence[EvidenceRow]) -> str:
    return ", ".join(f"{number_text(r)} [{r.id}]" for r in rows)


def _cite_pairs(ev: EvidenceSet, rows: Sequence[EvidenceRow]) -> str:
    """Like :func:`_cite` but with the paired control arm: ``8.9% vs 5.1% placebo [ID]``."""
    return ", ".join(f"{make_finding(r, ev, 'anxiety').text} [{r.id}]" for r in rows)


def _ssri_onset(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    drugs = _family(ev, "ssri", "snri")
    onset = [r for r in _rows(ev, drugs, OutcomeKind.ONSET) if value_hours(r) is not None]
    if not onset:
        return NOT_ESTABLISHED, "No onset data for SSRIs or SNRIs in the evidence base.", []
    earliest = min(value_hours(r)[0] for r in onset)  # type: ignore[index]
    endpoints = [r for r in _rows(ev, drugs, OutcomeKind.RESPONSE)
                 if r.source.key in {o.source.key for o in onset}]
    if earliest <= WEEK:
        return (PARTLY, "Separation from placebo is reported from the first week or two "
                f"({_cite(onset)}); response rates are judged later"
                + (f" ({_cite_pairs(ev, endpoints[:1])} at {endpoints[0].timepoint})"
                   if endpoints else "") + ": benefit starts within weeks, not hours.",
                onset + endpoints[:1])
    return SUPPORTED, f"Earliest reported benefit: {_cite(onset)}.", onset


def _ssri_nonresponse(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    rows = [r for r in ev if r.kind is OutcomeKind.NONRESPONSE
            and r.measure.unit in (Unit.PERCENT, Unit.FRACTION)]
    if not rows:
        return NOT_ESTABLISHED, "No non-response proportion in the evidence base.", []
    lows = []
    for r in rows:
        nums = r.value.numbers()
        scale = 100.0 if r.measure.unit is Unit.FRACTION else 1.0
        lows.append(min(nums) * scale)
        if min(nums) * scale <= 30 <= max(nums) * scale:
            return SUPPORTED, f"Reported non-response includes 30%: {_cite([r])}.", rows
    if all(low > 30 for low in lows):
        return (PARTLY, "No source gives 30%; the statements found put non-response higher: "
                f"{_cite(rows)}. Non-response was not computed as 100 minus response.", rows)
    return CONTRADICTED, f"Reported non-response is lower: {_cite(rows)}.", rows


def _ketamine_hours(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    ket = _family(ev, "ketamine")
    rows = [r for r in _rows(ev, ket, OutcomeKind.ONSET, anxiety_only=True)
            if (h := value_hours(r)) is not None and h[1] <= DAY]
    if not rows:
        return NOT_ESTABLISHED, "No onset within a day reported in an anxiety disorder.", []
    big = [r for r in rows if r.controlled and (r.n or 0) >= OPTIMAL_INFORMATION_SIZE]
    if big:
        return SUPPORTED, f"Onset within hours in adequately sized trials: {_cite(big)}.", rows
    ns = sorted({r.n for r in rows if r.n is not None})
    return (PARTLY, f"Onset within hours is reported ({_cite(rows)}) but only in very small "
            f"studies (n={', '.join(map(str, ns))}) of treatment-resistant GAD/SAD, one with a "
            "midazolam control and none with a large randomised sample.", rows)


def _ketamine_fade(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    ket = _family(ev, "ketamine")
    duration = _rows(ev, ket, OutcomeKind.DURATION)
    relapse = list(_rows(ev, ket, OutcomeKind.RELAPSE))
    course = sorted((r for r in ket_effects(ev, ket) if r.timepoint_hours is not None),
                    key=lambda r: r.timepoint_hours or (0.0, 0.0))
    faded = len(course) >= 2 and abs(course[-1].point or 0) < abs(course[0].point or 0)
    short = [r for r in duration if (h := value_hours(r)) is not None and h[1] <= 2 * WEEK]
    maintenance = [r for r in ev if r.treatment in ket | {"esketamine"}
                   and r.kind is OutcomeKind.RELAPSE and r.controlled]
    maint_anxiety = [r for r in maintenance if r.condition.is_anxiety_only]
    rows = short + (course if faded else []) + relapse + maintenance
    if not (short or faded):
        return NOT_ESTABLISHED, "No data on how long ketamine's benefit lasts.", rows
    fade = (f"Benefit fades: single-dose effects last {_cite(short)}"
            + (f"; pooled effect shrinks {_cite(course)}" if faded else "")
            + (f"; after an infusion series, median time to relapse {_cite(relapse)}"
               if relapse else "") + ".")
    if maint_anxiety:
        return SUPPORTED, fade + f" Controlled maintenance data: {_cite(maint_anxiety)}.", rows
    return (PARTLY, fade + " No controlled trial has tested maintenance ketamine in an anxiety "
            "disorder; controlled maintenance evidence exists only for esketamine in TRD ("
            + _cite([r for r in maintenance if r.ci is not None] or maintenance) + ").", rows)


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
    kap = [r for r in ev if ev.catalogue[r.treatment].modality ==
           "ketamine-assisted psychotherapy" and not r.protocol]
    controlled = [r for r in kap if r.controlled]
    if controlled:
        return SUPPORTED, f"Controlled evidence: {_cite(controlled)}.", controlled
    return (NOT_ESTABLISHED, "No trial compares ketamine plus CBT with either alone. The "
            f"ketamine-assisted psychotherapy data are uncontrolled case series ({_cite(kap)}).",
            kap)


def _regulatory(ev: EvidenceSet, tids: set[str]) -> list[EvidenceRow]:
    return [r for r in ev if r.kind is OutcomeKind.REGULATORY and r.treatment in tids]


def _ketamine_not_fda(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    rows = _regulatory(ev, _family(ev, "ketamine"))
    approvals = [r for r in rows if isinstance(r.value, Status) and r.value.flag
                 and r.condition.is_anxiety_only]
    denials = [r for r in rows if isinstance(r.value, Status) and not r.value.flag]
    label = [r for r in rows if r.condition.codes == {"ANESTHESIA"}]
    if approvals:
        return CONTRADICTED, f"An anxiety approval is reported: {_cite(approvals)}.", rows
    if denials or label:
        return (SUPPORTED, "Racemic ketamine's US label lists anaesthetic indications only, "
                "and psychiatric use is described as off-label "
                f"({', '.join(r.id for r in label + denials)}).", label + denials)
    return NOT_ESTABLISHED, "No regulatory source for ketamine in the evidence base.", []


def _ketamine_fda_depression(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    esk = [r for r in _regulatory(ev, {"esketamine"}) if "DEPRESSION" in r.condition.codes]
    ket = [r for r in _regulatory(ev, _family(ev, "ketamine"))
           if isinstance(r.value, Status) and not r.value.flag]
    if esk:
        return (PARTLY, "Only esketamine nasal spray (Spravato) is FDA-approved for depression "
                f"(treatment-resistant depression, {_cite(esk[:2])}); racemic ketamine infusions "
                "are not approved for any psychiatric disorder"
                + (f" ({', '.join(r.id for r in ket)})" if ket else "") + ".", esk + ket)
    return NOT_ESTABLISHED, "No depression approval in the evidence base.", ket


def _ketamine_resistant(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    ket = _family(ev, "ketamine")
    rows = [r for r in ev if r.treatment in ket and r.condition.treatment_resistant
            and r.condition.is_anxiety_only and r.kind in (OutcomeKind.RESPONSE,
                                                          OutcomeKind.ONSET)]
    randomised = [r for r in rows if r.design.name in ("RCT", "META_ANALYSIS")]
    if randomised:
        return SUPPORTED, f"Randomised evidence in resistant anxiety: {_cite(randomised)}.", rows
    if rows:
        return (PARTLY, f"In treatment-refractory GAD/SAD, small non-randomised studies report "
                f"benefit ({_cite(rows)}); no trial compared ketamine with a next-step SSRI, "
                "SNRI or CBT in non-responders.", rows)
    return NOT_ESTABLISHED, "No ketamine data in treatment-resistant anxiety.", []


def _ssri_side_effects(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    drugs = _family(ev, "ssri", "snri") | {"ssri-snri"}
    named = [r for r in _rows(ev, drugs, OutcomeKind.ADVERSE_EVENT)
             if r.outcome.effect in ("nausea", "fatigue", "sexual dysfunction")]
    if named:
        return SUPPORTED, f"Named side-effect rates: {_cite(named)}.", named
    general = _rows(ev, drugs, OutcomeKind.ADVERSE_EVENT, OutcomeKind.DISCONTINUATION_AE)
    placebo = [r for r in ev if r.treatment == "placebo" and r.kind in (
        OutcomeKind.ADVERSE_EVENT, OutcomeKind.DISCONTINUATION_AE)
        and any(c in drugs for c in r.comparators)]
    pairs = [(r, find_partner(r, ev)) for r in general]
    higher = [r for r, p in pairs if p is not None and r.point is not None
              and p.point is not None and r.point > p.point]
    if general and len(higher) == len(general):
        return (PARTLY, "Adverse events and discontinuations for adverse events are more "
                f"frequent than on placebo ({_cite_pairs(ev, general)}), but rates of nausea, "
                "fatigue or sexual dysfunction were not captured.", general + placebo)
    if general:
        return (NOT_ESTABLISHED, "Adverse-event rates on SSRIs/SNRIs are not consistently above "
                f"placebo in the rows captured ({_cite_pairs(ev, general)}).", general + placebo)
    return NOT_ESTABLISHED, "No SSRI/SNRI adverse-event data in the evidence base.", []


def _ketamine_side_effects(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    ket = _family(ev, "ketamine") | {"esketamine"}
    rows = [r for r in _rows(ev, ket, OutcomeKind.ADVERSE_EVENT)
            if r.outcome.effect in ("dissociation", "dizziness")]
    monitoring = [r for r in ev if r.treatment in ket and r.kind is OutcomeKind.MONITORING]
    if not rows:
        return NOT_ESTABLISHED, "No dissociation or dizziness data for ketamine.", monitoring
    percent = [r for r in rows if r.measure.unit is Unit.PERCENT]
    return (SUPPORTED, f"Dissociation and dizziness are common ({_cite(percent[:4])}); "
            f"esketamine requires post-dose monitoring ({_cite(monitoring)}). Most of these "
            "rates come from depression populations.", rows + monitoring)


def _cbt_durable(ev: EvidenceSet) -> tuple[str, str, list[EvidenceRow]]:
    cbt = _family(ev, "cbt", "psychotherapy") | {"icbt"}
    cbt_relapse = list(_rows(ev, cbt, OutcomeKind.RELAPSE, OutcomeKind.DURATION))
    drug_relapse = [r for r in ev if r.kind is OutcomeKind.RELAPSE
                    and r.treatment == "placebo-discontinuation"
                    and isinstance(r.value, Number | Interval)
                    and r.measure.unit is Unit.PERCENT]
    head_to_head = [r for r in ev if r.treatment in cbt and r.kind is OutcomeKind.RELAPSE
                    and set(r.comparators) & _family(ev, "ssri", "snri", "antidepressant")]
    if head_to_head:
        return SUPPORTED, f"Head-to-head: {_cite(head_to_head)}.", head_to_head
    if cbt_relapse and drug_relapse:
        return (PARTLY, f"After successful CBT relapse is low ({_cite(cbt_relapse)}), while "
                f"stopping antidepressants raises relapse ({_cite(drug_relapse)}); these come "
                "from different studies and populations, not a head-to-head comparison.",
                cbt_relapse + drug_relapse)
    return NOT_ESTABLISHED, "No durability data for CBT.", cbt_relapse


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
    ev = EvidenceSet((r for r in full if value_in_quote(r)), full.catalogue)
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
