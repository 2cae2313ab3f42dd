"""Name the body a matter not accepted is referred to ``referred_to`` (it was
``referred_channel``: "channel" now means only the way a citizen reaches the assistant).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "referred_channel", new_column_name="referred_to", existing_type=sa.String(length=255)
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "referred_to", new_column_name="referred_channel", existing_type=sa.String(length=255)
        )
