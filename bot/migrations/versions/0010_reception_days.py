"""Leader reception days (领导接访日) and their bookings from the chat, and 包案 on a case (the
leader who takes it personally).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reception_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('leader', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('start_time', sa.String(length=5), nullable=False),
    sa.Column('end_time', sa.String(length=5), nullable=False),
    sa.Column('place', sa.String(length=255), nullable=False),
    sa.Column('topics', sa.Text(), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_days'))
    )
    with op.batch_alter_table('reception_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_days_day'), ['day'], unique=False)

    op.create_table('reception_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('representatives', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reception_bookings_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['day_id'], ['reception_days.id'], name=op.f('fk_reception_bookings_day_id_reception_days'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_bookings')),
    sa.UniqueConstraint('day_id', 'case_id', name=op.f('uq_reception_bookings_day_id'))
    )
    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_bookings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_bookings_day_id'), ['day_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_official', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('lead_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('lead_assigned_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lead_assigned_by', sa.String(length=128), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('lead_assigned_by')
        batch_op.drop_column('lead_assigned_at')
        batch_op.drop_column('lead_note')
        batch_op.drop_column('lead_official')

    with op.batch_alter_table('reception_bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_bookings_day_id'))
        batch_op.drop_index(batch_op.f('ix_reception_bookings_case_id'))

    op.drop_table('reception_bookings')
    with op.batch_alter_table('reception_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_days_day'))

    op.drop_table('reception_days')
