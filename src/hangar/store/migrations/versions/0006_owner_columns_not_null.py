"""machines.app_id, releases.app_id and tokens.user_id: NOT NULL, as the models say

Revision ID: 0006
Revises: 0005

0001 created these foreign keys nullable; every row has always had one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

OWNER_COLUMNS = (("machines", "app_id"), ("releases", "app_id"), ("tokens", "user_id"))


def upgrade() -> None:
    for table, column in OWNER_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Integer, nullable=False)


def downgrade() -> None:
    for table, column in OWNER_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=sa.Integer, nullable=True)
