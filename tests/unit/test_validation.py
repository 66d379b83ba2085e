"""Validation takes ASCII digits only and matches whole values (issue 10)."""

import pytest
from marshmallow import ValidationError

from motcua.contracts.catalogue import ProcedureEntrySchema
from motcua.contracts.dossiers import (
    AppointmentQuerySchema,
    DossierSubmissionSchema,
    TrackQuerySchema,
)
from tests.support import sample_dossier

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def errors(schema, data):
    with pytest.raises(ValidationError) as caught:
        schema.load(data)
    return caught.value.messages


@pytest.mark.parametrize("field, value", [
    ("id_number", "038085001234".translate(ARABIC_INDIC)),
    ("id_number", "038085001234\n"),
    ("phone", "0912345678\n"),
    ("phone", "0912345678".translate(ARABIC_INDIC)),
])
def test_an_applicant_number_with_other_digits_or_a_trailing_newline_is_refused(field, value):
    dossier = sample_dossier()
    dossier["applicant"][field] = value

    assert field in errors(DossierSubmissionSchema(), dossier)["applicant"]


@pytest.mark.parametrize("field, value", [("procedure", "2.000635\n"),
                                          ("procedure", "٢.٠٠٠٦٣٥"),
                                          ("agency", "000.00.15.H56\n")])
def test_codes_are_matched_whole_in_ascii(field, value):
    assert field in errors(DossierSubmissionSchema(), sample_dossier(**{field: value}))


def test_queries_and_the_catalogue_match_whole_values():
    assert "phone" in errors(TrackQuerySchema(), {"phone": "0912345678\n"})
    assert "agency" in errors(AppointmentQuerySchema(), {
        "agency": "000.00.15.H56\n", "received_at": "2026-11-23T09:00:00+07:00"})
    procedure = {"code": "9.000001", "name": "x", "level": "department",
                 "online_level": "full", "sla": {"kind": "same_day_cutoff",
                                                 "cutoff": "1٥:00"}}
    assert "cutoff" in errors(ProcedureEntrySchema(), procedure)["sla"]


def test_the_sample_still_passes():
    assert DossierSubmissionSchema().load(sample_dossier())["applicant"]["phone"] == "0912345678"


@pytest.mark.parametrize("amount", [1.5, "8000", True, -1, 2**31])
def test_a_fee_is_a_whole_json_number_its_column_holds(amount):
    procedure = {"code": "9.000001", "name": "x", "level": "department",
                 "online_level": "full", "sla": {"kind": "working_days", "amount": 3},
                 "fee": {"amount": amount}}
    assert "amount" in errors(ProcedureEntrySchema(), procedure)["fee"]
