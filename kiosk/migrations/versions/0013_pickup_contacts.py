"""a contact for the cards waiting in the register: their reminder as a message

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (("contact_kind", 8), ("contact", 200), ("language", 8))


def upgrade():
    for name, length in COLUMNS:
        op.add_column("pickups", sa.Column(name, sa.String(length=length), nullable=True))


def downgrade():
    with op.batch_alter_table("pickups") as batch:
        for name, _length in reversed(COLUMNS):
            batch.drop_column(name)
