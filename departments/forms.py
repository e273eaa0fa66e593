"""The routing inputs, parsed once for the intake form and the admin's routing tester.

Both pages show what `departments.routing.preview()` decides for the same four inputs; keeping the parsing
and the presentation of that decision here means the tester can never disagree with intake.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from crispy_forms.bootstrap import AppendedText
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import day_field
from core.periods import within_calendar
from departments import routing
from departments.models import CaseType, DecisionLevel, Department
from departments.workdays import local_date

# Dates the routing pages accept: a typo like 0025 or 9999 must become a form error, not a date overflow.
EARLIEST_RECEIPT = dt.date(2000, 1, 1)
LATEST_TESTED_RECEIPT = dt.date(2099, 12, 31)


def check_receipt_date(day: dt.date, *, latest: dt.date = LATEST_TESTED_RECEIPT) -> None:
    if day < EARLIEST_RECEIPT:
        raise forms.ValidationError(_("Enter a date from %(earliest)s on."), code="too_early",
                                    params={"earliest": EARLIEST_RECEIPT.strftime("%d/%m/%Y")})
    if day > latest:
        raise forms.ValidationError(_("Enter a date up to %(latest)s."), code="too_late",
                                    params={"latest": latest.strftime("%d/%m/%Y")})


@dataclass(frozen=True)
class ConflictingRule:
    id: int
    owner: Department


@dataclass(frozen=True)
class RoutingOutcome:
    """A routing preview with the departments named, ready for a template."""

    reason: str
    rule_id: int | None = None
    owner: Department | None = None
    decision_level: str = ""
    legal_basis: str = ""
    processing_days: int | None = None
    due_date: dt.date | None = None
    consultees: list[Department] = field(default_factory=list)
    conflicting: list[ConflictingRule] = field(default_factory=list)

    @property
    def routed(self) -> bool:
        return self.owner is not None

    @property
    def decision_level_label(self) -> str:
        return DecisionLevel(self.decision_level).label if self.decision_level else ""

    @classmethod
    def from_preview(cls, preview: routing.Preview) -> RoutingOutcome:
        rule, decision = preview.rule, preview.decision
        owner_ids = {e.owner_id for e in decision.conflicting} | ({rule.owner_id} if rule else set())
        codes = set(rule.consultee_codes) if rule else set()
        # One query names every unit the decision mentions.
        units = Department.objects.filter(Q(pk__in=owner_ids) | Q(code__in=codes)) if owner_ids or codes else []
        by_id = {unit.pk: unit for unit in units}
        by_code = {unit.code: unit for unit in by_id.values()}
        conflicting = [ConflictingRule(id=e.id, owner=by_id[e.owner_id]) for e in decision.conflicting]
        if rule is None:
            return cls(reason=decision.reason, conflicting=conflicting)
        return cls(
            reason="", rule_id=rule.id, owner=by_id[rule.owner_id], decision_level=rule.decision_level,
            legal_basis=rule.legal_basis, processing_days=rule.processing_days, due_date=preview.due_date,
            consultees=[by_code[code] for code in rule.consultee_codes if code in by_code],
        )


class RoutingInputsForm(forms.Form):
    """Case type, locality and amount: what the authority rules match on (DESIGN.md §3)."""

    case_type = forms.ModelChoiceField(
        label=_("Case type"), queryset=CaseType.objects.filter(active=True), to_field_name="code",
    )
    locality = forms.ModelChoiceField(
        label=_("Locality"), queryset=Department.objects.localities().order_by("name"), to_field_name="code",
        required=False, empty_label=_("Whole city / not specific to one locality"),
        help_text=_("The district or commune where the matter arises."),
    )
    amount = forms.DecimalField(
        label=_("Amount"), required=False, min_value=0, max_digits=18, decimal_places=0,
        help_text=_("Value of the matter, when the rules depend on it."),
    )

    def receipt_date(self) -> dt.date:
        raise NotImplementedError

    def routing_outcome(self) -> RoutingOutcome:
        """What the rules decide for the cleaned inputs; call only on a valid form."""
        data = self.cleaned_data
        preview = routing.preview(
            case_type_id=data["case_type"].pk, locality_id=data["locality"].pk if data.get("locality") else None,
            amount=data.get("amount"), received_on=self.receipt_date(),
        )
        return RoutingOutcome.from_preview(preview)


class RoutingTesterForm(RoutingInputsForm):
    received_on = day_field(_("Date of receipt"), required=False, help_text=_("Empty: today."),
                            validators=[within_calendar], min=EARLIEST_RECEIPT.isoformat(),
                            max=LATEST_TESTED_RECEIPT.isoformat())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Row(Column("case_type", css_class="col-md-6"), Column("locality", css_class="col-md-6")),
            Row(Column(AppendedText("amount", "VND"), css_class="col-md-6"),
                Column("received_on", css_class="col-md-6")),
        )

    def clean_received_on(self) -> dt.date | None:
        day = self.cleaned_data.get("received_on")
        if day is not None:
            # Future dates are allowed here: the admin checks rules that come into force later.
            check_receipt_date(day)
        return day

    def receipt_date(self) -> dt.date:
        return self.cleaned_data.get("received_on") or local_date(timezone.now())
