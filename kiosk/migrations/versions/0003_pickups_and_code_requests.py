"""pickup register and code requests

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pickups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=32), nullable=False),
    sa.Column('national_number', sa.String(length=11), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('storage', sa.String(length=200), nullable=False),
    sa.Column('arrived_on', sa.Date(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('collected_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickups')),
    sa.UniqueConstraint('card_number', name=op.f('uq_pickups_card_number'))
    )
    with op.batch_alter_table('pickups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pickups_national_number'), ['national_number'], unique=False)

    op.create_table('code_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('national_number', sa.String(length=11), nullable=True),
    sa.Column('contact_kind', sa.String(length=8), nullable=True),
    sa.Column('contact', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_code_requests_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_requests'))
    )
    with op.batch_alter_table('code_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_requests_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('code_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_requests_ticket_id'))
    op.drop_table('code_requests')
    with op.batch_alter_table('pickups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pickups_national_number'))
    op.drop_table('pickups')
