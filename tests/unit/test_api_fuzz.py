"""The API under an OpenAPI fuzzer (schemathesis): every operation, as a signed-in user who
owns an app, answers no 5xx to anything its schema allows, nor to what it does not.

Each call gets a fresh login token (a fuzzed logout must not end the run), and an app
route is called on the owner's real app "web" (random names stop at the ownership
check), except the app's own DELETE, which would end the run. `logs?follow=true` streams
until the client leaves, which a fuzzer's client never does: logs are fuzzed without it.

FUZZ_EXAMPLES (default 15 per operation, to keep the suite short) sets how many;
`FUZZ_EXAMPLES=100 .venv/bin/pytest tests/unit/test_api_fuzz.py -s` is the full run and
prints the calls made per operation. (schemathesis's own pytest plugin does not run on
this pytest, so operations are driven here with Hypothesis directly.)
"""

from __future__ import annotations

import os
from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from hangar.api import app as api_app
from tests.support.isolation import OWNER, prepare, session_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
KEEP_RANDOM = "DELETE /v1/apps/{name}"


def test_no_operation_answers_a_server_error(fake_platform):
    prepare(fake_platform)
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app.create_api(fake_platform))

    def headers() -> dict[str, str]:
        return {"Authorization": f"Bearer {session_token(fake_platform, OWNER)}"}

    statuses: Counter[tuple[str, int]] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        fuzz(operation, headers, statuses)
    for (label, status), count in sorted(statuses.items()):
        print(f"{label}: {count} x {status}")
    assert len(operations) >= 28
    assert not [key for key in statuses if key[1] >= 500]


def fuzz(operation, headers, statuses) -> None:  # type: ignore[no-untyped-def]
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def one(case) -> None:  # type: ignore[no-untyped-def]
        if "name" in (case.path_parameters or {}) and operation.label != KEEP_RANDOM:
            case.path_parameters["name"] = "web"
        if case.query and "follow" in case.query:
            case.query["follow"] = False  # a follow streams until the client leaves
        response = case.call(headers=headers())
        statuses[(operation.label, response.status_code)] += 1
        case.validate_response(response, checks=[not_a_server_error])

    one()
