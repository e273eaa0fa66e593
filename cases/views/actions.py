"""Every case action from a page goes through one view, driven by the table below.

Each entry names the form that reads the input, the service that judges and makes the move, the message
on success, and when the detail page offers it. Offering is a courtesy: the service decides, and a
move it refuses is recorded on the case and told to the person, never merely hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases import forms, services
from cases.forms.units import UnitDirectory
from cases.models import Case, Status
from cases.refusals import Refused
from cases.selectors import cases_visible_to, staff_of
from cases.services.attachments import may_attach
from cases.services.common import HANDLER_ROLES, LEAD_ROLES
from cases.services.deadlines import EXTENDABLE
from cases.services.handling import ASSIGNABLE, RETURNABLE, is_city_level
from cases.views.common import add_service_errors, back_to_case, error_sentences, not_done
from departments.models import Role


@dataclass(frozen=True)
class Viewer:
    """What the signed-in user may be offered on one case."""

    handler: bool  # handles cases in the owner department
    lead: bool  # its head or deputy head
    records_decisions: bool  # the city office (or an admin)
    attaches: bool
    sets_key_task: bool  # the owner's head or deputy, or the city office

    @classmethod
    def of(cls, user, case: Case) -> Viewer:
        staff = staff_of(user)
        member = staff is not None and case.owner_id is not None and staff.department_id == case.owner_id
        # may_attach's own test, minus its visibility query: the page found the case through cases_visible_to.
        attaches = staff is not None and (member or staff.role == Role.CLERK)
        return cls(handler=member and staff.role in HANDLER_ROLES, lead=member and staff.role in LEAD_ROLES,
                   records_decisions=services.may_record_decisions(user), attaches=attaches,
                   sets_key_task=services.may_set_key_task(case, user))


@dataclass(frozen=True)
class CaseAction:
    form: type[forms.CaseActionForm]
    service: Callable
    # The success message, with %(reference)s; or, when it depends on the input, a function of the case's
    # reference and the form's cleaned data that returns the message.
    done: str | Callable[[str, dict], str]
    offered: Callable[[Case, Viewer], bool]
    # Checked before the input is read, for a service whose only refusal is 403 (nothing to record).
    guard: Callable | None = None
    # False for an action on one item of the case (a reconciliation per disagreement): its forms sit beside
    # the items on the page, not in the actions card.
    in_card: bool = True


def offered_to(statuses, *, lead: bool = False, when: Callable[[Case], bool] | None = None):
    """Offered to the owner's handlers (or only its head and deputy) while the case is in one of `statuses`."""

    def offered(case: Case, viewer: Viewer) -> bool:
        return ((viewer.lead if lead else viewer.handler) and case.status in statuses
                and (when is None or when(case)))

    return offered


def extended(reference: str, data: dict) -> str:
    return _("The due date of case %(reference)s is now %(due)s.") % {
        "reference": reference, "due": f"{data['due_date']:%d/%m/%Y}"}


def key_task_set(reference: str, data: dict) -> str:
    if data["key_task"]:
        return _("Case %(reference)s is marked as a key task.") % {"reference": reference}
    return _("Case %(reference)s is no longer a key task.") % {"reference": reference}


# Return and transfer are offered even when the rules give the case to the owner: the service refuses
# them with within_own_authority and the refusal is recorded, which is the point (DESIGN.md §2 rules 3, 5).
ACTIONS: dict[str, CaseAction] = {
    "accept": CaseAction(forms.AcceptForm, services.case_accept,
                         gettext_lazy("You accepted case %(reference)s and are its assignee."),
                         offered_to([Status.ROUTED])),
    "assign": CaseAction(forms.AssignForm, services.case_assign, gettext_lazy("Case %(reference)s assigned."),
                         offered_to(ASSIGNABLE, lead=True)),
    "propose": CaseAction(forms.ProposeForm, services.case_propose,
                          gettext_lazy("Your proposal for case %(reference)s is recorded."),
                          offered_to([Status.IN_PROGRESS])),
    "consult": CaseAction(forms.ConsultForm, services.case_consult,
                          gettext_lazy("Opinions on case %(reference)s are requested."),
                          offered_to([Status.IN_PROGRESS])),
    "resolve": CaseAction(forms.ResolveForm, services.case_resolve, gettext_lazy("Case %(reference)s resolved."),
                          offered_to([Status.IN_PROGRESS], lead=True, when=lambda case: not is_city_level(case))),
    "submit": CaseAction(forms.SubmitForm, services.case_submit,
                         gettext_lazy("Case %(reference)s submitted to the City Committee."),
                         offered_to([Status.IN_PROGRESS], lead=True, when=is_city_level)),
    "decide": CaseAction(forms.DecideForm, services.case_decide,
                         gettext_lazy("The City Committee's decision on case %(reference)s is recorded."),
                         lambda case, viewer: viewer.records_decisions and case.status == Status.SUBMITTED),
    "request-supplement": CaseAction(forms.RequestSupplementForm, services.case_request_supplement,
                                     gettext_lazy("The applicant of case %(reference)s is asked for a supplement; "
                                                  "its clock is stopped."),
                                     offered_to([Status.IN_PROGRESS],
                                                when=lambda case: case.supplement_requested_at is None)),
    "complete-supplement": CaseAction(forms.CompleteSupplementForm, services.case_complete_supplement,
                                      gettext_lazy("Case %(reference)s is complete; its clock runs again."),
                                      offered_to([Status.AWAITING_SUPPLEMENT])),
    "return": CaseAction(forms.ReturnForm, services.case_return,
                         gettext_lazy("Case %(reference)s returned to the intake desk."), offered_to(RETURNABLE)),
    "transfer": CaseAction(forms.TransferForm, services.case_transfer, gettext_lazy("Case %(reference)s transferred."),
                           offered_to(RETURNABLE, lead=True)),
    "dispute": CaseAction(forms.DisputeForm, services.case_dispute,
                          gettext_lazy("Your rule dispute on case %(reference)s is filed for the administrators."),
                          offered_to(RETURNABLE)),
    "attachments": CaseAction(forms.AttachmentForm, services.attachment_add,
                              gettext_lazy("File added to case %(reference)s."),
                              lambda case, viewer: viewer.attaches, guard=may_attach),
    "reconcile": CaseAction(forms.ReconcileForm, services.case_reconcile,
                            gettext_lazy("The settlement of the disagreement on case %(reference)s is recorded."),
                            offered_to([Status.IN_PROGRESS], lead=True), in_card=False),
    # Offered on the due day and after it too: a late request then meets the service's recorded refusal
    # (extension_too_late, DESIGN.md §3) instead of a button that silently vanished.
    "extend": CaseAction(forms.ExtendForm, services.case_extend, extended,
                         offered_to(EXTENDABLE, lead=True, when=lambda case: case.extended_at is None)),
    "key-task": CaseAction(forms.KeyTaskForm, services.case_set_key_task, key_task_set,
                           lambda case, viewer: viewer.sets_key_task and case.status != Status.RESOLVED,
                           guard=services.may_set_key_task),
}


def competence_hint(case: Case, competent) -> str:
    if competent is None:
        return _("The rules, applied today, name no competent unit: a returned case goes back to the intake "
                 "desk's triage queue.")
    if competent.pk == case.owner_id:
        return _("The rules, applied today, give this case to your unit, so returning or transferring it will be "
                 "refused. If you believe the rule is wrong, file a rule dispute.")
    return _("The rules, applied today, name %(unit)s as the competent unit.") % {"unit": competent.name}


def offered_actions(case: Case, user, *, viewer: Viewer | None = None,
                    units: UnitDirectory | None = None) -> list[dict]:
    """The action forms the detail page's actions card shows this user, each ready to post with the case's
    version; `units`, when the page has read them, spares each form its own query."""
    viewer = viewer or Viewer.of(user, case)
    slugs = [slug for slug, action in ACTIONS.items() if action.in_card and action.offered(case, viewer)]
    competent, hint = None, ""
    if {"return", "transfer"} & set(slugs):
        if units is None:
            competent = services.competent_department(case)
        else:
            # services.competent_department, with the owner taken from the units already read.
            decision = services.routing_decision(case)
            competent = units.by_pk.get(decision.rule.owner_id) if decision.rule else None
        hint = competence_hint(case, competent)
    offered = []
    for slug in slugs:
        initial = {"to": competent} if slug == "transfer" and competent and competent.pk != case.owner_id else {}
        form = ACTIONS[slug].form(case=case, initial=initial, units=units, auto_id=f"id_{slug}_%s")
        offered.append({"slug": slug, "form": form, "url": reverse("case-action", args=[case.reference, slug]),
                        "hint": hint if slug in ("return", "transfer") else "",
                        "competent": competent if slug in ("return", "transfer") else None})
    return offered


@require_POST
@login_required
def case_action(request, reference: str, action: str):
    """Run one case action: success, a refusal (recorded by the service) or bad input each end in a message."""
    spec = ACTIONS[action]
    case = get_object_or_404(cases_visible_to(request.user).select_related("owner"), reference=reference)
    if spec.guard is not None and not spec.guard(case, request.user):
        raise PermissionDenied
    form = spec.form(request.POST, request.FILES, case=case)
    if not form.is_valid():
        messages.error(request, not_done(spec.form.title, error_sentences(form)))
        return back_to_case(request, case)
    try:
        spec.service(case=case, actor=request.user, **form.service_arguments())
    except Refused as refusal:
        messages.error(request, _("%(action)s was refused: %(detail)s")
                       % {"action": spec.form.title, "detail": refusal.detail}, extra_tags="refusal")
    except ValidationError as error:
        add_service_errors(form, error)
        messages.error(request, not_done(spec.form.title, error_sentences(form)))
    else:
        messages.success(request, spec.done(case.reference, form.cleaned_data) if callable(spec.done)
                         else spec.done % {"reference": case.reference})
    return back_to_case(request, case)
