"""when the operator says a job reached its status (status_at)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:10:00

A job's ``updated_at`` is now when motcua recorded its last change (a `since` puller
compares it); the operator's ``at`` of the report is kept here. Jobs already stored keep
their ``updated_at`` as the operator's time.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('status_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE jobs SET status_at = updated_at")


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('status_at')
