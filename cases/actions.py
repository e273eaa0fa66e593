"""Every move on a case or a consultation, declared once (STYLE.md §14).

An entry names its service (which declares who may make the move, from which statuses and what it may
refuse: `services.common.case_service`), its inputs, its success message and how the page presents it. The
page form, the API endpoint with its OpenAPI description, what the case page offers and the role tests are
all made from it, so the page and the API cannot diverge. Offering is a courtesy: the service decides, and a
move it refuses is recorded and told to the person, never merely hidden.

To add a move: write its service, add its entry here, translate its strings, add its row to the role table
of the tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from rest_framework import serializers

from cases import policy, services
from cases.inputs import (
    STALE_PAGE,
    CaseItem,
    Choice,
    Day,
    Input,
    Note,
    PageContext,
    Person,
    Toggle,
    Unit,
    UnitDirectory,
    Units,
    Upload,
    routable_units,
)
from cases.models import Case, Consultation, ConsultationStatus, Outcome, Position
from cases.services.common import Move
from cases.services.handling import is_city_level
from core.clock import today
from core.periods import DATE_INPUT
from core.refusals import RefusalCode

Message = Any  # a (lazy) translated sentence with %(reference)s, or a function (case reference, input) -> str


@dataclass(frozen=True)
class Action:
    """One move: on a case (`subject="case"`) or on a consultation addressed to the user's unit."""

    slug: str
    service: Callable
    title: Any
    done: Message
    summary: str  # what the API's documentation says it does
    inputs: tuple[Input, ...] = ()
    submit_label: Any = ""
    button_class: str = "btn-primary"
    # Offered only when this also holds, beyond who may make the move and the statuses it starts from.
    offered_when: Callable[[Case], bool] | None = None
    # False for a move on one item of the case (a reconciliation per disagreement) or made from another page
    # (routing from the triage queue): its forms sit beside their items, not in the case's actions card.
    in_card: bool = True
    # What the API answers: the case as `cases/{reference}/` shows it, or the record the move made (201).
    answer: str = "case"
    subject: str = "case"
    # A move that cannot be taken back asks the page's user once more, saying what it settles; the API's
    # callers say what they mean in one request.
    confirm: Any = ""
    form_class: type | None = None  # the page's form, when its presentation needs more than the inputs
    # Presentation that depends on the case: placeholders, bounds, a label that names the current state.
    prepare: Callable[[forms.Form, Any], None] | None = None
    api_methods: tuple[str, ...] = ("post",)
    back_to: str = ""  # the page a move from a page goes back to, when its form named none

    def precheck(self, user, record) -> None:
        """A move that only some roles ever make is refused (403) before its input is read, when the person is
        not one of them: there is nothing to record. Someone acting on another unit's work is refused by the
        service instead, and the attempt recorded."""
        who = self.move.who
        if not who.refuses_outsiders and not policy.can(user, who, record):
            raise who.refusal(user, record)

    def refuse_if_stale(self, user, record, data) -> None:
        """The version the person saw is older than the case: someone else's move came first. Refused
        (`case_changed`) and recorded before the input is read, which was filled in for the case as it was (an
        assignee of a unit that no longer owns it is no field error, it is a lost race)."""
        if not self.move.versioned or self.subject != "case" or not isinstance(data, Mapping):
            return  # a body that is not an object (a JSON list): the input's serializer says what is wrong
        try:
            seen = int(data.get("version"))
        except (TypeError, ValueError):
            return  # no version, or a wrong one: the form says so, and the service checks under its lock
        if 0 < seen != record.version:  # a version below 1 was never a case's: the form says it is wrong
            services.refuse_stale(record, actor=user, expected_version=seen, attempted=self.move.attempted)

    @property
    def move(self) -> Move:
        return self.service.move

    @property
    def refuses(self) -> tuple[RefusalCode, ...]:
        return self.move.refuses

    @property
    def versioned(self) -> bool:
        return self.move.versioned

    @property
    def method_name(self) -> str:
        # `return` is a Python keyword: the method has another name, the URL keeps the contract's.
        return {"return": "return_case"}.get(self.slug, self.slug.replace("-", "_"))

    def offered(self, user, record) -> bool:
        """Whether the page offers the move to the user: the policy's rule, the statuses it starts from, and
        the entry's own condition."""
        move = self.move
        case = record if self.subject == "case" else record.case
        return (policy.can(user, move.who, record)
                and (move.statuses is None or case.status in move.statuses)
                and (self.offered_when is None or self.offered_when(record)))

    def page_form(self, record, data=None, files=None, *, page: PageContext | None = None, **kwargs) -> ActionForm:
        form_class = self.form_class or ActionForm
        return form_class(data, files, action=self, record=record, page=page or PageContext(), **kwargs)

    @cached_property
    def serializer_class(self) -> type[serializers.Serializer]:
        """The API's input, made from the same inputs as the page's form."""
        attrs: dict[str, Any] = {entry.name: entry.serializer_field() for entry in self.inputs}
        if self.versioned:
            attrs["version"] = serializers.IntegerField(
                source="expected_version", required=False, min_value=1, max_value=2**31 - 1,
                help_text="The case's `version` as the client last saw it; if the case changed since, 409 "
                          "case_changed.")
        for entry in self.inputs:
            attrs[f"validate_{entry.name}"] = _validator(entry)
        name = "".join(part.capitalize() for part in f"{self.subject}-{self.slug}".split("-")) + "Input"
        return type(name, (serializers.Serializer,), {**attrs, "__doc__": self.summary})

    def api_description(self) -> str:
        codes = ", ".join(self.refuses) or "none"
        return f"{self.summary} Refusals (409): {codes}."

    def done_message(self, reference: str, data: dict) -> str:
        return self.done(reference, data) if callable(self.done) else str(self.done) % {"reference": reference}


def _validator(entry: Input) -> Callable:
    """`validate_<name>` of the API's input: the entry's judgement with the record at hand."""

    def validate(serializer: serializers.Serializer, value: Any) -> Any:
        return entry.api_validate(value, serializer.context["record"])

    return validate


class ActionForm(forms.Form):
    """The page's form of one move on one record, with the case `version` the page showed, so that acting on
    a stale page is refused with `case_changed` instead of silently overriding someone else's move."""

    def __init__(self, data=None, files=None, *, action: Action, record, page: PageContext, **kwargs):
        self.action, self.record, self.page = action, record, page
        self.case = record if action.subject == "case" else record.case
        super().__init__(data, files, **kwargs)
        if action.versioned:
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1, initial=self.case.version,
                error_messages={"required": STALE_PAGE, "invalid": STALE_PAGE})
        for entry in action.inputs:
            self.fields[entry.name] = entry.form_field(record, page)
        self.submit_label = action.submit_label
        if action.prepare is not None:
            action.prepare(self, record)

    @property
    def title(self):
        return self.action.title

    @property
    def button_class(self) -> str:
        return self.action.button_class

    fields_template = ""

    @property
    def has_visible_fields(self) -> bool:
        return bool(self.visible_fields())

    def service_arguments(self) -> dict:
        """The service's keyword arguments, the version becoming the one it expects to find."""
        arguments = {entry.keyword: self.cleaned_data[entry.name] for entry in self.action.inputs}
        if "version" in self.cleaned_data:
            arguments["expected_version"] = self.cleaned_data["version"]
        return arguments


# --- Presentation of the moves that need more than their inputs ------------------------------------------------


@dataclass(frozen=True)
class UnitChoice:
    """One unit the consult form offers, with what the case already asked of it."""

    unit: Any
    required: bool
    checked: bool
    latest: Consultation | None  # its latest round on this case


class ConsultForm(ActionForm):
    """The rule's required consultees first, pre-checked; any other unit needs a written justification, which
    the service judges (and records its refusal), so the form does not."""

    fields_template = "cases/_consult_fields.html"

    def unit_choices(self) -> tuple[list[UnitChoice], list[UnitChoice]]:
        """(the rule's required consultees in the rule's order, every other unit)."""
        from cases.measures import latest_rounds
        from cases.services.consultations import required_consultee_codes

        units = (self.page.units or UnitDirectory(self.fields["departments"].queryset)).consultable(self.case)
        latest = latest_rounds(self.case.consultations.all())
        by_code = {unit.code: unit for unit in units}
        required = [by_code[code] for code in required_consultee_codes(self.case) if code in by_code]
        chosen = set(self["departments"].value() or ()) if self.is_bound else None

        def choice(unit, is_required):
            # Unbound, a required unit is pre-checked until it has been asked; a new round is a deliberate choice.
            checked = unit.code in chosen if chosen is not None else is_required and unit.pk not in latest
            return UnitChoice(unit, is_required, checked, latest.get(unit.pk))

        required_pks = {unit.pk for unit in required}
        return ([choice(unit, True) for unit in required],
                [choice(unit, False) for unit in units if unit.pk not in required_pks])


def transfer_targets(case: Case, page: PageContext) -> Sequence:
    if page.units is not None:
        return page.units.routable(exclude_pk=case.owner_id)
    return routable_units().exclude(pk=case.owner_id)


def routing_targets(case: Case, page: PageContext) -> Sequence:
    return page.units.routable() if page.units is not None else routable_units()


def owner_handlers(case: Case, page: PageContext) -> Sequence:
    return services.handlers_of(case.owner_id) if case.owner_id else []


def consulted_handlers(consultation: Consultation, page: PageContext) -> Sequence:
    # The inbox reads the unit's handlers once for all its rows.
    return page.handlers if page.handlers is not None else services.handlers_of(consultation.department_id)


def extension_bounds(form: ActionForm, case: Case) -> None:
    if case.due_date:
        field = form.fields["due_date"]
        # A hint for the date picker; the service judges the date (after the due date, a working day).
        field.widget.attrs["min"] = (case.due_date + dt.timedelta(days=1)).isoformat()
        field.help_text = _("Once only, and at least one working day before the current due date, "
                            "%(due)s; the new date must be a working day.") % {"due": f"{case.due_date:%d/%m/%Y}"}


def key_task_toggle(form: ActionForm, case: Case) -> None:
    """A toggle: the page posts the flag the case should have, the opposite of the one it showed."""
    form.fields["key_task"].initial = not case.key_task
    form.submit_label = _("No longer a key task") if case.key_task else _("Mark as key task")


def settlement_day(form: ActionForm, case: Case) -> None:
    field = form.fields["settled_on"]
    field.initial = today
    field.widget.attrs["max"] = today().strftime(DATE_INPUT)


def assignee_now(form: ActionForm, record) -> None:
    if record.assignee_id and "assignee" not in form.initial:
        form.fields["assignee"].initial = record.assignee.username


def routed(reference: str, data: dict) -> str:
    return _("Case %(reference)s routed to %(owner)s.") % {"reference": reference, "owner": data["to"].name}


def extended(reference: str, data: dict) -> str:
    return _("The due date of case %(reference)s is now %(due)s.") % {
        "reference": reference, "due": f"{data['due_date']:%d/%m/%Y}"}


def key_task_set(reference: str, data: dict) -> str:
    if data["key_task"]:
        return _("Case %(reference)s is marked as a key task.") % {"reference": reference}
    return _("Case %(reference)s is no longer a key task.") % {"reference": reference}


# --- The registry -------------------------------------------------------------------------------------------------


def _registry(actions: Sequence[Action]) -> dict[str, Action]:
    return {action.slug: action for action in actions}


# A late answer still counts (it replaces the presumed agreement), so a silence can be answered too.
ANSWERABLE = (ConsultationStatus.OPEN, ConsultationStatus.DEEMED_AGREED)
NOTE_HELP_LIST = gettext_lazy("List everything missing, one item per line: the applicant may be asked only once.")

# Return and transfer are offered even when the rules give the case to the owner: the service refuses
# them with within_own_authority and the refusal is recorded, which is the point (DESIGN.md §2 rules 3, 5).
CASE_ACTIONS: dict[str, Action] = _registry([
    Action("accept", services.case_accept, gettext_lazy("Accept"),
           gettext_lazy("You accepted case %(reference)s and are its assignee."),
           "A handler of the owner department takes the case on and becomes its assignee.",
           submit_label=gettext_lazy("Accept the case")),
    Action("assign", services.case_assign, gettext_lazy("Assign"), gettext_lazy("Case %(reference)s assigned."),
           "The owner's head or deputy names the one responsible handler.",
           inputs=(Person("assignee", gettext_lazy("Assignee"), offer=owner_handlers),),
           submit_label=gettext_lazy("Assign"), prepare=assignee_now),
    Action("propose", services.case_propose, gettext_lazy("Propose a resolution"),
           gettext_lazy("Your proposal for case %(reference)s is recorded."),
           "A handler proposes how to settle the case.",
           inputs=(Note("note", gettext_lazy("Proposed resolution"), rows=3),),
           submit_label=gettext_lazy("Propose"), button_class="btn-outline-primary"),
    Action("consult", services.case_consult, gettext_lazy("Ask for opinions"),
           gettext_lazy("Opinions on case %(reference)s are requested."),
           "A handler of the owner asks other units for their opinion; answers 201 with the consultations it "
           "opened. Any unit the rule does not require needs a justification.",
           inputs=(Units("departments", gettext_lazy("Departments to consult"),
                         help_text="Codes of the units to consult."),
                   Note("question", gettext_lazy("Question"), rows=3),
                   Note("justification", gettext_lazy("Why consult units the rule does not require"), required=False,
                        help_text=gettext_lazy("Needed when you ask a unit the rule does not require; such requests "
                                               "are counted as non-required."))),
           submit_label=gettext_lazy("Send the request"), answer="consultations", form_class=ConsultForm),
    Action("resolve", services.case_resolve, gettext_lazy("Resolve"), gettext_lazy("Case %(reference)s resolved."),
           "The owner's head or deputy settles a department-level matter.",
           inputs=(Note("note", gettext_lazy("Resolution"), rows=3),),
           submit_label=gettext_lazy("Resolve the case"), button_class="btn-success",
           offered_when=lambda case: not is_city_level(case),
           confirm=gettext_lazy("The case will be settled with this resolution and leave your unit's open work; "
                                "it cannot be reopened.")),
    Action("submit", services.case_submit, gettext_lazy("Submit to the City Committee"),
           gettext_lazy("Case %(reference)s submitted to the City Committee."),
           "The owner's head or deputy sends a city-level matter to the City Committee, once the required "
           "opinions are in and every disagreement is reconciled.",
           inputs=(Note("summary", gettext_lazy("Summary for the City Committee"), rows=4),),
           submit_label=gettext_lazy("Submit"), offered_when=is_city_level,
           confirm=gettext_lazy("The case goes to the City Committee with this summary; your unit cannot change "
                                "it until the Committee decides.")),
    Action("decide", services.case_decide, gettext_lazy("Record the City Committee's decision"),
           gettext_lazy("The City Committee's decision on case %(reference)s is recorded."),
           "The city office records the City Committee's decision: approved or rejected settles the case, rework "
           "sends it back to the owner.",
           inputs=(Choice("outcome", gettext_lazy("Outcome"), choices=Outcome.choices),
                   Note("note", gettext_lazy("Decision note"), required=False)),
           submit_label=gettext_lazy("Record the decision"),
           confirm=gettext_lazy("The City Committee's decision is recorded as chosen; it cannot be changed "
                                "afterwards.")),
    Action("request-supplement", services.case_request_supplement, gettext_lazy("Ask the applicant for a supplement"),
           gettext_lazy("The applicant of case %(reference)s is asked for a supplement; its clock is stopped."),
           "Ask the applicant, once and within the allowed working days of receipt, for everything missing; the "
           "case's clock stops.",
           inputs=(Note("items", gettext_lazy("Documents missing"), rows=4, help_text=NOTE_HELP_LIST),),
           submit_label=gettext_lazy("Request the supplement"), button_class="btn-outline-primary",
           offered_when=lambda case: case.supplement_requested_at is None),
    Action("complete-supplement", services.case_complete_supplement, gettext_lazy("Supplement received"),
           gettext_lazy("Case %(reference)s is complete; its clock runs again."),
           "The dossier is complete; the clock restarts.",
           inputs=(Note("note", gettext_lazy("Note"), required=False),),
           submit_label=gettext_lazy("Mark the dossier complete")),
    Action("return", services.case_return, gettext_lazy("Return the case"),
           gettext_lazy("Case %(reference)s returned to the intake desk."),
           "Return a case the rules do not give the owner to the intake desk of the unit that received it; the "
           "answer names the competent unit.",
           inputs=(Note("reason", gettext_lazy("Why it is outside your unit's functions")),),
           submit_label=gettext_lazy("Return"), button_class="btn-outline-danger",
           confirm=gettext_lazy("The case leaves your unit and goes back to the intake desk's triage queue.")),
    Action("transfer", services.case_transfer, gettext_lazy("Transfer to the competent unit"),
           gettext_lazy("Case %(reference)s transferred."),
           "The owner's head or deputy passes the case to the unit the rules name today.",
           inputs=(Unit("to", gettext_lazy("Transfer to"), offer=transfer_targets),
                   Note("reason", gettext_lazy("Reason"))),
           submit_label=gettext_lazy("Transfer"), button_class="btn-outline-danger",
           confirm=gettext_lazy("The case leaves your unit for the unit chosen, which takes it over.")),
    Action("dispute", services.case_dispute, gettext_lazy("Dispute the authority rule"),
           gettext_lazy("Your rule dispute on case %(reference)s is filed for the administrators."),
           "File a rule dispute instead of returning own-authority work; answers 201 with the dispute.",
           inputs=(Note("reason", gettext_lazy("Why the rule is wrong"), rows=3),),
           submit_label=gettext_lazy("File a rule dispute"), button_class="btn-outline-secondary", answer="dispute"),
    Action("attachments", services.attachment_add, gettext_lazy("Add a file"),
           gettext_lazy("File added to case %(reference)s."),
           "The case's files; POST (multipart `file`) adds one: the owner department and the intake desk.",
           inputs=(Upload("file", gettext_lazy("File"), argument="upload"),), submit_label=gettext_lazy("Upload"),
           button_class="btn-outline-primary", answer="attachment", api_methods=("get", "post")),
    Action("reconcile", services.case_reconcile, gettext_lazy("Reconcile the disagreement"),
           gettext_lazy("The settlement of the disagreement on case %(reference)s is recorded."),
           "The owner's head or deputy records how a disagreement was settled, so the case may be submitted.",
           inputs=(CaseItem("consultation", relation="consultations", hidden=True,
                            help_text="Id of the consultation whose disagreement was settled.",
                            unknown=gettext_lazy("This case has no consultation with this id."),
                            missing=gettext_lazy("The page did not say which answer you reconcile; reload it.")),
                   Note("note", gettext_lazy("How the disagreement was settled"), rows=3),
                   Day("settled_on", gettext_lazy("Settled on"), required=False,
                       help_text=gettext_lazy("Empty: today.")),
                   CaseItem("attachment", gettext_lazy("Supporting file"), required=False, relation="attachments",
                            blank_label=gettext_lazy("None"), help_text="Id of one of this case's attachments.",
                            unknown=gettext_lazy("This case has no attachment with this id."))),
           submit_label=gettext_lazy("Record the settlement"), button_class="btn-outline-primary", in_card=False,
           prepare=settlement_day),
    # Offered on the due day and after it too: a late request then meets the service's recorded refusal
    # (extension_too_late, DESIGN.md §3) instead of a button that silently vanished.
    Action("extend", services.case_extend, gettext_lazy("Extend the deadline"), extended,
           "The owner's head or deputy moves the due date once, at least one working day before it falls; a "
           "citizen's dossier then has its apology letter.",
           inputs=(Day("due_date", gettext_lazy("New due date"),
                       help_text="The new due date: after the current one, and a working day."),
                   Note("reason", gettext_lazy("Reason for the delay"), rows=3, help_text=gettext_lazy(
                       "For a citizen's dossier it is written in the apology letter to the applicant."))),
           submit_label=gettext_lazy("Move the due date"), button_class="btn-warning",
           offered_when=lambda case: case.extended_at is None, prepare=extension_bounds),
    Action("key-task", services.case_set_key_task, gettext_lazy("Key task flag"), key_task_set,
           "The owner's head or deputy, or the city office, marks (true) or unmarks (false) a key task, which every "
           "list shows first.",
           inputs=(Toggle("key_task"),), button_class="btn-outline-warning", prepare=key_task_toggle),
    Action("route", services.case_route, gettext_lazy("Route"), routed,
           "The intake desk routes a case waiting in its triage queue to its owner.",
           inputs=(Unit("to", pgettext_lazy("unit", "Department"), offer=routing_targets),
                   Note("note", gettext_lazy("Note"), required=False)),
           submit_label=gettext_lazy("Route"), in_card=False, back_to="triage"),
])

CONSULTATION_ACTIONS: dict[str, Action] = _registry([
    Action("respond", services.consultation_respond, gettext_lazy("Give your unit's opinion"),
           gettext_lazy("Your unit's opinion on case %(reference)s is sent."),
           "The consulted unit gives its opinion; a comment is required unless it agrees, and not_competent opens "
           "a rule dispute.",
           inputs=(Choice("position", gettext_lazy("Position"), choices=Position.choices, radio=True),
                   Note("comment", gettext_lazy("Comments or reasons"), required=False, rows=3,
                        help_text=gettext_lazy("Required unless you simply agree."))),
           submit_label=gettext_lazy("Send the answer"), subject="consultation",
           offered_when=lambda consultation: consultation.status in ANSWERABLE),
    Action("assign", services.consultation_assign, gettext_lazy("Assign the request"),
           gettext_lazy("The request on case %(reference)s is assigned."),
           "The consulted unit's head or deputy names who prepares the answer.",
           inputs=(Person("assignee", gettext_lazy("Assignee"), offer=consulted_handlers,
                          help_text="A handler of the consulted unit."),),
           submit_label=gettext_lazy("Assign"), subject="consultation",
           offered_when=lambda consultation: consultation.status == ConsultationStatus.OPEN, prepare=assignee_now),
])
