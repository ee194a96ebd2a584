"""the fleet: kiosks' heartbeats, staff's commands, alerts

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kiosks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("held_out", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_kiosks")),
    )
    op.create_table(
        "kiosk_commands",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=True),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_commands")),
    )
    with op.batch_alter_table("kiosk_commands", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_commands_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kiosk_commands_kiosk"), ["kiosk"], unique=False)
    op.create_table(
        "kiosk_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_alerts")),
    )
    with op.batch_alter_table("kiosk_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_alerts_started_at"), ["started_at"], unique=False)


def downgrade():
    op.drop_table("kiosk_alerts")
    with op.batch_alter_table("kiosk_commands", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_commands_kiosk"))
        batch_op.drop_index(batch_op.f("ix_kiosk_commands_at"))
    op.drop_table("kiosk_commands")
    op.drop_table("kiosks")
