"""tokens: the org of an org token

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(
            sa.Column(
                "org_id",
                sa.Integer,
                sa.ForeignKey("orgs.id", name="fk_tokens_org_id", ondelete="CASCADE"),
                nullable=True,
            )
        )


def downgrade() -> None:
    # Without org_id an org token would be an unscoped login: it goes.
    op.execute("DELETE FROM tokens WHERE kind = 'org'")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("org_id")
