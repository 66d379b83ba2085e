"""refunds, the officer who took cash, fee computations and discrepancies kept

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('payment_discrepancies',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('payment_id', sa.String(length=36), nullable=False),
    sa.Column('dossier_code', sa.String(length=40), nullable=False),
    sa.Column('transaction_id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('expected', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('received', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('transaction_id')
    )
    with op.batch_alter_table('payment_discrepancies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_discrepancies_dossier_code'), ['dossier_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_discrepancies_payment_id'), ['payment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_discrepancies_received_at'), ['received_at'], unique=False)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('officer', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('computation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('closing_reason', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('refund_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('refund_error', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_reference', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_payments_refund_requested_at'), ['refund_requested_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_refund_requested_at'))
        batch_op.drop_column('refund_reference')
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('refund_error')
        batch_op.drop_column('refund_attempts')
        batch_op.drop_column('refund_requested_at')
        batch_op.drop_column('closing_reason')
        batch_op.drop_column('computation')
        batch_op.drop_column('officer')

    with op.batch_alter_table('payment_discrepancies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_discrepancies_received_at'))
        batch_op.drop_index(batch_op.f('ix_payment_discrepancies_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_discrepancies_dossier_code'))

    op.drop_table('payment_discrepancies')
