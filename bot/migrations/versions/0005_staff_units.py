"""Staff units: every account belongs to a 责任单位 (or the 信访局 itself, which sees all cases).
Existing accounts become 信访局 accounts.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.rules.jurisdiction import load_jurisdiction

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    agency = load_jurisdiction().agency
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("unit", sa.String(length=128), nullable=True))
    op.execute(sa.text("UPDATE staff_users SET unit = :agency").bindparams(agency=agency))
    with op.batch_alter_table("staff_users") as batch:
        batch.alter_column("unit", existing_type=sa.String(length=128), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("unit")
