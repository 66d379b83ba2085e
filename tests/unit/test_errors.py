"""The 422 body's ``errors`` is flat, nested fields named by dotted paths (API.md)."""

from marshmallow import ValidationError

from motcua.contracts.dossiers import DossierSubmissionSchema
from motcua.errors import Invalid, flat_messages
from tests.support import sample_dossier


def test_nested_messages_become_dotted_paths():
    body = sample_dossier()
    body["applicant"]["phone"] = "12345"
    body["documents"][0]["content_base64"] = "%%%"
    try:
        DossierSubmissionSchema().load(body)
    except ValidationError as exc:
        errors = Invalid.from_messages(exc.messages).problem()["errors"]

    assert set(errors) == {"applicant.phone", "documents.0.content_base64"}
    assert all(isinstance(m, list) and all(isinstance(t, str) for t in m)
               for m in errors.values())


def test_flat_messages_keep_flat_ones_and_schema_level_ones():
    assert flat_messages({"agency": ["unknown"]}) == {"agency": ["unknown"]}
    assert flat_messages({"route": {"_schema": ["shares"]}, "x": "one"}) == {
        "route._schema": ["shares"], "x": ["one"]}
    assert flat_messages({"agencies": {1: ["bad"]}}) == {"agencies.1": ["bad"]}
