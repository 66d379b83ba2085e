"""Token claims of the wrong type are refused as a bad token (401), never used."""

import time

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
