"""Schema-driven fuzzing of the kit server with schemathesis (Hypothesis under the hood).

Requests are generated from the OpenAPI description of the endpoints the kit server serves,
trimmed from OpenAI's own (`tests/openapi/kit-server.json`, built by
`tools/kit_server_openapi.py`): valid and invalid bodies, query parameters and path ids. Every
answer must be free of server errors (no 5xx), and every answer with a documented status must
conform to the schema. Bounded (a few examples per operation) so CI stays fast; the seed is
fixed, so a failure reproduces. Schemathesis's coverage phase adds boundary and invalid values
for every field (≈ 12,000 requests): in make test and CI, not in make check (conftest.quick).
"""

from __future__ import annotations

from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from conftest import examples, quick  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from helpers import kit_server  # noqa: E402

SPEC = Path(__file__).parent / "openapi" / "kit-server.json"
schema = schemathesis.openapi.from_path(SPEC)
EXAMPLES = examples(12)
# The coverage phase (boundary and invalid values for every field: about 12,000 requests) runs
# in make test and CI; make check's quick run keeps the generated examples only.
schema.config.phases.coverage.enabled = not quick()


@pytest.fixture(scope="module")
def kit_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("fuzz")
    url = kit_server.start(home)
    yield url
    kit_server.stop(home)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_conforms(case, kit_url):
    key = kit_server.key_for(kit_url)  # the kit server refuses any request without it
    response = case.call(base_url=kit_url, headers={"Authorization": f"Bearer {key}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
