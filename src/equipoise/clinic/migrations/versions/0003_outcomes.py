"""patient outcome summaries for the clinic dashboard

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patient_outcomes',
    sa.Column('modality', sa.String(length=30), nullable=False),
    sa.Column('clinician_id', sa.String(length=32), nullable=True),
    sa.Column('start_quarter', sa.String(length=7), nullable=True),
    sa.Column('baseline', sa.Float(), nullable=True),
    sa.Column('week12', sa.Float(), nullable=True),
    sa.Column('response_week12', sa.Boolean(), nullable=True),
    sa.Column('days_to_response', sa.Integer(), nullable=True),
    sa.Column('relapsed', sa.Boolean(), nullable=True),
    sa.Column('follow_up_days', sa.Integer(), nullable=True),
    sa.Column('adverse_events', sa.Integer(), nullable=False),
    sa.Column('expected', sa.Float(), nullable=True),
    sa.Column('expected_low', sa.Float(), nullable=True),
    sa.Column('expected_high', sa.Float(), nullable=True),
    sa.Column('patient_id', sa.String(length=32), nullable=False),
    sa.Column('clinic_id', sa.String(length=32), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], ),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('patient_id')
    )
    with op.batch_alter_table('patient_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_outcomes_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_outcomes_patient_id'), ['patient_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('patient_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_outcomes_patient_id'))
        batch_op.drop_index(batch_op.f('ix_patient_outcomes_clinic_id'))

    op.drop_table('patient_outcomes')
