"""Documents are read whole: a ZIP bomb or a bare ZIP is not a DOCX, and a PDF, PNG or
JPEG must be complete, not only start right (issue 10)."""

import io
import zipfile

import segno

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
    assert domain.content_problem(DOCX, docx()) is None
    assert domain.content_problem("application/pdf", b"%PDF-1.4\n%%EOF\n") is None


def test_a_zip_bomb_is_refused_for_its_expanded_size():
    bomb = docx(**{"word/media/zeros.bin": b"\0" * (domain.MAX_EXPANDED_BYTES + 1)})
    assert len(bomb) < 200 * 1024  # small on the wire

    assert "expands to more than" in domain.content_problem(DOCX, bomb)


def test_a_zip_that_is_not_that_document_is_refused():
    assert "without" in domain.content_problem(DOCX, archive({"a.txt": b"x"}))
    assert "without" in domain.content_problem(XLSX, docx())  # a DOCX called an XLSX
    assert "readable" in domain.content_problem(DOCX, b"PK\x03\x04 truncated")


# -- PDF, PNG and JPEG are read to their end (issue 10: "sniffed from the whole file") ------

def png() -> bytes:
    buffer = io.BytesIO()
    segno.make("000.00.15.H56-261123-0001").save(buffer, kind="png")
    return buffer.getvalue()


def test_a_whole_pdf_png_and_jpeg_pass():
    assert domain.content_problem("application/pdf", b"%PDF-1.7\n1 0 obj\n%%EOF\r\n") is None
    assert domain.content_problem("image/png", png()) is None
    assert domain.content_problem("image/jpeg", b"\xff\xd8\xff\xe0 scan \xff\xd9\x00") is None


def test_a_file_that_only_starts_right_is_refused():
    assert "%%EOF" in domain.content_problem("application/pdf", b"%PDF-1.4 then anything")
    whole = png()
    assert "IEND" in domain.content_problem("image/png", whole[:len(whole) // 2])
    damaged = bytearray(whole)
    damaged[40] ^= 0xFF  # inside the first data chunk: its CRC no longer holds
    assert "damaged" in domain.content_problem("image/png", bytes(damaged))
    assert "IHDR" in domain.content_problem(
        "image/png", domain.PNG_SIGNATURE + whole[33:])  # IHDR cut out
    assert "end-of-image" in domain.content_problem("image/jpeg", b"\xff\xd8\xff\xe0 cut")


def test_a_pdf_with_its_trailer_beyond_the_readers_window_is_refused():
    padded = b"%PDF-1.4\n%%EOF\n" + b" " * domain.PDF_TRAILER_WINDOW
    assert domain.content_problem("application/pdf", padded) is not None
