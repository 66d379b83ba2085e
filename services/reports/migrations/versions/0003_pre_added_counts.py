"""the facts' counts pre-added per agency, breakdown values and day, month and all time

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:30:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The columns as services.reports.domain.TALLIES names them on the day this was written.
TALLIES = (
    "received", "received_online", "received_online_full", "received_online_partial",
    "received_postal", "received_counter", "resolved", "resolved_early",
    "resolved_on_time", "resolved_late", "refused", "withdrawn", "stopped", "returned",
    "supplement_requests", "apologies", "opened", "closed", "overdue_from", "overdue_to",
    "not_satisfied",
)


def upgrade() -> None:
    """Upgrade schema, and add up the counts of the facts already kept."""
    op.create_table(
        'tallies',
        sa.Column('grain', sa.String(length=1), nullable=False),
        sa.Column('agency', sa.String(length=40), nullable=False),
        sa.Column('bucket', sa.Date(), nullable=False),
        sa.Column('procedure', sa.String(length=20), nullable=False),
        sa.Column('field', sa.String(length=200), nullable=False),
        sa.Column('online_level', sa.String(length=10), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in TALLIES),
        sa.PrimaryKeyConstraint('grain', 'agency', 'bucket', 'procedure', 'field',
                                'online_level', 'channel'),
    )
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.create_index('ix_facts_agency_due', ['agency', 'due_at'], unique=False)
    # A running system's facts, counted as the service will count them from now on.
    from services.reports.counts import recount
    recount(Session(bind=op.get_bind()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.drop_index('ix_facts_agency_due')
    op.drop_table('tallies')
