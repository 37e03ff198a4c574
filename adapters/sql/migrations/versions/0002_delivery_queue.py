"""The delivery queue: claim tokens, retry rounds, and an index for retention.

Pending deliveries left by the previous release (claimed or not) become due at once: their old
claims had no token and no worker can still hold them, so they are sent again, at least once.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claim_token", sa.String(32)))
        batch.add_column(sa.Column("round_start", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"])
    op.execute(
        "UPDATE deliveries SET next_attempt_at = COALESCE(next_attempt_at, created_at), "
        "claimed_at = NULL, claimed_by = NULL, lease_expires_at = NULL WHERE status = 'pending'"
    )


def downgrade() -> None:
    # The previous release knows neither state: a claimed delivery is pending again, a cancelled one failed.
    op.execute(
        "UPDATE deliveries SET status = 'pending', claimed_at = NULL, claimed_by = NULL, "
        "lease_expires_at = NULL WHERE status = 'sending'"
    )
    op.execute("UPDATE deliveries SET status = 'failed' WHERE status = 'cancelled'")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("round_start")
        batch.drop_column("claim_token")
