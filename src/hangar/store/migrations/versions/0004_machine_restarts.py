"""machines: restart count and how the machine last ended

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.add_column(sa.Column("restart_count", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_exit", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("machines") as batch:
        batch.drop_column("last_exit")
        batch.drop_column("restart_count")
