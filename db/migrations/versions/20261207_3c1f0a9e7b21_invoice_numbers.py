"""Invoice numbers: given once per order when its invoice is first issued.

The number (INV-<year>-<5 digits>) comes from a per-year row in `counters`
(`invoice:<year>`), made on first use, so no row is seeded here.

Revision ID: 3c1f0a9e7b21
Revises: 65897ac8eee0
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c1f0a9e7b21"
down_revision: str | Sequence[str] | None = "65897ac8eee0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("invoice_number", sa.String(length=20), nullable=True))
    op.add_column("orders", sa.Column("invoice_issued_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("uq_orders_invoice_number", "orders", ["invoice_number"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_orders_invoice_number", table_name="orders")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch rebuild would lose the
    # triggers on `orders`.
    op.drop_column("orders", "invoice_issued_at")
    op.drop_column("orders", "invoice_number")
