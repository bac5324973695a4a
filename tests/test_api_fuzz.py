"""Random requests generated from each of the four services' own OpenAPI documents
(schemathesis, every check it has): valid and invalid bodies, parameters and headers must never
produce a 5xx, every answer must match the schema the service publishes (status code, content
type, headers, body), required headers must be required, methods a path does not serve must
answer 405 with a true ``Allow``.

The schema is read from the running service, so the operations are walked here rather than
collected by schemathesis' pytest plugin (which needs the schema at collection time)."""

from __future__ import annotations

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.config._checks import PositiveDataAcceptanceConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation import GenerationMode

from services.stack import Stack
from tests.support import HANOI, Tokens

# Small: the suite runs on a loaded two-core machine, and the negative and positive modes each
# draw their own examples; a failure found once is found again by every later run (derandomised).
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES", "20"))


def everyone(tokens: Tokens) -> dict[str, str]:
    # One principal holding every role over the whole province, so generated requests get past
    # authorisation and reach validation and the database.
    return tokens.bearer(
        "fuzz.all-roles",
        ["receptionist", "specialist", "supervisor", "ops", "integration", "applicant", "finance"],
        HANOI,
        HANOI,
    )


# The operations each service has at least: a schema that lost its routes must fail here.
MIN_OPERATIONS = {"intake": 20, "payment": 20, "workflow": 15, "metrics": 5}


# FUZZ_SERVICES=intake,payment narrows a local run; FUZZ_EXAMPLES deepens one.
SERVICES = sorted(filter(None, os.environ.get("FUZZ_SERVICES", "").split(","))) or sorted(
    MIN_OPERATIONS
)


@pytest.mark.parametrize("service", SERVICES)
def test_random_requests_get_no_5xx_and_answers_match_the_schema(
    service: str, stack: Stack, tokens: Tokens
) -> None:
    base_url = stack.url(service)
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    # Schema-valid data may still break a rule across fields that OpenAPI cannot state for
    # parameters (exactly one of working_days and procedure_key; a QR rating carries the
    # verifier): that answer is a documented 422, not a rejection of valid data.
    schema.config.checks.positive_data_acceptance = PositiveDataAcceptanceConfig(
        expected_statuses=["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
    )
    auth = everyone(tokens)
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > MIN_OPERATIONS[service]
    with requests.Session() as http:
        for operation in operations:
            strategy = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            )

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
                print_blob=False,
            )
            def fuzz(case: schemathesis.Case) -> None:
                # A negative case may have dropped the bearer header on purpose; adding it back
                # would turn "rejected for want of auth" into "accepted invalid data".
                headers = dict(case.headers or {})
                mutated = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
                if mutated is None or mutated.mode is not GenerationMode.NEGATIVE:
                    headers = {**auth, **headers}
                case.call_and_validate(base_url=base_url, session=http, headers=headers, timeout=30)

            try:
                fuzz()
            # Schemathesis reports a group of failures (a BaseExceptionGroup): collect every
            # operation's, report them together.
            except (Exception, BaseExceptionGroup) as exc:
                failures[operation.label] = str(exc)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
