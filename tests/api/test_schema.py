from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

API_PATHS = {"/api/v1/auth/token/", "/api/v1/departments/", "/api/v1/departments/{code}/", "/api/v1/staff/",
             "/api/v1/staff/{username}/", "/api/v1/case-types/", "/api/v1/case-types/{code}/",
             "/api/v1/authority-rules/", "/api/v1/authority-rules/{id}/", "/api/v1/calendar/days/",
             "/api/v1/calendar/days/{date}/", "/api/v1/routing/preview/", "/api/v1/cases/",
             "/api/v1/cases/{reference}/", "/api/v1/cases/{reference}/route/",
             "/api/v1/cases/{reference}/consult/", "/api/v1/cases/{reference}/reconcile/", "/api/v1/consultations/",
             "/api/v1/consultations/{id}/", "/api/v1/consultations/{id}/respond/",
             "/api/v1/consultations/{id}/assign/"}


def test_schema_and_docs_answer_anonymously(db):
    client = APIClient()

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert set(schema.json()["paths"]) >= API_PATHS
    assert docs.status_code == 200


def test_schema_generates_without_warnings_and_validates(db):
    GENERATOR_STATS.reset()

    schema = SchemaGenerator().get_schema(request=None, public=True)

    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    validate_schema(schema)


def test_schema_documents_case_filters_and_token_auth(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)

    parameters = {p["name"] for p in schema["paths"]["/api/v1/cases/"]["get"]["parameters"]}
    assert {"status", "owner", "assignee", "overdue", "key_task", "q", "page", "page_size"} <= parameters
    assert "tokenAuth" in schema["components"]["securitySchemes"]
    created = schema["paths"]["/api/v1/cases/"]["post"]["responses"]
    assert "201" in created
