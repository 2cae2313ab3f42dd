"""Citizen evaluation: the petitioner's rating of the handling of a case (第二十一条), one per
case (unit assessment, 群众满意率 and 参评率).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('case_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('conversation_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_ratings_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_ratings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_case_ratings_case_id'))
    )
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_ratings_rated_at'), ['rated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_ratings_rated_at'))

    op.drop_table('case_ratings')
