"""Build the side-by-side comparison from an evidence set: cells, headlines, certainty, gaps."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from equipoise.comparison.cells import Cell, Finding
from equipoise.comparison.certainty import rate
from equipoise.comparison.dimensions import BY_ID, DEFAULT_DIMENSIONS, DIMENSION_IDS
from equipoise.comparison.findings import make_finding, significant
from equipoise.comparison.fits import pooled_fits, time_course_fits
from equipoise.comparison.result import Comparison, TreatmentInfo
from equipoise.datasets import load_evidence
from equipoise.errors import ComparisonError
from equipoise.evidence.records import EvidenceRow, EvidenceSet
from equipoise.evidence.values import EFFECT_SIZE_UNITS, RATIO_UNITS
from equipoise.evidence.vocabulary import (
    CONDITION_TARGETS,
    DESIGN_RANK,
    DesignClass,
    Directness,
    Domain,
    OutcomeKind,
    directness,
)

DEFAULT_TREATMENTS = (
    "ketamine-iv", "ketamine-sc", "ketamine-oral-er", "ketamine", "ketamine-or-esketamine",
    "esketamine", "kap", "ssri", "escitalopram", "paroxetine", "sertraline", "snri",
    "duloxetine", "venlafaxine", "ssri-snri", "antidepressant", "medication-gad", "cbt",
    "cbt-guided-self-help",
    "psychotherapy", "icbt", "sertraline-cbt", "antidepressant-psychotherapy", "first-line",
    "placebo", "midazolam", "placebo-psych-or-pill", "waitlist", "control",
    "placebo-discontinuation", "antidepressant-placebo-spray",
)
EARLY_EFFECT_HOURS = 336.0  # effects measured within two weeks count as onset evidence
_DIRECTNESS_RANK = {d.value: i for i, d in enumerate(Directness)}
_SYMPTOM_KINDS = (OutcomeKind.EFFECT, OutcomeKind.SIGNIFICANCE, OutcomeKind.CHANGE)
_TARGET_DOMAINS = (Domain.ANXIETY, Domain.GENERAL)
_NON_DRUG = ("CBT", "iCBT", "psychotherapy")
_TIME_UNITS = ("hours", "days", "weeks", "study week")
_UNRATED = ("burden", "regulatory")  # facts about a treatment, not estimates of its effects


def _first_per_source(rows: Iterable[EvidenceRow]) -> list[str]:
    first: dict[str, str] = {}
    for r in rows:
        first.setdefault(r.source.key, r.id)
    return list(first.values())


def _target_label(target: str) -> str:
    return "an anxiety disorder" if target in ("any", "anxiety") else target


def _normalise_condition(condition: str) -> str:
    for t in CONDITION_TARGETS:
        if condition.strip().lower() == t.lower():
            return t
    raise ComparisonError(f"unknown condition {condition!r}; use one of "
                          f"{', '.join(CONDITION_TARGETS)}")


class _Builder:
    def __init__(self, evidence: EvidenceSet, target: str) -> None:
        # Rows whose value is not in their quoted fragment are never shown (see evidence.quotes).
        self.ev = EvidenceSet((r for r in evidence if r.value_quoted), evidence.catalogue)
        self.cat = evidence.catalogue
        self.target = target

    # -- row selection ----------------------------------------------------------------------
    def members(self, tid: str) -> set[str]:
        return {tid, *self.cat.descendants(tid)}

    def rows(self, tid: str, keep: Callable[[EvidenceRow], bool]) -> list[EvidenceRow]:
        members = self.members(tid)
        return [r for r in self.ev if r.treatment in members and keep(r)]

    def reverse_rows(self, tid: str, kinds: Iterable[OutcomeKind]) -> list[EvidenceRow]:
        """Contrasts reported as control vs treatment (relapse OR after switching to placebo)."""
        kinds = tuple(kinds)
        members = self.members(tid)
        return [r for r in self.ev if r.kind in kinds and self.cat[r.treatment].is_control
                and not self.cat[tid].is_control and members & set(r.comparators)
                and (r.measure.unit in RATIO_UNITS or r.measure.unit in EFFECT_SIZE_UNITS)]

    def relation(self, tid: str, other: str) -> str:
        """How a row's treatment relates to the cell's: member, class, component or itself."""
        t = self.cat[tid]
        if other == tid:
            return ""
        if other in self.cat.descendants(tid):
            return f"member: {self.cat[other].name}"
        if other in self.cat.ancestors(tid):
            return f"class-level evidence: {self.cat[other].name}"
        if other in t.components:
            return f"component: {self.cat[other].name}"
        return f"evidence for {self.cat[other].name}"

    def active_comparator(self, r: EvidenceRow) -> bool:
        """Whether a row compares with another active treatment (not a control or nothing)."""
        return any(not self.cat[c].is_control for c in r.comparators)

    def findings(self, tid: str, rows: Iterable[EvidenceRow], *, reverse: bool = False,
                 hours_from_timepoint: bool = False) -> list[Finding]:
        out = []
        for r in rows:
            flags: tuple[str, ...] = ()
            if r.outcome.domain is Domain.DEPRESSION:
                flags = ("depression outcome, not anxiety",)
            if r.kind in (OutcomeKind.EFFECT, OutcomeKind.SIGNIFICANCE) and significant(r) is False:
                flags += ("not statistically significant",)
            relation = self.relation(tid, r.treatment)
            if relation:
                flags += (relation,)
            out.append(make_finding(r, self.ev, self.target, reverse=reverse, extra_flags=flags,
                                    hours=r.timepoint_hours if hours_from_timepoint else None))
        return out

    def order(self, tid: str, findings: list[Finding], dim: str) -> tuple[Finding, ...]:
        def key(f: Finding) -> tuple[float, ...]:
            r = self.ev.get(f.row_id)
            early = f.hours[0] if dim == "onset" and f.hours is not None else 0.0
            return (_DIRECTNESS_RANK[f.directness], 0 if r.controlled else 1, early,
                    DESIGN_RANK[r.design], 0 if r.treatment == tid else 1,
                    0 if f.ci_low is not None else 1, -(r.n or 0))
        return tuple(sorted(findings, key=key))

    # -- per-dimension selection ------------------------------------------------------------
    def select(self, tid: str, dim: str) -> list[Finding]:
        kinds = BY_ID[dim].kinds
        if dim == "efficacy":
            rows = self.rows(tid, lambda r: r.kind in _SYMPTOM_KINDS
                             and r.outcome.domain in _TARGET_DOMAINS
                             and not self.active_comparator(r))
            return self.findings(tid, rows) + self.findings(
                tid, self.reverse_rows(tid, (OutcomeKind.EFFECT,)), reverse=True)
        if dim == "head_to_head":
            rows = self.rows(tid, lambda r: r.kind in kinds and self.active_comparator(r))
            return self.findings(tid, rows)
        if dim == "secondary":
            rows = self.rows(tid, lambda r: r.kind in kinds or (
                r.kind in _SYMPTOM_KINDS and r.outcome.domain not in _TARGET_DOMAINS))
            return self.findings(tid, rows)
        if dim == "onset":
            onset = self.rows(tid, lambda r: r.kind is OutcomeKind.ONSET)
            # Early effects are shown whether or not they separated from control: a null
            # self-report result beside a positive clinician rating is part of the answer.
            early = self.rows(tid, lambda r: r.kind in (OutcomeKind.EFFECT,
                                                        OutcomeKind.SIGNIFICANCE)
                              and r.timepoint_hours is not None
                              and r.timepoint_hours[1] <= EARLY_EFFECT_HOURS
                              and not self.active_comparator(r))
            return self.findings(tid, onset) + self.findings(tid, early, hours_from_timepoint=True)
        if dim == "durability":
            rows = self.rows(tid, lambda r: r.kind in kinds)
            course = self.time_course_rows(tid)
            return (self.findings(tid, rows)
                    + self.findings(tid, self.reverse_rows(tid, kinds), reverse=True)
                    + self.findings(tid, course, hours_from_timepoint=True))
        if dim == "regulatory":
            own = self.rows(tid, lambda r: r.kind in kinds)
            if not own:
                for anc in self.cat.ancestors(tid):
                    own = [r for r in self.ev if r.treatment == anc and r.kind in kinds]
                    if own:
                        break
            if not own and self.cat[tid].components:
                own = [r for r in self.ev if r.kind in kinds
                       and r.treatment in self.cat[tid].components]
            return self.findings(tid, own)
        if dim == "certainty":
            base = [f for f in self.select(tid, "efficacy")
                    if self.ev.get(f.row_id).controlled] or [
                f for f in self.select(tid, "response") if self.ev.get(f.row_id).controlled]
            return base
        return self.findings(tid, self.rows(tid, lambda r: r.kind in kinds))

    def maintenance(self, tid: str) -> str:
        """What kind of evidence exists on continuing or maintaining the treatment."""
        members = self.members(tid)
        withdrawal = _first_per_source(
            r for r in self.ev if re.search(r"withdrawal|relapse-prevention", r.design_text.lower())
            and r.kind is OutcomeKind.RELAPSE
            and (r.treatment in members or members & set(r.comparators)))
        if withdrawal:
            return ("randomised withdrawal (relapse-prevention) evidence: "
                    + ", ".join(withdrawal))
        open_label = _first_per_source(
            r for r in self.ev if r.treatment in members
            and "maintenance" in r.treatment_text.lower())
        if open_label:
            return "uncontrolled maintenance data only: " + ", ".join(open_label)
        return "no maintenance evidence captured"

    def time_course_rows(self, tid: str) -> list[EvidenceRow]:
        """Effect-vs-control rows from sources that report the same outcome at several times."""
        rows = self.rows(tid, lambda r: r.kind is OutcomeKind.EFFECT
                         and r.timepoint_hours is not None)
        by_source: dict[tuple[str, str], list[EvidenceRow]] = {}
        for r in rows:
            by_source.setdefault((r.source.key, r.outcome_text), []).append(r)
        return [r for group in by_source.values()
                if len({g.timepoint_hours for g in group}) > 1 for r in group]

    # -- cells ------------------------------------------------------------------------------
    def cell(self, tid: str, dim: str) -> Cell:
        found = self.order(tid, self.select(tid, dim), dim)
        if dim == "side_effects":  # group by named effect, best evidence first within each
            names = list(dict.fromkeys(f.effect or f.kind for f in found))
            found = tuple(f for n in names for f in found if (f.effect or f.kind) == n)
        certainty = (None if dim in _UNRATED or self.cat[tid].is_control
                     else rate(found, self.ev))
        note = self.note(tid, dim, found)
        extra: list[tuple[str, str]] = []
        treatment = self.cat[tid]
        if dim == "burden" and treatment.dose_schedule:
            extra.append(("dose and schedule", treatment.dose_schedule))
        if dim == "burden" and treatment.supervision:
            extra.append(("supervision", treatment.supervision))
        if dim == "durability" and not treatment.is_control:
            extra.append(("maintenance", self.maintenance(tid)))
        headline = self.headline(tid, dim, found, certainty.label if certainty else None)
        fits: list[dict[str, Any]] = []
        own = [self.ev.get(f.row_id) for f in found if f.treatment == tid]
        if dim in ("onset", "durability"):
            fits = time_course_fits(own)
        elif dim == "efficacy":
            fits = pooled_fits(own)
        if dim == "regulatory":
            reg = self.cat.regulatory(tid)
            if reg is not None and found:
                extra.append(("status", reg.status))
        return Cell(tid, dim, found, headline, note, certainty, tuple(extra), tuple(fits))

    def headline(self, tid: str, dim: str, found: Sequence[Finding], label: str | None) -> str:
        if not found:
            return ""
        if dim == "side_effects":
            seen: dict[str, str] = {}
            for f in found:
                seen.setdefault(f.effect or f.kind, f.text)
            return "; ".join(f"{k} {v}" for k, v in seen.items())
        if dim == "regulatory":
            reg = self.cat.regulatory(tid)
            if reg is not None:
                return reg.status
            return "; ".join(f"{f.label}: {f.text}" for f in found[:2])
        if dim == "certainty":
            return label or ""
        head = found[0]
        if dim in ("onset", "durability") and head.unit not in _TIME_UNITS and head.timepoint:
            return f"{head.timepoint}: {head.text}"
        return head.text

    def note(self, tid: str, dim: str, found: Sequence[Finding]) -> str:
        t = self.cat[tid]
        where = _target_label(self.target)
        if dim == "regulatory" and not found:
            if t.modality in _NON_DRUG:
                return "not applicable: psychological therapy, not a regulated medicine"
            if t.is_control:
                return "not applicable: control condition"
            return "no regulatory source in the evidence base"
        if not found:
            if dim in ("efficacy", "response") and not t.is_control and not self.has_rct(tid):
                return f"no RCT of {t.name} in {where}; no evidence captured"
            return f"no evidence captured for {t.name} ({BY_ID[dim].title.lower()})"
        if dim in ("efficacy", "response", "onset", "certainty") and not t.is_control:
            near = [f for f in found if f.directness in (Directness.DIRECT.value,
                                                         Directness.INCLUDES.value)]
            randomised = [f for f in near
                          if DESIGN_RANK[DesignClass(f.design)] <= DESIGN_RANK[DesignClass.RCT]]
            if randomised:
                return ""
            lead = (f"no RCT of {t.name} in {where}" if not self.has_rct(tid)
                    else f"no randomised {BY_ID[dim].title.lower()} data in {where}")
            if near:
                designs = sorted({f.design for f in near},
                                 key=lambda d: DESIGN_RANK[DesignClass(d)])
                return f"{lead}; shown: {', '.join(designs)}"
            shown = sorted({f.condition for f in found})
            return (f"{lead}; shown: evidence from "
                    + "; ".join(shown[:3]) + ("..." if len(shown) > 3 else ""))
        return ""

    def has_rct(self, tid: str) -> bool:
        """Whether any randomised (or meta-analysed) result in the target population exists."""
        members = self.members(tid)
        return any(r.treatment in members and not r.protocol
                   and r.design in (DesignClass.RCT, DesignClass.META_ANALYSIS)
                   and directness(r.condition, self.target) in (Directness.DIRECT,
                                                                Directness.INCLUDES)
                   for r in self.ev)

    def gaps(self, tids: Sequence[str]) -> tuple[str, ...]:
        out = []
        where = _target_label(self.target)
        for tid in tids:
            t = self.cat[tid]
            if not t.is_control and not self.has_rct(tid):
                out.append(f"no RCT of {t.name} in {where}")
        families = {"ketamine": {"ketamine", *self.cat.descendants("ketamine"), "esketamine",
                                 "ketamine-or-esketamine", "kap"},
                    "SSRI/SNRI": {"ssri", "snri", "ssri-snri", *self.cat.descendants("ssri"),
                                  *self.cat.descendants("snri")},
                    "CBT": {"cbt", "icbt", "psychotherapy", *self.cat.descendants("cbt")}}
        ket = families["ketamine"]
        for name in ("SSRI/SNRI", "CBT"):
            other = families[name]
            head_to_head = [r for r in self.ev if not r.protocol and (
                (r.treatment in ket and other & set(r.comparators))
                or (r.treatment in other and ket & set(r.comparators)))]
            if not head_to_head:
                out.append(f"no head-to-head comparison of ketamine with {name} "
                           "in the evidence base")
        return tuple(dict.fromkeys(out))


def compare(treatments: Sequence[str] | None = None, dimensions: Sequence[str] | None = None,
            condition: str = "any", *, evidence: EvidenceSet | None = None,
            extra_evidence: Sequence[str] = ()) -> Comparison:
    """The side-by-side comparison of treatments across dimensions, every cell cited.

    Parameters
    ----------
    treatments
        Catalogue ids or names; default: every treatment family with evidence and its controls.
    dimensions
        Dimension ids (see :data:`equipoise.comparison.dimensions.DIMENSION_IDS`).
    condition
        ``GAD``, ``SAD``, ``PANIC``, ``PTSD``, ``OCD``, ``anxiety`` or ``any``: the population the
        question is about. Evidence from other populations stays visible, labelled as such.
    evidence
        An :class:`EvidenceSet` to use instead of the bundled one.
    extra_evidence
        Paths of the user's evidence CSV files to add to the bundled evidence.
    """
    target = _normalise_condition(condition)
    ev = evidence if evidence is not None else load_evidence(extra_evidence)
    cat = ev.catalogue
    if treatments is not None and not list(treatments):
        raise ComparisonError("no treatments given; name at least one (see `equipoise evidence "
                              "treatments`) or leave --treatments out for all")
    if dimensions is not None and not list(dimensions):
        raise ComparisonError(f"no dimensions given; use some of {', '.join(DIMENSION_IDS)}")
    tids: list[str] = []
    for name in treatments or DEFAULT_TREATMENTS:
        t = cat.resolve(name)
        if t is None:
            raise ComparisonError(f"unknown treatment {name!r}; known ids: {', '.join(cat)}")
        tids.append(t.id)
    dims = tuple(dimensions or DEFAULT_DIMENSIONS)
    unknown = [d for d in dims if d not in DIMENSION_IDS]
    if unknown:
        raise ComparisonError(f"unknown dimension(s) {', '.join(unknown)}; use "
                              f"{', '.join(DIMENSION_IDS)}")
    b = _Builder(ev, target)
    cells = {(tid, d): b.cell(tid, d) for tid in tids for d in dims}
    infos = tuple(TreatmentInfo(t.id, t.name, t.modality, t.mechanism, t.route,
                                t.drug_or_format, t.is_control, t.supervision)
                  for t in (cat[i] for i in dict.fromkeys(tids)))
    return Comparison(target, infos, dims, cells, b.gaps(tids))


__all__ = ["DEFAULT_TREATMENTS", "compare", "directness"]
