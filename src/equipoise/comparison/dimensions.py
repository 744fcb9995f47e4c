"""The dimensions of the side-by-side answer and which outcome kinds fill each one."""

from __future__ import annotations

from dataclasses import dataclass

from equipoise.evidence.vocabulary import OutcomeKind


@dataclass(frozen=True, slots=True)
class Dimension:
    """One column of the comparison."""

    id: str
    title: str
    question: str
    kinds: tuple[OutcomeKind, ...]


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("efficacy", "Efficacy vs control",
              "How much does it reduce anxiety compared with a control (placebo, waiting list)?",
              (OutcomeKind.EFFECT, OutcomeKind.SIGNIFICANCE, OutcomeKind.CHANGE)),
    Dimension("head_to_head", "Head-to-head",
              "How does it compare with another active treatment?",
              (OutcomeKind.EFFECT, OutcomeKind.SIGNIFICANCE)),
    Dimension("onset", "Onset", "How soon is benefit first reported (hours vs weeks)?",
              (OutcomeKind.ONSET, OutcomeKind.EFFECT)),
    Dimension("response", "Response", "What share of patients respond?", (OutcomeKind.RESPONSE,)),
    Dimension("remission", "Remission", "What share of patients remit?", (OutcomeKind.REMISSION,)),
    Dimension("nonresponse", "Non-response", "How many patients do not respond?",
              (OutcomeKind.NONRESPONSE,)),
    Dimension("durability", "Durability", "How long does benefit last; what happens on stopping?",
              (OutcomeKind.DURATION, OutcomeKind.RELAPSE)),
    Dimension("side_effects", "Side effects", "Which side effects, at what rates?",
              (OutcomeKind.ADVERSE_EVENT, OutcomeKind.TAPER)),
    Dimension("acceptability", "Acceptability", "How many stop: dropout and discontinuation?",
              (OutcomeKind.DISCONTINUATION_AE, OutcomeKind.DROPOUT,
               OutcomeKind.LOSS_TO_FOLLOW_UP)),
    Dimension("burden", "Burden", "Visits, hours, course length and supervision required",
              (OutcomeKind.DOSE, OutcomeKind.SCHEDULE, OutcomeKind.MONITORING,
               OutcomeKind.COURSE)),
    Dimension("regulatory", "Regulatory status", "Is it approved for anxiety, and for what?",
              (OutcomeKind.REGULATORY,)),
    Dimension("certainty", "Certainty", "How sure can we be of the efficacy evidence?", ()),
    Dimension("secondary", "Other outcomes", "Depression, functioning and quality of life",
              (OutcomeKind.SECONDARY, OutcomeKind.MODERATOR)),
)
DIMENSION_IDS = tuple(d.id for d in DIMENSIONS)
DEFAULT_DIMENSIONS = tuple(d for d in DIMENSION_IDS if d != "secondary")
BY_ID = {d.id: d for d in DIMENSIONS}
