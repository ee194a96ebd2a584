"""the back office: who handed over a card and the reminders; code requests' whole life

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pickups") as batch:
        batch.add_column(sa.Column("collected_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("code_requests") as batch:
        batch.add_column(sa.Column("arrived_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("notified_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reminders", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch.create_index(batch.f("ix_code_requests_status"), ["status"], unique=False)
    op.create_table(
        "code_request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["code_requests.id"], name=op.f("fk_code_request_events_request_id_code_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_request_events")),
    )
    op.create_index(
        op.f("ix_code_request_events_request_id"), "code_request_events", ["request_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_code_request_events_request_id"), table_name="code_request_events")
    op.drop_table("code_request_events")
    with op.batch_alter_table("code_requests") as batch:
        batch.drop_index(batch.f("ix_code_requests_status"))
        for column in ("closed_at", "reminders", "notified_at", "arrived_at"):
            batch.drop_column(column)
    with op.batch_alter_table("pickups") as batch:
        batch.drop_column("reminded_at")
        batch.drop_column("collected_by")
