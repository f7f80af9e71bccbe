"""tokens: kind, name, the app of a deploy token, expiry, last use

Revision ID: 0008
Revises: 0007

Login tokens made before this revision never expired; they now expire 30 days
after the upgrade.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
LEGACY_TOKEN_DAYS = 30


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="session"))
        batch.add_column(sa.Column("name", sa.String(64), nullable=False, server_default=""))
        batch.add_column(
            sa.Column(
                "app_id",
                sa.Integer,
                sa.ForeignKey("apps.id", name="fk_tokens_app_id", ondelete="CASCADE"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    tokens = sa.table("tokens", sa.column("expires_at", sa.DateTime(timezone=True)))
    until = datetime.now(UTC) + timedelta(days=LEGACY_TOKEN_DAYS)
    op.execute(tokens.update().values(expires_at=until))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        for column in ("last_used_at", "expires_at", "app_id", "name", "kind"):
            batch.drop_column(column)
