"""the facts' counts pre-added per agency, breakdown values and day, month and all time;
what the 766 index needs of each dossier (digitised, result electronic, complaints)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:30:00.000000

"""
from datetime import UTC, date, datetime
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

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
    "digitised", "digitisation_known", "results_electronic", "results_known",
    "dissatisfied",
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
    op.create_table(
        'complaints',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('agency', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('made_by', sa.String(length=200), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_code'), ['code'], unique=False)
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digitised', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('result_electronic', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('dissatisfied_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_facts_agency_due', ['agency', 'due_at'], unique=False)
    backfill(op.get_bind())


def backfill(bind: sa.engine.Connection) -> None:
    """A running system's facts and "not satisfied" ratings, counted as the service
    counts them: in Core over the tables as they are at this revision (a later model's
    columns are not asked for), with the pure rule (``domain.moves``) of today."""
    from services.reports import domain

    meta = sa.MetaData()
    facts = sa.Table("facts", meta, autoload_with=bind)
    ratings = sa.Table("ratings", meta, autoload_with=bind)
    tallies = sa.Table("tallies", meta, autoload_with=bind)
    first: dict[str, object] = {}
    for code, at in bind.execute(sa.select(ratings.c.code, ratings.c.rated_at)
                                 .where(ratings.c.satisfied.is_(False))):
        if code not in first or at < first[code]:
            first[code] = at
    for code, at in first.items():
        bind.execute(facts.update().where(facts.c.code == code).values(dissatisfied_at=at))
    rows: dict[tuple, dict[str, int]] = {}
    for fact in bind.execute(sa.select(facts)).mappings():
        aware = {key: value.replace(tzinfo=UTC) if isinstance(value, datetime)
                 and value.tzinfo is None else value for key, value in fact.items()}
        for (where, day, key), count in domain.moves({}, aware).items():
            if key not in TALLIES:
                continue
            for grain, bucket in (("d", day), ("m", day.replace(day=1)),
                                  ("t", date(1, 1, 1))):
                row = rows.setdefault((grain, where[0], bucket, *where[1:]),
                                      dict.fromkeys(TALLIES, 0))
                row[key] += count
    keys = ("grain", "agency", "bucket", "procedure", "field", "online_level", "channel")
    if rows:
        bind.execute(tallies.insert(), [dict(zip(keys, key, strict=True)) | counts
                                        for key, counts in rows.items()])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('facts', schema=None) as batch_op:
        batch_op.drop_index('ix_facts_agency_due')
        batch_op.drop_column('dissatisfied_at')
        batch_op.drop_column('result_electronic')
        batch_op.drop_column('digitised')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_code'))
    op.drop_table('complaints')
    op.drop_table('tallies')
