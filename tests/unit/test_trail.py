"""The hash chain over a dossier's audit rows (services/processing/trail.py)."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.processing.trail import FIELDS, GENESIS, row_hash, verify

CODE = "000.00.15.H56-261123-0001"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
STEPS = [
    ("accept", "le.thi.thuy", "000.00.15.H56", None, "accepted", "Tiếp nhận tại quầy"),
    ("take", "nguyen.van.binh", "000.00.15.H56", "accepted", "in_progress", ""),
    ("request_supplement", "nguyen.van.binh", "000.00.15.H56", "in_progress",
     "awaiting_supplement", "Thiếu bản sao Căn cước công dân"),
    ("supplemented", "citizen", None, "awaiting_supplement", "in_progress", "Đã bổ sung"),
    ("resolve", "tran.quoc.hung", "000.00.15.H56", "in_progress", "resolved", "Đồng ý cấp"),
]


def build_chain() -> list[dict]:
    rows, prev = [], GENESIS
    start = datetime(2026, 11, 23, 9, tzinfo=VN)
    for seq, (action, actor, agency, from_status, to_status, note) in enumerate(STEPS, 1):
        row = {"dossier_code": CODE, "seq": seq, "at": start + timedelta(hours=seq),
               "action": action, "actor": actor, "agency": agency,
               "from_status": from_status, "to_status": to_status, "note": note}
        row["prev_hash"] = prev
        row["hash"] = prev = row_hash(prev, row)
        rows.append(row)
    return rows


def head_of(rows):
    return (rows[-1]["seq"], rows[-1]["hash"]) if rows else (0, GENESIS)


def test_row_hash_is_sha256_of_prev_and_canonical_json():
    row = build_chain()[0]
    payload = {field: row[field] for field in FIELDS}
    payload["at"] = "2026-11-23T03:00:00.000000+00:00"  # 10:00 in Vietnam, as UTC
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert "Tiếp nhận tại quầy" in text
    assert row_hash(GENESIS, row) == hashlib.sha256((GENESIS + text).encode()).hexdigest()


def test_row_hash_ignores_how_the_instant_is_written():
    row = build_chain()[0]
    as_utc = dict(row, at=row["at"].astimezone(UTC))
    naive_utc = dict(row, at=row["at"].astimezone(UTC).replace(tzinfo=None))  # as a DB returns
    as_text = dict(row, at=row["at"].isoformat())
    assert {row_hash(GENESIS, r) for r in (row, as_utc, naive_utc, as_text)} == \
        {row_hash(GENESIS, row)}
    # extra keys (id, prev_hash, hash) are not hashed; every field is
    assert row_hash(GENESIS, dict(row, id=99)) == row_hash(GENESIS, row)
    for field in FIELDS:
        if field == "at":
            value = row["at"] + timedelta(microseconds=1)
        elif field == "seq":
            value = 2
        else:
            value = f"{row[field]}x"
        assert row_hash(GENESIS, dict(row, **{field: value})) != row_hash(GENESIS, row), field
    with pytest.raises(KeyError):
        row_hash(GENESIS, {k: v for k, v in row.items() if k != "note"})


def test_intact_chain():
    rows = build_chain()
    assert verify(rows) == []
    assert verify(rows, head=head_of(rows)) == []
    assert verify([], head=(0, GENESIS)) == []
    assert verify([]) == []


def test_edited_note_is_detected():
    rows = build_chain()
    rows[2]["note"] = "Không thiếu gì"
    problems = verify(rows, head=head_of(rows))
    assert len(problems) == 1
    assert "row seq 3" in problems[0] and "edited" in problems[0]


def test_edited_and_rehashed_row_breaks_the_next_link():
    rows = build_chain()
    rows[1]["actor"] = "someone.else"
    rows[1]["hash"] = row_hash(rows[1]["prev_hash"], rows[1])
    problems = verify(rows)
    assert len(problems) == 1
    assert "row seq 3" in problems[0] and "prev_hash" in problems[0]


def test_rehashed_last_row_is_seen_against_the_head():
    rows = build_chain()
    head = head_of(rows)
    rows[-1]["note"] = "Từ chối"
    rows[-1]["hash"] = row_hash(rows[-1]["prev_hash"], rows[-1])
    assert verify(rows) == []  # the rows alone cannot tell
    problems = verify(rows, head=head)
    assert len(problems) == 1 and "head" in problems[0]


def test_deleted_middle_row_is_detected():
    rows = build_chain()
    del rows[2]
    problems = verify(rows, head=head_of(rows))
    assert problems
    assert any("seq 3 missing" in p and "deleted" in p for p in problems)


def test_deleted_middle_row_with_renumbering_is_detected():
    rows = build_chain()
    del rows[2]
    for row in rows[2:]:
        row["seq"] -= 1
    problems = verify(rows)
    assert any("prev_hash" in p for p in problems)
    assert any("edited" in p for p in problems)  # seq is hashed


def test_deleted_first_row_is_detected():
    rows = build_chain()[1:]
    problems = verify(rows)
    assert any("seq 1 missing" in p for p in problems)


def test_swapped_rows_are_detected():
    rows = build_chain()
    # as stored: the two rows' contents exchanged, seq numbers renumbered to look in order
    swapped = [rows[0], dict(rows[2], seq=2), dict(rows[1], seq=3), rows[3], rows[4]]
    problems = verify(swapped)
    assert any("row seq 2" in p and "prev_hash" in p for p in problems)
    assert any("row seq 3" in p for p in problems)
    # and as listed: the rows out of seq order
    problems = verify([rows[0], rows[2], rows[1], rows[3], rows[4]])
    assert any("out of order" in p for p in problems)


def test_inserted_row_is_detected():
    rows = build_chain()
    forged = dict(rows[1], seq=3, action="forward", note="chen vao")
    forged["prev_hash"] = rows[1]["hash"]
    forged["hash"] = row_hash(forged["prev_hash"], forged)
    rows.insert(2, forged)
    problems = verify(rows)
    assert any("out of order" in p for p in problems)


def test_truncated_tail_is_detected_with_the_head_only():
    rows = build_chain()
    head = head_of(rows)
    truncated = rows[:3]
    assert verify(truncated) == []
    problems = verify(truncated, head=head)
    assert len(problems) == 1
    assert "truncated" in problems[0] and "seq 4–5" in problems[0]
    problems = verify([], head=head)
    assert len(problems) == 1 and "seq 1–5" in problems[0]


def test_rows_appended_without_moving_the_head():
    rows = build_chain()
    problems = verify(rows, head=(4, rows[3]["hash"]))
    assert len(problems) == 1 and "head" in problems[0]


def test_a_row_of_another_dossier_is_detected():
    rows = build_chain()
    rows[3] = dict(rows[3], dossier_code="000.00.15.H56-261123-0002")
    problems = verify(rows)
    assert any("belongs to dossier" in p for p in problems)
