"""The kernel's pure parts: contracts, dossier codes, tokens, configuration checks."""

from datetime import UTC, date, datetime

import pytest
from marshmallow import ValidationError

from motcua import tokens
from motcua.config import ConfigError, check
from motcua.contracts.events import InvalidEvent, build_event, parse_event
from services.intake.domain import dossier_code, receipt_day
from tests.support import submitted_event_data


def test_an_event_round_trips_through_its_contract():
    envelope = build_event("dossier.submitted", submitted_event_data(), "intake", "corr")

    event = parse_event(envelope)

    assert event.id == envelope["id"] and event.correlation_id == "corr"
    assert event.data["submitted_at"].utcoffset().total_seconds() == 7 * 3600


@pytest.mark.parametrize("breakage", [
    lambda e: e["data"].pop("code"),
    lambda e: e.update(version=2),
    lambda e: e.update(type="dossier.unheard_of"),
    lambda e: e.pop("correlation_id"),
    lambda e: e["data"].update(national_status=11),
])
def test_a_broken_event_is_refused_by_its_consumer(breakage):
    envelope = build_event("dossier.submitted", submitted_event_data(), "intake")
    breakage(envelope)

    with pytest.raises(InvalidEvent):
        parse_event(envelope)


def test_a_producer_cannot_build_an_invalid_event():
    data = submitted_event_data()
    data["channel"] = "fax"
    with pytest.raises(ValidationError):
        build_event("dossier.submitted", data, "intake")


def test_dossier_codes_follow_the_national_pattern():
    assert dossier_code("000.00.15.H56", date(2026, 11, 23), 1) == "000.00.15.H56-261123-0001"
    with pytest.raises(ValueError):
        dossier_code("000.00.15.H56", date(2026, 11, 23), 10000)


def test_the_receipt_day_is_the_provinces_day():
    # 18:30 UTC on the 22nd is 01:30 on the 23rd in Hà Nội time
    assert receipt_day(datetime(2026, 11, 22, 18, 30, tzinfo=UTC)) == date(2026, 11, 23)


def test_tokens_carry_role_and_agency_and_expire():
    token = tokens.issue("s" * 32, "motcua", "cb01", "officer", agency="000.00.15.H56")
    assert tokens.verify(token, "s" * 32, "motcua")["agency"] == "000.00.15.H56"
    with pytest.raises(tokens.TokenError):
        tokens.verify(token, "x" * 32, "motcua")
    from datetime import timedelta
    expired = tokens.issue("s" * 32, "motcua", "c", "citizen", ttl=timedelta(seconds=-1))
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify(expired, "s" * 32, "motcua")


def test_production_refuses_development_secrets():
    development = {"MOTCUA": {"ENV": "development", "JWT_SECRET": "dev-only-x",
                              "PAYMENT_SECRET": "dev-only-y"}}
    check(development)  # fine on a developer's machine
    production = {"MOTCUA": {"ENV": "production", "JWT_SECRET": "dev-only-jwt-secret-change-me",
                             "PAYMENT_SECRET": "p" * 40}}
    with pytest.raises(ConfigError, match="MOTCUA_JWT_SECRET"):
        check(production)
    production["MOTCUA"]["JWT_SECRET"] = "short"
    with pytest.raises(ConfigError):
        check(production)
    production["MOTCUA"]["JWT_SECRET"] = "j" * 40
    check(production)


def test_the_readme_diagram_is_the_transition_table():
    from pathlib import Path

    from services.processing.domain import mermaid

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert mermaid() in readme
