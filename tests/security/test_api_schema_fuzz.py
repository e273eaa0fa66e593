"""The API as its OpenAPI schema describes it, fuzzed by schemathesis as a clerk and as an admin.

Every operation of the schema gets generated requests (valid and not) sent to the app in-process (WSGI),
signed in with a real API token, over the shared city with cases at each stage. Each answer must not be a
server error, must carry a status code the schema declares for the operation, and must match the schema of
that status: a nullable field not declared so, or an error answer the schema does not mention, fails here.

Bounded so that both roles together take well under a minute on two cores: a few generated requests per
operation (positive and negative), no deadline (the first request of a process is slow). `SCHEMA_FUZZ_COVERAGE=1`
adds schemathesis's coverage phase (every boundary value, missing parameter and unexpected method: some 9,000
requests more), for a longer run by hand; `SCHEMA_FUZZ_TALLY=<file>` appends one JSON line per request
(operation, role, status, the checks that failed) for the counts in CI's log.
"""

from __future__ import annotations

import json
import os

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from cases.models import Attachment, Case, Consultation, RuleDispute
from departments.models import CaseType, Department
from tests.support.api import issue_token

EXAMPLES = 15
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]

# The keys of the records in this test's city, read when a request is drawn (they are made by the fixture, after
# the schema's tests were built): a path parameter is either one of them, so that the operation's success and
# refusal answers are reached, or whatever schemathesis makes of the schema, which mostly meets 404.
KNOWN: dict[str, list] = {}


def _schema():
    # The schema the site serves at /api/schema/, generated in-process: loading it through the app would need the
    # database before pytest-django has made one.
    return SchemaGenerator().get_schema(request=None, public=True)


COVERAGE = os.environ.get("SCHEMA_FUZZ_COVERAGE", "") == "1"
TALLY = os.environ.get("SCHEMA_FUZZ_TALLY", "")
schema = schemathesis.openapi.from_dict(
    _schema(), config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": COVERAGE}}}))


@schema.hook
def before_generate_path_parameters(context, strategy):
    names = [parameter.name for parameter in context.operation.path_parameters]
    if not names:
        return strategy

    def known(index: int) -> dict:
        # A parameter with no record of its kind keeps a key that cannot exist, so the request is still sent.
        return {name: (KNOWN.get(name) or ["no-such-key"])[index % len(KNOWN.get(name) or [1])] for name in names}

    return st.one_of(strategy, st.integers(min_value=0, max_value=63).map(known))


@pytest.fixture
def wsgi_app():
    """Django's own WSGI handler, in the test's transaction: the request signals would close the connection the
    test database lives in, as Django's test client knows."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_city(city, stages, consulting, media_root):
    """Cases at every stage, a consultation, a dispute and an attachment, so that lists and details have rows
    with their empty and their filled fields alike."""
    from cases.services import attachment_add, case_dispute
    from tests.support.cases import pdf_upload

    for stage in ("triage", "routed", "in_progress", "awaiting_supplement", "submitted", "resolved"):
        stages(stage)
    consulting.ask(consulting.case())
    # A rule dispute, filed by the owner's head on a case it holds (disputes belong to the owner's handlers).
    case_dispute(case=stages.routed(), actor=city.user("head"), reason="Theo quy định, việc này thuộc Sở Tài chính")
    attachment_add(case=stages.in_progress(), actor=city.user("specialist"), upload=pdf_upload())
    KNOWN.clear()
    KNOWN.update({
        "reference": list(Case.unscoped.values_list("reference", flat=True)),
        "id": sorted({*Consultation.unscoped.values_list("id", flat=True), *RuleDispute.objects.values_list(
            "id", flat=True)}),
        "code": sorted({*Department.objects.values_list("code", flat=True),
                        *CaseType.objects.values_list("code", flat=True)}),
        "username": [user.username for user in city.users.values()],
        "attachment_id": list(Attachment.objects.values_list("id", flat=True)),
    })
    yield city
    KNOWN.clear()


def _fuzz(case, wsgi_app, token, role):
    failed: list[str] = []
    status = None
    try:
        response = case.call(app=wsgi_app, headers={"Authorization": f"Token {token}"})
        status = response.status_code
        case.validate_response(response, checks=CHECKS)
    except FailureGroup as group:
        failed = [type(failure).__name__ for failure in group.exceptions]
        raise
    except Exception as error:  # a server error the WSGI transport re-raised
        failed = [f"{type(error).__name__} (server error)"]
        raise
    finally:
        if TALLY:
            with open(TALLY, "a", encoding="utf-8") as tally:
                tally.write(json.dumps({"operation": case.operation.label, "role": role, "status": status,
                                        "failed": failed}) + "\n")


FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_api_as_a_clerk(case, fuzz_city, wsgi_app):
    _fuzz(case, wsgi_app, issue_token(fuzz_city.user("clerk")), "clerk")


@schema.parametrize()
@FUZZ
@pytest.mark.django_db
def test_api_as_an_admin(case, fuzz_city, wsgi_app):
    _fuzz(case, wsgi_app, issue_token(fuzz_city.user("admin")), "admin")
