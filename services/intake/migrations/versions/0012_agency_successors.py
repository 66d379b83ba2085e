"""agencies.successor: the agency formed on the 2025 reform that took over a former one

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 17:10:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('successor', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_agencies_successor'), ['successor'],
                              unique=False)
        # PostgreSQL's own name for it, so the schema reads as the models describe it
        batch_op.create_foreign_key('agencies_successor_fkey', 'agencies', ['successor'],
                                    ['code'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_constraint('agencies_successor_fkey', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_agencies_successor'))
        batch_op.drop_column('successor')
