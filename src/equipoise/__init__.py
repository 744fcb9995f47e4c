"""equipoise: cited comparison of ketamine infusions with SSRIs/SNRIs, CBT and combinations.

equipoise supports clinicians' decisions; it is not medical advice.
"""

from equipoise.comparison.builder import compare
from equipoise.comparison.claims import ClaimVerdict, check_claims
from equipoise.comparison.result import Comparison
from equipoise.datasets import load_catalogue, load_evidence
from equipoise.errors import (
    AccessDeniedError,
    CatalogueError,
    ClinicError,
    ComparisonError,
    ConvergenceError,
    DroppedStudyWarning,
    EffectSizeError,
    EquipoiseError,
    EquipoiseWarning,
    EvidenceError,
    EvidenceFileError,
    EvidenceValidationError,
    FileProblem,
    MeasureError,
    ModelError,
    ModelFileError,
)
from equipoise.evidence.effect_sizes import EffectSizes, escalc
from equipoise.evidence.records import EvidenceRow, EvidenceSet, Source, Study
from equipoise.evidence.treatments import Treatment, TreatmentCatalogue

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "CatalogueError",
    "ClaimVerdict",
    "ClinicError",
    "Comparison",
    "ComparisonError",
    "ConvergenceError",
    "DroppedStudyWarning",
    "EffectSizeError",
    "EffectSizes",
    "EquipoiseError",
    "EquipoiseWarning",
    "EvidenceError",
    "EvidenceFileError",
    "EvidenceRow",
    "EvidenceSet",
    "EvidenceValidationError",
    "FileProblem",
    "MeasureError",
    "ModelError",
    "ModelFileError",
    "Source",
    "Study",
    "Treatment",
    "TreatmentCatalogue",
    "__version__",
    "check_claims",
    "compare",
    "escalc",
    "load_catalogue",
    "load_evidence",
]
