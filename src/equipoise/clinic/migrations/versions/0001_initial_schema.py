"""initial schema (generated from the models; the audit log's append-only triggers added)

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from equipoise.clinic.db import UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


_SQLITE = ("CREATE TRIGGER audit_events_no_{op} BEFORE {OP} ON audit_events "
           "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END")
_PG_FUNCTION = ("CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'audit events are append-only'; END $$ LANGUAGE plpgsql")
_PG_TRIGGER = ("CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")


def append_only_audit() -> None:
    """The database itself refuses to change or delete an audit row."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(_SQLITE.format(op=name, OP=name.upper()))
    else:
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)


def drop_append_only_audit() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_events_no_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('clinic_id', sa.String(length=32), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=True),
    sa.Column('patient_id', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('route', sa.String(length=200), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_user_id'), ['user_id'], unique=False)

    op.create_table('clinics',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('protocol', sa.JSON(), nullable=False),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
    sa.Column('research_key', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('login_attempts',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_username'), ['username'], unique=False)

    op.create_table('patients',
    sa.Column('mrn', sa.String(length=40), nullable=False),
    sa.Column('given_name', sa.String(length=100), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=10), nullable=False),
    sa.Column('weight_kg', sa.Float(), nullable=True),
    sa.Column('synthetic', sa.Boolean(), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('clinic_id', 'mrn')
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('users',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('care_plans',
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('recommended', sa.String(length=40), nullable=True),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_plans_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_care_plans_patient_id'), ['patient_id'], unique=False)

    op.create_table('grants',
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('permission', sa.String(length=60), nullable=False),
    sa.Column('effect', sa.String(length=5), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'permission', 'effect')
    )
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grants_user_id'), ['user_id'], unique=False)

    op.create_table('infusions',
    sa.Column('scheduled_for', UTCDateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('weight_kg', sa.Float(), nullable=False),
    sa.Column('mg_per_kg', sa.Float(), nullable=False),
    sa.Column('dose_mg', sa.Float(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('screen', sa.JSON(), nullable=False),
    sa.Column('screen_status', sa.String(length=10), nullable=False),
    sa.Column('benzodiazepine_mg_diazepam_24h', sa.Float(), nullable=True),
    sa.Column('started_at', UTCDateTime(), nullable=True),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('cadss_total', sa.Integer(), nullable=True),
    sa.Column('cadss_answers', sa.JSON(), nullable=True),
    sa.Column('discharged_at', UTCDateTime(), nullable=True),
    sa.Column('discharge_criteria', sa.JSON(), nullable=False),
    sa.Column('escort_arranged', sa.Boolean(), nullable=True),
    sa.Column('signed_by', sa.String(length=32), nullable=True),
    sa.Column('signed_at', UTCDateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['signed_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('infusions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_infusions_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_infusions_patient_id'), ['patient_id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('last_seen', UTCDateTime(), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('medication_courses',
    sa.Column('drug', sa.String(length=60), nullable=False),
    sa.Column('drug_class', sa.String(length=10), nullable=False),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('stopped_on', sa.Date(), nullable=True),
    sa.Column('stop_reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('medication_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_medication_courses_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_medication_courses_patient_id'), ['patient_id'], unique=False)

    op.create_table('self_report_links',
    sa.Column('instrument', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.Column('response_id', sa.String(length=32), nullable=True),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('self_report_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_report_links_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_self_report_links_patient_id'), ['patient_id'], unique=False)

    op.create_table('setup_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('used_at', UTCDateTime(), nullable=True),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('therapy_sessions',
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('modality', sa.String(length=20), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('attended', sa.String(length=12), nullable=False),
    sa.Column('therapist_id', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['therapist_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('therapy_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_therapy_sessions_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_therapy_sessions_patient_id'), ['patient_id'], unique=False)

    op.create_table('adverse_events',
    sa.Column('infusion_id', sa.String(length=32), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('action_taken', sa.String(length=500), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['infusion_id'], ['infusions.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adverse_events_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adverse_events_infusion_id'), ['infusion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_adverse_events_patient_id'), ['patient_id'], unique=False)

    op.create_table('dose_steps',
    sa.Column('course_id', sa.String(length=32), nullable=False),
    sa.Column('from_date', sa.Date(), nullable=False),
    sa.Column('dose_mg_per_day', sa.Float(), nullable=False),
    sa.Column('acknowledged_rules', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['course_id'], ['medication_courses.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dose_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dose_steps_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dose_steps_course_id'), ['course_id'], unique=False)

    op.create_table('questionnaire_responses',
    sa.Column('instrument', sa.String(length=10), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('authored', UTCDateTime(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('entered_by', sa.String(length=32), nullable=True),
    sa.Column('infusion_id', sa.String(length=32), nullable=True),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['entered_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['infusion_id'], ['infusions.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_responses_authored'), ['authored'], unique=False)
        batch_op.create_index(batch_op.f('ix_questionnaire_responses_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_questionnaire_responses_patient_id'), ['patient_id'], unique=False)

    op.create_table('vital_signs',
    sa.Column('infusion_id', sa.String(length=32), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('phase', sa.String(length=12), nullable=False),
    sa.Column('systolic', sa.Float(), nullable=False),
    sa.Column('diastolic', sa.Float(), nullable=False),
    sa.Column('heart_rate', sa.Float(), nullable=True),
    sa.Column('spo2', sa.Float(), nullable=True),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['infusion_id'], ['infusions.id'], ),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vital_signs_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vital_signs_infusion_id'), ['infusion_id'], unique=False)

    op.create_table('observations',
    sa.Column('response_id', sa.String(length=32), nullable=False),
    sa.Column('instrument', sa.String(length=10), nullable=False),
    sa.Column('code_system', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('display', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('band', sa.String(length=60), nullable=False),
    sa.Column('effective', UTCDateTime(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.ForeignKeyConstraint(['response_id'], ['questionnaire_responses.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observations_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_effective'), ['effective'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_observations_response_id'), ['response_id'], unique=False)
    append_only_audit()


def downgrade() -> None:
    drop_append_only_audit()
    with op.batch_alter_table('observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observations_response_id'))
        batch_op.drop_index(batch_op.f('ix_observations_patient_id'))
        batch_op.drop_index(batch_op.f('ix_observations_effective'))
        batch_op.drop_index(batch_op.f('ix_observations_clinic_id'))

    op.drop_table('observations')
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vital_signs_infusion_id'))
        batch_op.drop_index(batch_op.f('ix_vital_signs_clinic_id'))

    op.drop_table('vital_signs')
    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_responses_patient_id'))
        batch_op.drop_index(batch_op.f('ix_questionnaire_responses_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_questionnaire_responses_authored'))

    op.drop_table('questionnaire_responses')
    with op.batch_alter_table('dose_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dose_steps_course_id'))
        batch_op.drop_index(batch_op.f('ix_dose_steps_clinic_id'))

    op.drop_table('dose_steps')
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adverse_events_patient_id'))
        batch_op.drop_index(batch_op.f('ix_adverse_events_infusion_id'))
        batch_op.drop_index(batch_op.f('ix_adverse_events_clinic_id'))

    op.drop_table('adverse_events')
    with op.batch_alter_table('therapy_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_therapy_sessions_patient_id'))
        batch_op.drop_index(batch_op.f('ix_therapy_sessions_clinic_id'))

    op.drop_table('therapy_sessions')
    op.drop_table('setup_tokens')
    with op.batch_alter_table('self_report_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_report_links_patient_id'))
        batch_op.drop_index(batch_op.f('ix_self_report_links_clinic_id'))

    op.drop_table('self_report_links')
    with op.batch_alter_table('medication_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_medication_courses_patient_id'))
        batch_op.drop_index(batch_op.f('ix_medication_courses_clinic_id'))

    op.drop_table('medication_courses')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))

    op.drop_table('login_sessions')
    with op.batch_alter_table('infusions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_infusions_patient_id'))
        batch_op.drop_index(batch_op.f('ix_infusions_clinic_id'))

    op.drop_table('infusions')
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grants_user_id'))

    op.drop_table('grants')
    with op.batch_alter_table('care_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_plans_patient_id'))
        batch_op.drop_index(batch_op.f('ix_care_plans_clinic_id'))

    op.drop_table('care_plans')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_clinic_id'))

    op.drop_table('users')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_clinic_id'))

    op.drop_table('patients')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_username'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_address'))

    op.drop_table('login_attempts')
    op.drop_table('clinics')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_patient_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
