"""API plumbing shared by every endpoint: authentication, pagination and the error format of DESIGN.md §5."""

import copy

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.refusals import Refused
from core.tokens import TokenAuthentication

# Token first: DRF answers an anonymous request with the first class's WWW-Authenticate challenge, and
# without one it turns "who are you?" (401) into "you may not" (403). Session auth still works second.
AUTHENTICATION_CLASSES = (TokenAuthentication, SessionAuthentication)


# What of a refusal's payload the client is told beside its code: what it needs to act on the refusal. The rest
# (cases, consultations, versions) is kept for the record only.
PUBLIC_REFUSAL_PAYLOAD = ("conflicting_rules",)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    """Refusals of the directive answer 409 `{code, detail}`; model validation answers 400 with field errors.

    A body too large (RequestDataTooBig) is left to Django's handler400 (core/pages.py), the one answer for it on
    pages and in the API alike: here 413 `{detail, code: "too_large"}`."""
    if isinstance(exc, Refused):
        body = {"code": exc.code, "detail": exc.detail}
        body.update({key: exc.payload[key] for key in PUBLIC_REFUSAL_PAYLOAD if key in exc.payload})
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        return Response({"detail": str(exc) or "Permission denied."}, status=status.HTTP_403_FORBIDDEN)
    return drf_exception_handler(exc, context)


class FieldsBuiltOnce:
    """For a ModelSerializer that shows rows: its fields built from the model once per class, not per instance.

    DRF reads the model's fields and builds the serializer's again for every serializer it makes (for a case in
    full, some forty fields and their nested ones, most of the cost of writing one out). Fields that depend only
    on the class are the same each time; each instance still gets its own copies, since DRF binds them to it.
    """

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built_once")
        if built is None:
            built = super().get_fields()  # type: ignore[misc]
            cls._fields_built_once = built  # type: ignore[attr-defined]
        return copy.deepcopy(built)
