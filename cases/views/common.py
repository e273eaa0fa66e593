"""What the pages share: the intake desk's guard, paging, and how a refused or invalid move is told."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.forms import Form
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from cases.guards import page_for
from cases.selectors import cases_visible_to, is_clerk
from departments.models import Staff

PAGE_SIZE = 25


# The intake desk's pages: clerks and superusers.
clerk_required = page_for(is_clerk)


def staff_with_unit(request) -> Staff | None:
    """The signed-in user's membership with its unit, in one query, kept on the user: the page and the
    navigation bar (which names the unit) then share it instead of reading the unit again."""
    if not request.user.is_authenticated:
        return None
    staff = Staff.objects.select_related("department").filter(user=request.user).first()
    if staff is not None:
        request.user.staff = staff
    return staff


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


def back_to_case(request, case):
    """After a case action: where the page said to go back to, else the case if the user still sees it
    (a returned or transferred case leaves the unit's sight), else the user's queue."""
    target = next_page(request)
    if target:
        return redirect(target)
    if cases_visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("case-detail", reference=case.reference)
    return redirect("case-list")


def not_done(action_title: str, reason: str) -> str:
    return _("%(action)s was not done: %(reason)s") % {"action": action_title, "reason": reason}
