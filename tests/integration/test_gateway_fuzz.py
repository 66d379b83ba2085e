"""No input makes the gateway answer 5xx: hypothesis throws malformed requests at every route."""

import copy
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_gateway_security import MATRIX
from tests.support import SAMPLE_DOSSIER

pytestmark = pytest.mark.broker

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: requests.models.complexjson.dumps(value).encode()),
    st.text(max_size=200).map(str.encode),
    st.just(b'{"procedure": NaN, "agency": Infinity}'),
)
path_values = st.text(max_size=60)
content_types = st.sampled_from(["application/json", "text/plain", "application/x-ndjson",
                                 "multipart/form-data; boundary=x", "", "application/json; "
                                 "charset=latin-1"])
auth_headers = st.sampled_from(["", "Bearer ", "Bearer x.y.z", "Basic Zm9vOmJhcg==",
                                "Bearer VALID"])
# Header values a client can send (requests refuses control characters itself).
keys = st.none() | st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF),
                             max_size=250).filter(lambda key: not key[:1].isspace())


def leaves(document, prefix=()):
    """Every path to a value in a nested dict/list."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield from leaves(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from leaves(value, (*prefix, index))
    yield prefix


PATHS_IN_SAMPLE = [p for p in leaves(SAMPLE_DOSSIER) if p]


def replace(document, path, value):
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


@pytest.mark.parametrize("method, rule", sorted(MATRIX))
def test_no_route_answers_5xx_to_malformed_input(system, method, rule):
    valid = system.token("citizen", "fuzzer")

    @FUZZ
    @given(code=path_values, body=bodies, content_type=content_types, auth=auth_headers,
           key=keys)
    def check(code, body, content_type, auth, key):
        headers = {"Content-Type": content_type,
                   "Authorization": auth.replace("VALID", valid)}
        if key is not None:
            headers["Idempotency-Key"] = key
        path = rule.replace("<string:code>", quote(code, safe="") or "x")
        response = system.http.request(method, system.url(path), data=body, headers=headers)
        assert response.status_code < 500, (path, body[:200], response.text[:300])

    check()


def test_no_mutated_submission_answers_5xx(system):
    headers = system.headers("officer", "cb01", agency="000.00.00.H56")

    @FUZZ
    @given(path=st.sampled_from(PATHS_IN_SAMPLE), value=json_values)
    def check(path, value):
        body = replace(SAMPLE_DOSSIER, path, value)
        response = system.http.post(system.url("/api/v1/dossiers"), json=body, headers=headers)
        assert response.status_code < 500, (path, value, response.text[:300])
        if response.status_code >= 400:
            assert response.headers["Content-Type"].startswith("application/problem+json")

    check()
