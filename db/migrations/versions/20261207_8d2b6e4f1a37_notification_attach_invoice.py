"""Outbox rows that carry the order's invoice PDF (the order-confirmed e-mail, when set).

Revision ID: 8d2b6e4f1a37
Revises: 3c1f0a9e7b21
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2b6e4f1a37"
down_revision: str | Sequence[str] | None = "3c1f0a9e7b21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "notifications",
        sa.Column("attach_invoice", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("notifications", "attach_invoice")
