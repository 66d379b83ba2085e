"""Token claims of the wrong type are refused as a bad token (401), never used."""

import time
from datetime import timedelta

import jwt
import pytest

from motcua import tokens

SECRET = "s" * 32


def token(**claims):
    base = {"sub": "cb01", "role": "officer", "agency": "000.00.15.H56", "iss": "motcua",
            "exp": int(time.time()) + 60}
    return jwt.encode(base | claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize("claims", [{"agency": ["000.00.15.H56"]}, {"agency": {"a": 1}},
                                    {"agency": 15}, {"operator": ["vnpost"]}])
def test_an_agency_or_operator_claim_that_is_not_a_string_is_refused(claims):
    with pytest.raises(tokens.TokenError, match="claim must be a string"):
        tokens.verify(token(**claims), SECRET, "motcua")


def test_a_string_agency_is_kept():
    assert tokens.verify(token(), SECRET, "motcua")["agency"] == "000.00.15.H56"


def test_exp_must_be_a_number_at_most_the_lifetime_ahead():
    now = int(time.time())
    for exp in (str(now + 60), 10**30, now + 13 * 3600):
        with pytest.raises(tokens.TokenError, match="exp"):
            tokens.verify(token(exp=exp), SECRET, "motcua")
    assert tokens.verify(token(exp=now + 11 * 3600), SECRET, "motcua")
    with pytest.raises(tokens.TokenError, match="1 h"):
        tokens.verify(token(exp=now + 2 * 3600), SECRET, "motcua",
                      max_lifetime=timedelta(hours=1))


def test_the_issuer_is_checked_only_when_configured():
    no_iss = jwt.encode({"sub": "c1", "role": "citizen", "exp": int(time.time()) + 60},
                        SECRET, algorithm="HS256")
    other = token(iss="https://someone-else.example")

    assert tokens.verify(no_iss, SECRET, None)["sub"] == "c1"
    assert tokens.verify(other, SECRET, "")["sub"] == "cb01"
    for unfit in (no_iss, other):
        with pytest.raises(tokens.TokenError):
            tokens.verify(unfit, SECRET, "motcua")
    assert "iss" not in jwt.decode(tokens.issue(SECRET, None, "c1", "citizen"),
                                   options={"verify_signature": False})


def test_the_gateway_reads_the_issuer_and_the_lifetime_from_its_config():
    from nameko import config

    from gateway.auth import Auth

    with config.patch({"MOTCUA": {"JWT_SECRET": SECRET, "JWT_ISSUER": "",
                                  "JWT_MAX_LIFETIME_HOURS": 1}}):
        auth = Auth()
        auth.setup()
    assert (auth.authenticator.issuer, auth.authenticator.max_lifetime) == (
        None, timedelta(hours=1))
