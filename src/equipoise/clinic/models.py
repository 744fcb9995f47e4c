"""Every table, imported once so that the metadata (and Alembic) sees them all."""

from equipoise.clinic.accounts.models import (
    Clinic,
    Grant,
    LoginAttempt,
    LoginSession,
    SetupToken,
    User,
)
from equipoise.clinic.alerts.models import AlertRecord
from equipoise.clinic.audit.models import AuditEvent
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.db import Base
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import DoseStep, MedicationCourse
from equipoise.clinic.questionnaires.models import (
    Observation,
    QuestionnaireResponse,
    SelfReportLink,
)
from equipoise.clinic.therapy.models import TherapySession

__all__ = [
    "AdverseEvent",
    "AlertRecord",
    "AuditEvent",
    "Base",
    "CarePlanRecord",
    "Clinic",
    "DoseStep",
    "Grant",
    "Infusion",
    "LoginAttempt",
    "LoginSession",
    "MedicationCourse",
    "Observation",
    "OutcomeRecord",
    "Patient",
    "QuestionnaireResponse",
    "SelfReportLink",
    "SetupToken",
    "TherapySession",
    "User",
    "VitalSign",
]
