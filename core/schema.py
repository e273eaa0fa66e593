"""The OpenAPI schema's view of every operation: the error answers it can give, beside its own.

Apart from core/api.py because DRF imports that module (its pagination) while its own generic views are still
being defined, and drf-spectacular's AutoSchema needs them defined.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer):
    """Every error answer but a field error: a sentence for the person, and for a refusal the rule's code."""

    code = serializers.CharField(required=False, help_text="The rule or the reason, where there is one.")
    detail = serializers.CharField()


FIELD_ERRORS = OpenApiResponse(OpenApiTypes.OBJECT, description=(
    "The request could not be read (a NUL byte, invalid UTF-8, JSON too deep or malformed) or a field is wrong: "
    "`{field: [messages]}`, `{non_field_errors: [messages]}` or `{detail}`."))
SIGNED_OUT = OpenApiResponse(ErrorSerializer, description="No credentials, or a token that expired or was revoked.")
FORBIDDEN = OpenApiResponse(ErrorSerializer, description="The signed-in person may not do this.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description=(
    "No such record, or one the signed-in person may not see; for a list, a page past its end."))
TOO_LARGE = OpenApiResponse(ErrorSerializer, description="The request body is over the size limit.")
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema with the error answers every operation can give, so that a client (and the
    schema tests) know each status an operation answers: 400 for input it cannot read, 401 and 403 where it
    authenticates, 404 where it looks a record up or pages a list, 413 for a body too large. A refusal (409)
    and a lockout (429) are the operation's own to declare, with their codes; its declarations are kept."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if field.read_only:
            null, blank = stored_emptiness(field)
            # DRF drops `allow_blank` from a model's read-only fields, and a field declared on the serializer
            # (a related record's code, a choice) says nothing of the column it reads: the column says it.
            if null:
                field.allow_null = True
            if blank and isinstance(field, serializers.ChoiceField):
                field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, answer in self.error_answers().items():
            if code not in responses:
                responses[code] = self._get_response_for_code(answer, code, direction=direction)
        return responses

    def error_answers(self) -> dict[str, OpenApiResponse]:
        answers = {"400": FIELD_ERRORS}
        if self.view.get_authenticators():
            # A token that does not authenticate is refused even where anyone may come: 401 before the view.
            answers["401"] = SIGNED_OUT
        if any(not isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            answers["403"] = FORBIDDEN
        if "{" in self.path or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            answers["404"] = NOT_FOUND
        if self.method in WRITES:
            answers["413"] = TOO_LARGE
        return answers


def stored_emptiness(field: serializers.Field) -> tuple[bool, bool]:
    """(may it read as null, may a choice read as "") for a serializer field that reads a model's column,
    through the relations of its `source`: an empty relation on the way reads as null too."""
    model = getattr(getattr(getattr(field, "parent", None), "Meta", None), "model", None)
    attrs = getattr(field, "source_attrs", None) or []
    null = blank = False
    for position, attr in enumerate(attrs):
        if model is None:
            return False, False
        try:
            column = model._meta.get_field(attr)
        except FieldDoesNotExist:  # a property or a method: its own declaration says
            return False, False
        if column.many_to_many or column.one_to_many or column.auto_created and not column.concrete:
            return False, False  # a list of related records, or a reverse relation: never a null
        null = null or bool(column.null)
        if position == len(attrs) - 1:
            blank = bool(column.blank) and bool(getattr(column, "choices", None))
        model = column.related_model
    return null, blank
