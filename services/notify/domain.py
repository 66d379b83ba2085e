"""A message's life, as a table: its statuses, the moves a receipt may make, retries and
quiet hours. Pure: no database, no nameko.

    queued ──send──▶ sending ──accepted──▶ sent ──receipt──▶ delivered
      ▲                 │                   │                temporary-failure
      └──transient──────┤                   └──receipt──▶    permanent-failure
         (backoff)      ├──permanent──▶ permanent-failure
                        └──transient, last attempt──▶ technical-failure

A provider's receipt moves a message forward only: a late receipt ("sent" after
"delivered") or a repeat changes nothing (DESIGN.md rule 4). Failures reported by a
receipt are final; GOV.UK Notify names them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from motcua.timezone import LOCAL_TZ

QUEUED, SENDING, SENT, DELIVERED = "queued", "sending", "sent", "delivered"
TEMPORARY_FAILURE = "temporary-failure"  # the provider could not reach the phone in time
PERMANENT_FAILURE = "permanent-failure"  # no such number or address
TECHNICAL_FAILURE = "technical-failure"  # our provider kept failing: attempts used up
FINAL = frozenset({DELIVERED, TEMPORARY_FAILURE, PERMANENT_FAILURE, TECHNICAL_FAILURE})
STATUSES = (QUEUED, SENDING, SENT, *sorted(FINAL))
RANK = {QUEUED: 0, SENDING: 1, SENT: 2} | dict.fromkeys(FINAL, 3)
# What a provider's delivery receipt may report.
RECEIPT_STATUSES = (SENT, DELIVERED, TEMPORARY_FAILURE, PERMANENT_FAILURE)  # the contract's

CHANNELS = ("sms", "email", "zalo")
QUIET_CHANNELS = frozenset({"sms", "zalo"})  # a phone that buzzes at night
DEFAULT_RETRY_DELAYS = (10, 60, 300, 1800)  # seconds; attempts = 1 + len
DEFAULT_QUIET_HOURS = ("21:00", "07:00")


def after_receipt(current: str, reported: str) -> str | None:
    """The status a receipt moves the message to, or None if it would move it backwards
    (or nowhere): late, repeated or out-of-order receipts change nothing."""
    if reported not in RECEIPT_STATUSES:
        raise ValueError(f"not a receipt status: {reported}")
    if current in FINAL or RANK[reported] <= RANK[current]:
        return None
    return reported


def after_transient_failure(attempts: int, now: datetime,
                            delays: Sequence[float] = DEFAULT_RETRY_DELAYS
                            ) -> tuple[str, datetime | None]:
    """After ``attempts`` tries: queued again after its backoff, or a technical failure
    once every delay is used (a bounded number of attempts, DESIGN.md rule 5)."""
    if attempts > len(delays):
        return TECHNICAL_FAILURE, None
    return QUEUED, now + timedelta(seconds=delays[attempts - 1])


def parse_quiet_hours(value: Sequence[str] | None) -> tuple[time, time] | None:
    """``["21:00", "07:00"]`` → times; null or empty: no quiet hours."""
    if not value:
        return None
    start, end = (time.fromisoformat(str(v)) for v in value)
    return start, end


def quiet_until(now: datetime, channel: str, quiet: tuple[time, time] | None,
                tz: object = LOCAL_TZ) -> datetime | None:
    """When a message on ``channel`` may go out if ``now`` is within quiet hours (the
    end of the quiet period, local time), or None if it may go now. E-mail never waits."""
    if quiet is None or channel not in QUIET_CHANNELS:
        return None
    start, end = quiet
    local = now.astimezone(tz)  # type: ignore[arg-type]
    moment = local.time()
    if start <= end:
        inside = start <= moment < end
        wake_day = local.date()
    else:  # across midnight (21:00–07:00)
        inside = moment >= start or moment < end
        wake_day = local.date() + timedelta(days=1) if moment >= start else local.date()
    if not inside:
        return None
    return datetime.combine(wake_day, end, tzinfo=tz)  # type: ignore[arg-type]


def normalise_phone(phone: str) -> str:
    """A Vietnamese mobile number as providers want it: 84 and the subscriber number
    (0912345678 → 84912345678; +84… → 84…)."""
    digits = "".join(c for c in phone if c.isdigit())
    if digits.startswith("0"):
        return "84" + digits[1:]
    return digits
