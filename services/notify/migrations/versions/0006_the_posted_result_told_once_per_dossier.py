"""a unique index: the posted result is told once per dossier, even by two replicas

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:20:00.000000

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WHERE = sa.text("template = 'result_posted'")


def upgrade() -> None:
    """Upgrade schema. A repeat stored before (two replicas at one instant) is kept, as
    a record of what was sent, under the name ``result_posted_repeat``."""
    op.execute("UPDATE messages SET template = 'result_posted_repeat' WHERE id IN ("
               "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY dossier_code, "
               "channel, \"to\" ORDER BY created_at, id) AS n FROM messages "
               "WHERE template = 'result_posted') AS ranked WHERE n > 1)")
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('uq_messages_once_per_dossier',
                              ['dossier_code', 'channel', 'to', 'template'], unique=True,
                              postgresql_where=WHERE, sqlite_where=WHERE)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('uq_messages_once_per_dossier')
