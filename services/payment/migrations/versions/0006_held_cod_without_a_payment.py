"""held money without a payment (COD nobody waited for): its agency, no payment id

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 15:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('payment_discrepancies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agency', sa.String(length=20), nullable=True))
        batch_op.alter_column('payment_id', existing_type=sa.String(length=36),
                              nullable=True)
        batch_op.create_index(batch_op.f('ix_payment_discrepancies_agency'), ['agency'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.execute("DELETE FROM payment_discrepancies WHERE payment_id IS NULL")
    with op.batch_alter_table('payment_discrepancies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_discrepancies_agency'))
        batch_op.alter_column('payment_id', existing_type=sa.String(length=36),
                              nullable=False)
        batch_op.drop_column('agency')
