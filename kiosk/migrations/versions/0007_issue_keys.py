"""issue keys: a retried issue gets the ticket it already has

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issue_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name=op.f("fk_issue_keys_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("day", "key", name=op.f("pk_issue_keys")),
    )


def downgrade():
    op.drop_table("issue_keys")
