"""The REST API fuzzed from its own OpenAPI schema with schemathesis: the coverage phase (every
documented boundary and shape) and the fuzzing phase (random valid and invalid inputs). Any 5xx,
or a response that breaks the schema, fails the test.

The coverage phase's cases are the same whoever sends them, so they are sent once, as a moderator:
a moderator passes every permission check a member does and reaches the most code (a member's
refusals are the authorization matrix's to test). Both roles get the fuzzing phase."""
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from tests.conftest import client_for
from tests.factories import CategoryFactory, StaffFactory, UserFactory, make_post, make_thread, runnable_model

CHECKS = ["not_a_server_error", "response_schema_conformance"]
EXAMPLES = 25  # per operation and role, in the fuzzing phase; the coverage phase is exhaustive


def _schema(*phases: str):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    schema.config.phases.update(phases=list(phases))
    schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")
    schema.config.checks.update(included_check_names=CHECKS)
    # The token endpoint takes passwords: fuzzing it only trips the brute-force lockout.
    return schema.include(path_regex="^/api/v1/").exclude(path="/api/v1/auth/token/")


as_moderator = _schema("coverage", "fuzzing")
as_member = _schema("fuzzing")


@pytest.fixture
def world(db, settings):
    """A little of everything, so that ids in generated requests sometimes hit real rows."""
    # Job submission queues to the test's filesystem broker. Set once here, not per example:
    # each assignment to `settings` stacks another override that every later lookup walks.
    settings.REDIS_URL = ""
    category = CategoryFactory(slug="general")
    thread = make_thread(category=category, kind="question")
    make_post(thread=thread)
    runnable_model()
    return thread


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request; the test client
    does not, and neither may this test, which runs inside one test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _token_of(user) -> str:
    return client_for(user)._credentials["HTTP_AUTHORIZATION"]


def _send_as(role: str, case) -> None:
    user = StaffFactory() if role == "moderator" else UserFactory()
    case.call_and_validate(headers={"Authorization": _token_of(user)})


# Each item's id names its operation and role (schemathesis puts the operation in the id only
# when the test is parametrized).
@as_moderator.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
@pytest.mark.parametrize("role", ["moderator"])
def test_the_api_never_errors_and_keeps_its_schema(case, role, world, keep_test_connection):
    _send_as(role, case)


@as_member.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
@pytest.mark.parametrize("role", ["member"])
def test_the_api_fuzzed_never_errors_and_keeps_its_schema(case, role, world, keep_test_connection):
    _send_as(role, case)
