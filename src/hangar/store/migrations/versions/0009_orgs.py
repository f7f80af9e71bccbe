"""organisations: orgs, memberships, invites; apps belong to an org; the server's admin

Revision ID: 0009
Revises: 0008

Every existing user gets a personal org (named after their email, made unique)
holding their apps, with them as its admin; the oldest user becomes the
server's admin.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("personal", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column(
            "org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "org_id", sa.Integer, sa.ForeignKey("orgs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_admin", sa.Boolean, nullable=False, server_default="0"))
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer, nullable=True))
    _personal_orgs(op.get_bind())
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("org_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key("fk_apps_org_id", "orgs", ["org_id"], ["id"])


def _personal_orgs(bind: sa.engine.Connection) -> None:
    users = bind.execute(sa.text("SELECT id, email, created_at FROM users ORDER BY id")).all()
    taken: set[str] = set()
    for user_id, email, created_at in users:
        name = _free(_slug(email), taken)
        taken.add(name)
        org_id = bind.execute(
            sa.text(
                "INSERT INTO orgs (name, personal, created_at) VALUES (:n, :p, :c) RETURNING id"
            ),
            {"n": name, "p": True, "c": created_at},
        ).scalar_one()
        bind.execute(
            sa.text("INSERT INTO memberships VALUES (:o, :u, 'admin', :c)"),
            {"o": org_id, "u": user_id, "c": created_at},
        )
        bind.execute(
            sa.text("UPDATE apps SET org_id = :o WHERE owner_id = :u"), {"o": org_id, "u": user_id}
        )
    if users:
        bind.execute(
            sa.text("UPDATE users SET is_admin = :t WHERE id = :u"), {"t": True, "u": users[0][0]}
        )


def _slug(email: str) -> str:
    local = re.sub(r"[^a-z0-9]+", "-", email.split("@")[0].lower()).strip("-")
    return (local or "user")[:30]


def _free(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = f"{name}-{number}"
    return candidate


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_constraint("fk_apps_org_id", type_="foreignkey")
        batch.drop_column("org_id")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")
    op.drop_table("invites")
    op.drop_table("memberships")
    op.drop_table("orgs")
