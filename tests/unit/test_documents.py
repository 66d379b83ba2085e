"""A document's file name is a safe base name and its type a bare media type (issue 10)."""

import base64

import pytest
from marshmallow import ValidationError

from motcua.contracts.dossiers import DocumentSchema, safe_filename

PDF = base64.b64encode(b"%PDF-1.4 x\n%%EOF\n").decode()


def load(**changes):
    return DocumentSchema().load({"code": "TK01", "filename": "to-khai.pdf",
                                  "content_type": "application/pdf",
                                  "content_base64": PDF} | changes)


@pytest.mark.parametrize("given, kept", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\lai\\tờ-khai.pdf", "tờ-khai.pdf"),
    ("to-khai\u202efdp.exe", "to-khaifdp.exe"),  # a right-to-left override
    ("a\x00b\x1f.pdf", "ab.pdf"),
    ("  .hidden.pdf ", "hidden.pdf"),
    ("to\u200b-khai.pdf", "to-khai.pdf"),  # zero-width space
    ("tờ-khai.pdf", "tờ-khai.pdf"),
])
def test_a_filename_is_reduced_to_a_safe_base_name(given, kept):
    assert load(filename=given)["filename"] == kept
    assert safe_filename(kept) == kept  # loading twice (gateway, then intake) changes nothing


@pytest.mark.parametrize("given", ["../", "\u202e", "..", "dir/"])
def test_a_filename_with_nothing_left_is_refused(given):
    with pytest.raises(ValidationError) as caught:
        load(filename=given)
    assert "filename" in caught.value.messages


def test_the_declared_type_is_normalised_and_must_be_a_media_type():
    assert load(content_type="Application/PDF; charset=binary")["content_type"] == \
        "application/pdf"
    with pytest.raises(ValidationError) as caught:
        load(content_type="pdf please")
    assert "content_type" in caught.value.messages
