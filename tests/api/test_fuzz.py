"""schemathesis against the OpenAPI schema: no 5xx, and every response matches the schema.

Runs every operation with a bounded number of generated requests, as an admin (who reaches the
deepest code) and without a token (the public log and every 401). Writes go to a private copy
of the test database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.api_helpers import build_database
from deconflict.api import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 12


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict[str, str]]]:
    fixture = build_database(Path(tmp_path_factory.mktemp("fuzz")))
    app = create_app(fixture.path, key_file=fixture.key_file, max_body_bytes=256 * 1024)
    yield app, fixture.tokens


def fuzz(app: object, headers: dict[str, str]) -> list[str]:
    """Run every operation with generated requests; return the failures (empty when all pass)."""
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    return failures


@pytest.mark.slow
def test_as_admin_no_server_errors_and_every_response_matches_the_schema(
    fuzz_target: tuple[object, dict[str, str]],
) -> None:
    app, tokens = fuzz_target
    failures = fuzz(app, {"Authorization": f"Bearer {tokens['admin']}"})
    assert failures == [], "\n\n".join(failures)


def test_without_a_token_no_server_errors_and_every_response_matches_the_schema(
    fuzz_target: tuple[object, dict[str, str]],
) -> None:
    app, _ = fuzz_target
    failures = fuzz(app, {})
    assert failures == [], "\n\n".join(failures)
