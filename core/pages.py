"""What the pages of every app share: paging, and how a refused or invalid move is told to the person."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.refusals import Refused

PAGE_SIZE = 25


def add_service_errors(form: Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form has one, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


def error_sentences(form: Form) -> str:
    """A form's errors as one line for a message: “Label: what is wrong”, hidden fields without a label."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        text = " ".join(str(error) for error in errors)
        parts.append(f"{field.label}: {text}" if field is not None and not field.widget.is_hidden else text)
    return "; ".join(parts)


def next_page(request) -> str | None:
    """The page a form asked to come back to, if it is one of this site's."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return None


def not_done(action_title: str, reason: str) -> str:
    return _("%(action)s was not done: %(reason)s") % {"action": action_title, "reason": reason}


def tell_refusal(request, action_title, refusal: Refused) -> None:
    """A refused move, as the person who tried it reads it; the service has recorded it already."""
    messages.error(request, _("%(action)s was refused: %(detail)s") % {"action": action_title,
                                                                       "detail": refusal.detail},
                   extra_tags="refusal")


def tell_invalid(request, form: Form, action_title, error: ValidationError | None = None) -> None:
    """Bad input, on the form (with the service's field errors, if any) and as one message."""
    if error is not None:
        add_service_errors(form, error)
    messages.error(request, not_done(action_title, error_sentences(form)))
