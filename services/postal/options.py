"""Postal's configuration (the ``postal:`` section of deploy/config.yaml), read once per
call into one value the service layer is given: no module here reads nameko's config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_OPERATOR = "vnpost"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_WEBHOOK_DELAYS = (5.0, 30.0, 120.0, 600.0, 1800.0)
DEFAULT_WEBHOOK_TIMEOUT = 5.0
DEFAULT_WEBHOOK_BATCH = 50


@dataclass(frozen=True)
class Operator:
    """One postal operator: its waybill range (when motcua allots the numbers) and the
    secret its webhooks are signed with."""

    name: str
    waybill_prefix: str | None = None  # two letters (S10), e.g. EB
    waybill_from: int = 0
    waybill_to: int = 0
    waybill_suffix: str = "VN"
    webhook_secret: str = ""

    @property
    def allots_waybills(self) -> bool:
        return bool(self.waybill_prefix) and self.waybill_to >= self.waybill_from


@dataclass(frozen=True)
class Options:
    default_operator: str = DEFAULT_OPERATOR
    operators: Mapping[str, Operator] = field(default_factory=dict)
    routes: tuple[Mapping[str, Any], ...] = ()  # [{agency?, area?, operator}]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    charge: Mapping[str, int] = field(default_factory=dict)  # kind → VND
    citizen_pays_charge: bool = True
    webhook_delays: tuple[float, ...] = DEFAULT_WEBHOOK_DELAYS
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    webhook_batch: int = DEFAULT_WEBHOOK_BATCH

    def operator(self, name: str) -> Operator:
        return self.operators.get(name) or Operator(name)

    def known(self, name: str) -> bool:
        return name == self.default_operator or name in self.operators


def from_section(section: Mapping[str, Any]) -> Options:
    operators = {}
    for name, spec in (section.get("OPERATORS") or {}).items():
        spec = spec or {}
        operators[name] = Operator(
            name=name, waybill_prefix=spec.get("WAYBILL_PREFIX") or None,
            waybill_from=int(spec.get("WAYBILL_FROM", 0)),
            waybill_to=int(spec.get("WAYBILL_TO", 0)),
            waybill_suffix=str(spec.get("WAYBILL_SUFFIX", "VN")),
            webhook_secret=str(spec.get("WEBHOOK_SECRET") or ""))
    return Options(
        default_operator=str(section.get("DEFAULT_OPERATOR", DEFAULT_OPERATOR)),
        operators=operators,
        routes=tuple(section.get("ROUTES") or ()),
        max_attempts=int(section.get("MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)),
        charge={k: int(v) for k, v in (section.get("CHARGE") or {}).items()},
        citizen_pays_charge=bool(section.get("CITIZEN_PAYS_CHARGE", True)),
        webhook_delays=tuple(float(d) for d in section.get(
            "WEBHOOK_RETRY_DELAYS", DEFAULT_WEBHOOK_DELAYS)),
        webhook_timeout=float(section.get("WEBHOOK_TIMEOUT_SECONDS",
                                          DEFAULT_WEBHOOK_TIMEOUT)),
        webhook_batch=int(section.get("WEBHOOK_BATCH", DEFAULT_WEBHOOK_BATCH)))
