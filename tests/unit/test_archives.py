"""OOXML documents are read whole: a ZIP bomb or a bare ZIP is not a DOCX (issue 10)."""

import io
import zipfile

from services.intake import domain

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def archive(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def docx(**extra: bytes) -> bytes:
    return archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>",
                    **extra})


def test_a_real_looking_docx_passes():
    assert domain.archive_problem(DOCX, docx()) is None
    assert domain.archive_problem("application/pdf", b"%PDF-1.4") is None  # not an archive


def test_a_zip_bomb_is_refused_for_its_expanded_size():
    bomb = docx(**{"word/media/zeros.bin": b"\0" * (domain.MAX_EXPANDED_BYTES + 1)})
    assert len(bomb) < 200 * 1024  # small on the wire

    assert "expands to more than" in domain.archive_problem(DOCX, bomb)


def test_a_zip_that_is_not_that_document_is_refused():
    assert "without" in domain.archive_problem(DOCX, archive({"a.txt": b"x"}))
    assert "without" in domain.archive_problem(XLSX, docx())  # a DOCX called an XLSX
    assert "readable" in domain.archive_problem(DOCX, b"PK\x03\x04 truncated")
