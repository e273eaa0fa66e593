"""The moves of `cases.actions` as pages: what the case page offers, and the one view that runs any of them.

A move from a page is read by its entry's form, made by its service, and ends in a message: success, a
refusal (recorded by the service) or bad input, then back to where the person was.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases import policy, services
from cases.actions import CASE_ACTIONS, CONSULTATION_ACTIONS, Action
from cases.inputs import PageContext
from cases.models import Case
from core.pages import next_page, tell_invalid, tell_refusal
from core.refusals import Refused


def competence_hint(case: Case, competent) -> str:
    if competent is None:
        return _("The rules, applied today, name no competent unit: a returned case goes back to the intake "
                 "desk's triage queue.")
    if competent.pk == case.owner_id:
        return _("The rules, applied today, give this case to your unit, so returning or transferring it will be "
                 "refused. If you believe the rule is wrong, file a rule dispute.")
    return _("The rules, applied today, name %(unit)s as the competent unit.") % {"unit": competent.name}


def offered_actions(case: Case, user, *, page: PageContext) -> list[dict]:
    """The action forms the case page's actions card shows this user, each ready to post with the case's
    version; the page's units spare each form its own query."""
    slugs = [slug for slug, action in CASE_ACTIONS.items() if action.in_card and action.offered(user, case)]
    competent, hint = None, ""
    if {"return", "transfer"} & set(slugs):
        decision = services.routing_decision(case)
        competent = page.units.by_pk.get(decision.rule.owner_id) if decision.rule else None
        hint = competence_hint(case, competent)
    offered = []
    for slug in slugs:
        initial = {"to": competent.code} if slug == "transfer" and competent and competent.pk != case.owner_id else {}
        form = CASE_ACTIONS[slug].page_form(case, page=page, initial=initial, auto_id=f"id_{slug}_%s")
        offered.append({"slug": slug, "form": form, "url": reverse("case-action", args=[case.reference, slug]),
                        "hint": hint if slug in ("return", "transfer") else "",
                        "competent": competent if slug in ("return", "transfer") else None})
    return offered


def back_to_case(request, case: Case, action: Action):
    """After a case action: where the page said to go back to, else the case if the user still sees it
    (a returned or transferred case leaves the unit's sight), else the user's queue."""
    target = next_page(request)
    if target:
        return redirect(target)
    if action.back_to:
        return redirect(action.back_to)
    if policy.cases_visible_to(request.user).filter(pk=case.pk).exists():
        return redirect("case-detail", reference=case.reference)
    return redirect("case-list")


def confirmation(request, action: Action, record, form) -> HttpResponse:
    """The second step of a move that cannot be taken back: what it will do, with what was typed, and the same
    post again with `confirmed` to make it (the version it was based on included, so a change meanwhile is
    still refused)."""
    case = record if action.subject == "case" else record.case
    shown = []
    for field in form.visible_fields():
        value = form.cleaned_data.get(field.name)
        choices = dict(getattr(field.field, "choices", ()) or ())
        shown.append((field.label, choices.get(value, value) if choices and not hasattr(value, "pk") else value))
    resent = [(name, value) for name, values in request.POST.lists() if name not in ("csrfmiddlewaretoken", "confirmed")
              for value in values]
    return render(request, "cases/confirm_action.html", {
        "case": case, "action": action, "shown": shown, "resent": resent, "url": request.path,
        "back": next_page(request) or reverse("case-detail", args=[case.reference])})


def run(request, action: Action, record) -> bool | HttpResponse:
    """Read the input with the entry's form, make the move, tell the outcome; True when it was made, the
    confirmation page when the move asks for one and has not had it yet."""
    action.precheck(request.user, record)
    case = record if action.subject == "case" else record.case
    try:
        action.refuse_if_stale(request.user, record, request.POST)
    except Refused as refusal:
        tell_refusal(request, action.title, refusal)
        return False
    form = action.page_form(record, request.POST, request.FILES)
    if not form.is_valid():
        tell_invalid(request, form, action.title)
        return False
    if action.confirm and request.POST.get("confirmed") != "yes":
        return confirmation(request, action, record, form)
    try:
        action.service(**{action.subject: record}, actor=request.user, **form.service_arguments())
    except Refused as refusal:
        tell_refusal(request, action.title, refusal)
    except ValidationError as error:
        tell_invalid(request, form, action.title, error)
    else:
        messages.success(request, action.done_message(case.reference, form.cleaned_data))
        return True
    return False


@require_POST
@login_required
def case_action(request, reference: str, action: str):
    """Run one case action: success, a refusal (recorded by the service) or bad input each end in a message."""
    spec = CASE_ACTIONS[action]
    case = policy.case_to_act_on(request.user, reference, policy.cases_visible_to(request.user).select_related("owner"))
    done = run(request, spec, case)
    if isinstance(done, HttpResponse):
        return done
    return back_to_case(request, case, spec)


@require_POST
@login_required
def consultation_action(request, consultation_id: int, action: str):
    """A move on a consultation, only by the unit it is addressed to: for anyone else it does not exist (404,
    and nothing is recorded), whoever sees its case."""
    spec = CONSULTATION_ACTIONS[action]
    consultation = get_object_or_404(policy.consultations_addressed_to(request.user).select_related(
        "case", "department"), pk=consultation_id)
    done = run(request, spec, consultation)
    if isinstance(done, HttpResponse):
        return done
    return redirect(next_page(request) or "consultations")
