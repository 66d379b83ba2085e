"""Reconciliation (đối soát): a day's paid transfers beside the provider's statement.

``compare`` is pure; ``paid_on`` reads the day's transfers from payment's database and
``read_statement`` the provider's CSV. ``motcua payments reconcile --date D --statement
FILE.csv`` prints the report and exits non-zero on any discrepancy.

The statement is a CSV with a header row: ``transaction_id`` and ``amount`` (integer VND)
are required; ``payment_id``, ``memo`` and ``paid_at`` may follow (the simulator's
``/v1/statement`` writes this shape). A line is matched to a payment by the provider's
transaction id, else by the payment's id or its transfer memo (a bank's statement may
carry only the memo, folded to upper case). Cash payments are not in a bank statement
and are left out. Transfers payment kept for an officer (over- or under-paid, or for a
payment no longer wanted) are named as such: money the statement has and no payment
took is a discrepancy until an officer resolves it (then it is listed as explained).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from motcua.db import Db
from motcua.timezone import LOCAL_TZ
from services.payment.models import Discrepancy, Payment

MAX_STATEMENT_LINES = 200_000
REQUIRED = ("transaction_id", "amount")


class StatementError(ValueError):
    """The statement cannot be read; the message names the line."""


@dataclass(frozen=True)
class Line:
    """One credited transfer, ours or the provider's."""

    transaction_id: str
    amount: int
    payment_id: str = ""
    memo: str = ""
    note: str = ""  # ours: the dossier; held: why it was kept


@dataclass
class Report:
    matched: list[tuple[Line, Line]] = field(default_factory=list)
    missing_in_statement: list[Line] = field(default_factory=list)  # we have, they do not
    missing_in_payments: list[Line] = field(default_factory=list)  # they have, we do not
    amount_mismatches: list[tuple[Line, Line]] = field(default_factory=list)
    held: list[Line] = field(default_factory=list)  # of missing_in_payments: kept by us
    explained: list[Line] = field(default_factory=list)  # held, and resolved by an officer

    @property
    def discrepancies(self) -> int:
        return (len(self.missing_in_statement) + len(self.missing_in_payments)
                + len(self.amount_mismatches))


def _memo_key(memo: str) -> str:
    return " ".join(memo.upper().split())


def compare(ours: Iterable[Line], theirs: Iterable[Line], held: Iterable[Line] = (),
            explained: Iterable[Line] = ()) -> Report:
    """Match the provider's lines to ours: by transaction id, then payment id, then memo.
    A line of a held transfer an officer resolved is explained, not a discrepancy."""
    report = Report()
    waiting = list(ours)
    kept = {line.transaction_id: line for line in held}
    resolved = {line.transaction_id: line for line in explained}

    def take(line: Line) -> Line | None:
        for test in (lambda o: o.transaction_id == line.transaction_id,
                     lambda o: bool(line.payment_id) and o.payment_id == line.payment_id,
                     lambda o: bool(line.memo) and _memo_key(o.memo) == _memo_key(line.memo)):
            for index, candidate in enumerate(waiting):
                if test(candidate):
                    return waiting.pop(index)
        return None

    for line in theirs:
        mine = take(line)
        if mine is None and line.transaction_id in resolved:
            report.explained.append(resolved[line.transaction_id])
        elif mine is None:
            report.missing_in_payments.append(line)
            if line.transaction_id in kept:
                report.held.append(kept[line.transaction_id])
        elif mine.amount != line.amount:
            report.amount_mismatches.append((mine, line))
        else:
            report.matched.append((mine, line))
    report.missing_in_statement.extend(waiting)
    return report


def read_statement(path: Path | str) -> list[Line]:
    """The provider's CSV; ``StatementError`` names the first line that is not right."""
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise StatementError(f"cannot open the statement {path}: {exc.strerror}") from None
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise StatementError(f"the statement's header lacks {', '.join(missing)}")
            lines = []
            for number, row in enumerate(reader, start=2):
                if number > MAX_STATEMENT_LINES + 1:
                    raise StatementError(f"more than {MAX_STATEMENT_LINES} lines")
                transaction = (row.get("transaction_id") or "").strip()
                amount = (row.get("amount") or "").strip()
                if not transaction or not amount.isdigit():
                    raise StatementError(f"line {number}: a transaction_id and a whole "
                                         "amount of VND are required")
                lines.append(Line(transaction, int(amount),
                                  (row.get("payment_id") or "").strip(),
                                  (row.get("memo") or "").strip()))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise StatementError(f"the statement is not a UTF-8 CSV: {exc}") from None
    return lines


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day (Asia/Ho_Chi_Minh) as an aware interval."""
    start = datetime.combine(day, time(), LOCAL_TZ)
    return start, start + timedelta(days=1)


def paid_on(db: Db, day: date) -> tuple[list[Line], list[Line], list[Line]]:
    """The transfers payment took on ``day`` (refunded ones too: they were paid), those
    it kept for an officer, and those of them an officer resolved."""
    start, end = day_bounds(day)
    with db.session() as session:
        paid = session.scalars(select(Payment).where(
            Payment.paid_at >= start, Payment.paid_at < end,
            Payment.method != "cash").order_by(Payment.paid_at)).all()
        held = session.scalars(select(Discrepancy).where(
            Discrepancy.received_at >= start, Discrepancy.received_at < end)).all()

    def line(d: Discrepancy) -> Line:
        note = f"{d.kind}: {d.received} VND for {d.expected} VND asked, {d.dossier_code}"
        if d.resolved_at:
            note += f"; resolved by {d.resolved_by}: {d.resolution}"
        return Line(d.transaction_id, d.received, d.payment_id or "", "", note)

    return ([Line(p.transaction_id or "", p.amount, p.id, p.memo, p.dossier_code)
             for p in paid],
            [line(d) for d in held if d.resolved_at is None],
            [line(d) for d in held if d.resolved_at is not None])


def render(report: Report, day: date) -> list[str]:
    """The report, one line per finding, tab-separated, then a summary."""
    out = [f"matched\t{mine.transaction_id}\t{mine.amount}\t{mine.note}"
           for mine, _ in report.matched]
    out += [f"missing_in_statement\t{line.transaction_id}\t{line.amount}\t{line.note}"
            for line in report.missing_in_statement]
    kept = {line.transaction_id: f"held for an officer: {line.note}" for line in report.held}
    out += [f"missing_in_payments\t{line.transaction_id}\t{line.amount}\t"
            f"{kept.get(line.transaction_id, line.memo)}"
            for line in report.missing_in_payments]
    out += [f"explained\t{line.transaction_id}\t{line.amount}\t{line.note}"
            for line in report.explained]
    out += [f"amount_mismatch\t{mine.transaction_id}\t{mine.amount}\t{theirs.amount}\t"
            f"{mine.note}" for mine, theirs in report.amount_mismatches]
    out.append(f"{day.isoformat()}: {len(report.matched)} matched, "
               f"{len(report.missing_in_statement)} missing in the statement, "
               f"{len(report.missing_in_payments)} missing in payments "
               f"({len(report.held)} held for an officer), "
               f"{len(report.amount_mismatches)} amount mismatches, "
               f"{len(report.explained)} explained")
    return out
