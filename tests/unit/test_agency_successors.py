"""The 2025 agency reform: former agencies record their successor, and a report's scope
can take in, recursively, every agency that the asked tree took over from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from motcua.db import Db, make_engine
from motcua.errors import NotFound
from services.intake import agencies, catalogue
from services.intake import models as intake_models
from services.intake.agencies import scope_of

PROVINCE = "000.00.00.H56"
NGOC_LAC, VINH_LOC = "000.06.22.H56", "000.17.22.H56"  # communes formed 2025-07-01
OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN = "000.31.00.H56", "000.31.01.H56", "000.31.02.H56"
OLD_VINH_LOC, TT_VINH_LOC = "000.30.00.H56", "000.30.01.H56"

# (code, parent, successor): a small tree with a chain of reforms
TREE = [
    ("P", None, None),
    ("NEW", "P", None), ("NEW-unit", "NEW", None),
    ("OTHER", "P", None),
    ("DISTRICT", "P", None),  # a former district without a successor of its own
    ("OLD-1", "DISTRICT", "NEW"), ("OLD-1-unit", "OLD-1", None),
    ("OLD-2", "DISTRICT", "NEW-unit"),  # taken over by an agency below NEW
    ("OLDER", "P", "OLD-1"),  # dissolved earlier, into OLD-1
    ("ELSEWHERE", "P", "OTHER"),
]


def test_without_predecessors_the_scope_is_the_tree_alone():
    assert scope_of("NEW", TREE) == ["NEW", "NEW-unit"]
    assert scope_of("DISTRICT", TREE) == ["DISTRICT", "OLD-1", "OLD-2", "OLD-1-unit"]


def test_with_predecessors_every_agency_succeeded_into_the_tree_comes_with_its_tree():
    found = scope_of("NEW", TREE, include_predecessors=True)

    assert found[:2] == ["NEW", "NEW-unit"]  # the tree first
    assert sorted(found) == sorted(["NEW", "NEW-unit", "OLD-1", "OLD-1-unit", "OLD-2",
                                    "OLDER"])
    assert len(found) == len(set(found))
    # neither the former district (no successor) nor another commune's predecessor
    assert "DISTRICT" not in found and "ELSEWHERE" not in found


def test_predecessors_are_followed_recursively_and_from_below_the_tree():
    assert scope_of("NEW-unit", TREE, include_predecessors=True) == ["NEW-unit", "OLD-2"]
    assert "OLDER" in scope_of("OLD-1", TREE, include_predecessors=True)
    # from the province everything is its tree already: nothing added twice
    whole = scope_of("P", TREE, include_predecessors=True)
    assert sorted(whole) == sorted(code for code, _, _ in TREE)


def test_an_unknown_agency_is_not_found_either_way():
    for include in (False, True):
        with pytest.raises(NotFound):
            scope_of("NOPE", TREE, include)


@pytest.fixture
def seeded(tmp_path) -> Db:
    """The seed catalogue loaded by its loader into a fresh intake schema."""
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    engine = make_engine(url)
    intake_models.metadata.create_all(engine)
    catalogue.load(url)
    yield Db(engine, intake_models.metadata, source="intake", correlation_id="corr-unit")
    engine.dispose()


def test_the_seed_catalogue_records_each_former_agencys_successor(seeded):
    listed = {a["code"]: a for a in agencies.list_agencies(seeded)}

    former = {code for code, a in listed.items() if a["valid_to"] == "2025-06-30"}
    assert former == {OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN, OLD_VINH_LOC, TT_VINH_LOC}
    assert {code: listed[code]["successor"] for code in former} == {
        OLD_NGOC_LAC: NGOC_LAC, TT_NGOC_LAC: NGOC_LAC, MY_TAN: NGOC_LAC,
        OLD_VINH_LOC: VINH_LOC, TT_VINH_LOC: VINH_LOC}
    for code in former:  # each successor exists from the reform on
        assert listed[listed[code]["successor"]]["valid_from"] == "2025-07-01"
    assert listed[NGOC_LAC]["successor"] is None


def test_the_seed_scope_of_a_new_commune_takes_in_its_predecessors(seeded):
    assert agencies.scope(seeded, NGOC_LAC) == [NGOC_LAC]
    assert sorted(agencies.scope(seeded, NGOC_LAC, include_predecessors=True)) == sorted(
        [NGOC_LAC, OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN])
    # a former district for its own period: its own tree, as before the successors
    assert agencies.scope(seeded, OLD_NGOC_LAC) == [OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN]


def _catalogue(tmp_path: Path, former: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(
        "agencies:\n"
        '  - {code: "000.00.00.H56", name: "UBND tỉnh", level: province}\n'
        '  - {code: "000.40.00.H56", name: "UBND huyện cũ", level: district,\n'
        f'     parent: "000.00.00.H56", {former}}}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("former, message", [
    ('valid_to: 2025-06-30, successor: "000.99.22.H56"', "unknown successor 000.99.22.H56"),
    ('successor: "000.00.00.H56"', "only a former agency (with valid_to) has a successor"),
    ('valid_to: 2025-06-30, successor: "000.40.00.H56"', "cannot succeed itself"),
])
def test_a_successor_the_catalogue_cannot_keep_is_refused_by_the_loader(
        tmp_path, former, message):
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    engine = make_engine(url)
    intake_models.metadata.create_all(engine)
    engine.dispose()

    with pytest.raises(catalogue.CatalogueError, match=re.escape(message)):
        catalogue.load(url, _catalogue(tmp_path, former))


def test_a_successor_listed_after_its_predecessor_is_stored_first(tmp_path):
    """Successor and parent are both foreign keys: the loader orders the rows by both."""
    path = tmp_path / "catalogue.yaml"
    path.write_text(
        "agencies:\n"
        '  - {code: "000.40.01.H56", name: "UBND xã cũ", level: commune,\n'
        '     parent: "000.00.00.H56", valid_to: 2025-06-30, successor: "000.41.22.H56"}\n'
        '  - {code: "000.00.00.H56", name: "UBND tỉnh", level: province}\n'
        '  - {code: "000.41.22.H56", name: "UBND xã mới", level: commune,\n'
        '     parent: "000.00.00.H56", valid_from: 2025-07-01}\n', encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    engine = make_engine(url)
    intake_models.metadata.create_all(engine)
    try:
        assert catalogue.load(url, path) == 3
        db = Db(engine, intake_models.metadata, source="intake", correlation_id="c")
        assert agencies.scope(db, "000.41.22.H56", True) == ["000.41.22.H56",
                                                             "000.40.01.H56"]
    finally:
        engine.dispose()


def test_a_dissolved_huyens_communes_go_to_their_own_successors_not_the_seats():
    """Huyện H's seat is N1; its commune Z joined N2 and Y joined N1: N1's report takes
    H and Y, not Z, which is N2's alone (review finding: Z was counted twice)."""
    rows = [("P", None, None), ("H", "P", "N1"), ("Z", "H", "N2"), ("Y", "H", "N1"),
            ("N1", "P", None), ("N2", "P", None)]
    assert scope_of("N1", rows, True) == ["N1", "H", "Y"]
    assert scope_of("N2", rows, True) == ["N2", "Z"]
    assert scope_of("H", rows, True) == ["H", "Z", "Y"]  # the former huyện: its own tree
