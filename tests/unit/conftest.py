"""Unit fixtures: a service's real schema in an in-memory SQLite database, no broker."""

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import MetaData

from motcua.db import Db, make_engine
from services.intake import models as intake_models
from services.intake.filestore import FileStore
from services.intake.service import IntakeService


@pytest.fixture
def make_db():
    engines = []

    def make(metadata: MetaData, source: str) -> Db:
        engine = make_engine("sqlite://")
        metadata.create_all(engine)
        engines.append(engine)
        return Db(engine, metadata, source=source, correlation_id="corr-unit")

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def intake(make_db, tmp_path):
    """An intake worker over a real schema, with one agency and one procedure."""
    db = make_db(intake_models.metadata, "intake")
    with db.unit_of_work() as uow:
        uow.session.add(intake_models.Agency(code="000.00.15.H56", name="Sở Tư pháp",
                                             level="department"))
        uow.session.add(intake_models.Procedure(
            code="2.000635", name="Cấp bản sao trích lục", level="department",
            agencies=["000.00.15.H56"], online_level="full", sla_kind="working_days",
            sla_amount=1, fee_amount=8000, fee_collect_at="intake",
            documents=[{"code": "TK01", "name": "Tờ khai", "required": True},
                       {"code": "UQ", "name": "Văn bản ủy quyền", "required": False}]))
    return worker_factory(IntakeService, db=db, files=FileStore(tmp_path))
