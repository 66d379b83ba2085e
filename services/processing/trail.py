"""A hash chain over each dossier's audit rows, so that tampering shows.

Each row stores ``prev_hash`` (the hash of the row before it, :data:`GENESIS` for the
first) and ``hash = row_hash(prev_hash, row)``. Editing a row breaks its own hash;
deleting, inserting or reordering rows breaks the sequence and the links; deleting the
last rows is seen only against a head ``(last_seq, last_hash)`` kept elsewhere (the
case's ``trail_seq``/``trail_hash``). Rewriting the whole chain and the head together is
not detectable from the rows alone; that is what exporting heads would be for.

Rows are numbered from 1, with no gaps. Pure: no nameko, no database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["FIELDS", "GENESIS", "canonical", "row_hash", "verify"]

GENESIS = "0" * 64
FIELDS = ("dossier_code", "seq", "at", "action", "actor", "agency", "from_status",
          "to_status", "note")


def _utc_iso(value: Any) -> str:
    """A datetime (or an ISO 8601 string of one) as ISO 8601 in UTC, to the microsecond.

    Naive datetimes are taken as UTC: that is how the database hands them back.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"'at' must be a datetime, not {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(row: Mapping[str, Any]) -> str:
    """The hashed text of a row: its :data:`FIELDS` as compact JSON with sorted keys."""
    missing = [field for field in FIELDS if field not in row]
    if missing:
        raise KeyError(f"trail row lacks {', '.join(missing)}")
    payload = {field: row[field] for field in FIELDS}
    payload["seq"] = int(payload["seq"])
    payload["at"] = _utc_iso(payload["at"])
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """sha256 (hex) of ``prev_hash`` followed by :func:`canonical` of ``row``, as UTF-8."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


def verify(rows: Sequence[Mapping[str, Any]],
           head: tuple[int, str] | None = None) -> list[str]:
    """What is wrong with one dossier's trail; an empty list means intact.

    ``rows`` are ordered by ``seq``, each with the :data:`FIELDS` plus ``prev_hash`` and
    ``hash``. ``head`` is ``(last_seq, last_hash)`` as recorded elsewhere, ``(0, GENESIS)``
    for a dossier without rows; without it a truncated tail cannot be seen.
    """
    problems: list[str] = []
    code = rows[0].get("dossier_code") if rows else None
    expected_seq, expected_prev = 1, GENESIS
    for position, row in enumerate(rows):
        seq = row.get("seq")
        name = f"row seq {seq}" if seq is not None else f"row #{position + 1}"
        if row.get("dossier_code") != code:
            problems.append(f"{name}: belongs to dossier {row.get('dossier_code')!r}, "
                            f"not {code!r}")
        # the sequence: a gap is a deletion, a step back an insertion or a reordering
        sequence_broken = True
        if not isinstance(seq, int) or isinstance(seq, bool):
            problems.append(f"{name}: seq is not an integer ({seq!r})")
        elif seq > expected_seq:
            missing = (f"seq {expected_seq}" if seq == expected_seq + 1
                       else f"seq {expected_seq}–{seq - 1}")
            problems.append(f"{name}: {missing} missing before it (row deleted)")
        elif seq < expected_seq:
            problems.append(f"{name}: out of order after seq {expected_seq - 1} "
                            "(row inserted, duplicated or moved)")
        else:
            sequence_broken = False
        # the link to the previous row (reported on its own only if the sequence is fine)
        if row.get("prev_hash") != expected_prev and not sequence_broken:
            problems.append(f"{name}: prev_hash does not match the hash of the row before it "
                            "(row deleted, inserted or rewritten before it)")
        # the row itself
        try:
            computed = row_hash(str(row.get("prev_hash")), row)
        except (KeyError, ValueError, TypeError) as error:
            problems.append(f"{name}: cannot be hashed ({error})")
        else:
            if computed != row.get("hash"):
                problems.append(f"{name}: content does not match its hash (row edited)")
        if isinstance(seq, int) and not isinstance(seq, bool):
            expected_seq = max(expected_seq, seq + 1)
        expected_prev = row.get("hash")

    if head is not None:
        head_seq, head_hash = head
        last_seq = expected_seq - 1
        if last_seq < head_seq:
            gone = (f"seq {head_seq}" if head_seq == last_seq + 1
                    else f"seq {last_seq + 1}–{head_seq}")
            problems.append(f"trail ends at seq {last_seq} but its head is seq {head_seq}: "
                            f"{gone} missing (tail truncated)")
        elif last_seq > head_seq:
            problems.append(f"trail ends at seq {last_seq} but its head is seq {head_seq}: "
                            "rows appended without moving the head")
        elif (expected_prev if rows else GENESIS) != head_hash:
            problems.append(f"the hash of the last row (seq {last_seq}) does not match the head "
                            "(last row rewritten or replaced)")
    return problems
