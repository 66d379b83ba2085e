"""Notify's options, read once from the ``notify:`` section of the configuration."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from motcua.config import EXIT_CONFIG, enforce, secret_problem, section, settings
from services.notify import domain

DEV_CALLBACK_SECRET = "dev-only-notify-callback-secret-change-me-in-production"


@dataclass(frozen=True)
class Options:
    public_url: str = "http://127.0.0.1:8000"
    quiet_hours: tuple[time, time] | None = (time(21), time(7))
    # The channels a citizen is told on when its applicant data does not say.
    default_channels: tuple[str, ...] = ("sms",)
    # Whom to tell of an agency's dossiers (officers' messages): agency → {email, phone}.
    officers: dict[str, dict[str, str]] = field(default_factory=dict)
    retry_delays: tuple[float, ...] = domain.DEFAULT_RETRY_DELAYS
    batch: int = 200
    lease_seconds: float = 60.0
    concurrency: int = 10
    rate_per_minute: dict[str, int] = field(default_factory=dict)  # channel → limit; 0: none
    callback_secret: str = DEV_CALLBACK_SECRET

    def officer_contact(self, agency: str) -> dict[str, str]:
        return self.officers.get(agency) or self.officers.get("default") or {}


def options() -> Options:
    """The running configuration's options (defaults where a key is absent)."""
    notify = section("notify")
    providers = {channel: notify.get(channel.upper()) or {} for channel in domain.CHANNELS}
    return Options(
        public_url=str(settings().get("PUBLIC_URL") or Options.public_url).rstrip("/"),
        quiet_hours=domain.parse_quiet_hours(notify.get("QUIET_HOURS",
                                                        domain.DEFAULT_QUIET_HOURS)),
        default_channels=tuple(notify.get("DEFAULT_CHANNELS") or Options.default_channels),
        officers=dict(notify.get("OFFICERS") or {}),
        retry_delays=tuple(notify.get("RETRY_DELAYS") or domain.DEFAULT_RETRY_DELAYS),
        batch=int(notify.get("SEND_BATCH", Options.batch)),
        lease_seconds=float(notify.get("LEASE_SECONDS", Options.lease_seconds)),
        concurrency=int(notify.get("SEND_CONCURRENCY", Options.concurrency)),
        rate_per_minute={c: int(p.get("RATE_PER_MINUTE") or 0) for c, p in providers.items()},
        callback_secret=callback_secret(notify),
    )


def callback_secret(notify: dict[str, Any]) -> str:
    """The receipts' secret. Unset, development has its own; production has none, and
    ``receipts.apply`` refuses every receipt rather than check it against a known one."""
    secret = str(notify.get("CALLBACK_SECRET") or "").strip()
    if secret or settings().get("ENV") == "production":
        return secret
    return DEV_CALLBACK_SECRET


def provider_section(channel: str) -> dict[str, Any]:
    return dict(section("notify").get(channel.upper()) or {})


def production_problem(notify: dict[str, Any]) -> str | None:
    """Why this ``notify:`` section cannot run in production, or None: production sends
    through the real providers, and the receipts of an SMS or Zalo provider are signed
    with a real secret. With no provider configured, messages are stored and wait."""
    if notify.get("STANDINS"):
        return ("notify.STANDINS is on: production sends through the real providers (set "
                "MOTCUA_NOTIFY_STANDINS=false and the providers' addresses)")
    # Never a development or short secret; none at all only while no provider sends
    # receipts (they are refused then: see ``callback_secret``).
    receipts = any((notify.get(channel) or {}).get("URL") for channel in ("SMS", "ZALO"))
    weak = secret_problem(notify.get("CALLBACK_SECRET"), required=receipts)
    if weak:
        return f"MOTCUA_NOTIFY_CALLBACK_SECRET {weak}"
    for channel in ("EMAIL", "SMS", "ZALO"):
        address = str((notify.get(channel) or {}).get("HOST" if channel == "EMAIL" else "URL")
                      or "")
        if any(local in address for local in ("127.0.0.1", "localhost", "[::1]")):
            return f"notify.{channel} points at this machine ({address}): a stand-in"
    return None


def enforce_production() -> None:
    """The kernel's start-up check, then notify's own (only the notify process needs its
    providers): one line on stderr and exit code 78, as ``motcua.config.enforce``."""
    enforce()
    if settings().get("ENV") != "production":
        return
    problem = production_problem(section("notify"))
    if problem:
        sys.stderr.write(f"motcua: refusing to start: {problem}\n")
        sys.stderr.flush()
        raise SystemExit(EXIT_CONFIG)
