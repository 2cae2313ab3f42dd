"""The petition contract: other 证件 types, contact without a mobile, petitions after 复核,
and the dates the citizen received written replies (review windows run from them).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New nullable columns of ``cases``.
CASE_COLUMNS: list[tuple[str, sa.types.TypeEngine]] = [
    # After 复核: the citizen says it is the same matter and insists on registration (第22条,
    # 第36条): staff decide in writing. ``new_facts`` holds the new facts or reasons otherwise.
    ("recheck_same_matter", sa.Boolean()),
    ("new_facts", sa.Text()),
    # Dates the citizen received the written reply and the 复查 opinion (第35条、第36条).
    ("reply_delivered_on", sa.Date()),
    ("review_opinion_delivered_on", sa.Date()),
]

NULLABLE_NOW: list[tuple[str, sa.types.TypeEngine]] = [
    ("id_number_enc", sa.Text()),
    ("id_number_hmac", sa.String(length=64)),
    ("id_number_masked", sa.String(length=32)),
    ("phone_enc", sa.Text()),
    ("phone_masked", sa.String(length=32)),
]


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("id_type", sa.String(length=32), nullable=False, server_default="resident_id")
        )
        batch.add_column(
            sa.Column("contact_type", sa.String(length=16), nullable=False, server_default="mobile")
        )
        for name, type_ in CASE_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
        # 第19条 asks for name and address: a 证件 and a phone are optional.
        for name, type_ in NULLABLE_NOW:
            batch.alter_column(name, existing_type=type_, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        for name, type_ in NULLABLE_NOW:
            batch.alter_column(name, existing_type=type_, nullable=False)
        for name, _ in reversed(CASE_COLUMNS):
            batch.drop_column(name)
        batch.drop_column("contact_type")
        batch.drop_column("id_type")
