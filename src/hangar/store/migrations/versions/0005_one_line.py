"""merge the three branches that grew from 0001 into one line

Revision ID: 0005
Revises: 0002, 0003, 0004

0002, 0003 and 0004 were each written against 0001, so a database may carry
any of them as separate heads. This revision joins them; every later
revision follows it, one after another.
"""

revision = "0005"
down_revision = ("0002", "0003", "0004")


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
