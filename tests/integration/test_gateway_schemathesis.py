"""The gateway keeps its own document: schemathesis generates requests from the served
``/api/openapi.json`` for every operation, with an admin's, an officer's and a citizen's
token, and fails on any 5xx or any answer the document does not describe (a status it
does not list, another content type, a body that breaks its schema)."""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import sample_dossier

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"
CALLERS = {
    "admin": ("admin", "admin-1", {}),
    "officer": ("officer", "cb-justice", {"agency": JUSTICE}),
    "citizen": ("citizen", "citizen-1", {}),
}
# Per operation and caller; raise it for a longer hunt (MOTCUA_SCHEMATHESIS_EXAMPLES=500).
EXAMPLES_PER_OPERATION = int(os.environ.get("MOTCUA_SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance)


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    """The legacy import's body: the generated string as is (any text is a fair try)."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value or b"")


BOUNDED = settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
                   database=None, suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_every_operation_keeps_to_the_document(system, caller):
    role, sub, claims = CALLERS[caller]
    headers = system.headers(role, sub, **claims)
    # one real dossier, so the generated requests meet state as well as unknown codes
    assert system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(agency=JUSTICE),
                            headers=system.headers()).status_code == 201
    served = system.http.get(system.url("/api/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(served)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len([op for path in served["paths"].values() for op in path])

    cases = 0
    started = time.monotonic()
    for operation in operations:
        @BOUNDED
        @given(case=operation.as_strategy())
        def check(case):
            nonlocal cases
            cases += 1
            response = case.call(base_url=system.base_url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        check()
    print(f"\nschemathesis as {caller}: {cases} cases over {len(operations)} operations "
          f"in {time.monotonic() - started:.1f} s")
    assert cases >= len(operations)
