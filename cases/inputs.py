"""The inputs of the case actions, declared once: each kind makes the page's form field and the API's serializer
field, and both judge a value by the same look-up (DESIGN.md §5 `cases/{reference}/{action}/`).

A field that names a record (a unit, a person, one of the case's consultations or files) reads the code or id
the same way on both sides and gives the same error; what the page *offers* (a list of the plausible units, the
unit's handlers) is a courtesy of the page, while the service judges the move. So a value the page would not
offer, posted by hand, meets the service's recorded refusal exactly as it does through the API.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from cases.models import Case
from core.files import accepted_suffixes
from core.forms import MAX_NOTE_LENGTH, note_field
from core.periods import DATE_FORMATS, date_input, within_calendar
from departments.models import Department, DepartmentKind

# Ids are 64-bit; a larger number is a client's mistake that SQLite would otherwise fail on.
MAX_ID = 2**63 - 1
# More units than a city has departments is a client's mistake; the bound keeps the look-up one small query.
MAX_CONSULTED_UNITS = 50
STALE_PAGE = gettext_lazy("The page did not say which version of the case it showed; reload it and try again.")


class PageContext:
    """What a page that shows many action forms read once for all of them: the units, a unit's handlers."""

    def __init__(self, *, units: UnitDirectory | None = None, handlers: Sequence[Any] | None = None):
        self.units = units
        self.handlers = handlers


@dataclass(frozen=True)
class Input:
    """One input of an action: its name (the service's keyword), its label and help, and whether it is needed."""

    name: str
    label: Any = ""
    required: bool = True
    help_text: Any = ""
    # The service's keyword for the value, when it is not the input's own name (a posted `file` is an `upload`).
    argument: str = ""

    @property
    def keyword(self) -> str:
        return self.argument or self.name

    def form_field(self, case: Case, page: PageContext) -> forms.Field:
        raise NotImplementedError

    def serializer_field(self) -> serializers.Field:
        raise NotImplementedError

    def api_validate(self, value: Any, case: Case) -> Any:
        """The API's judgement of a parsed value, with the case at hand (the page's form field has its own)."""
        return value

    def _common(self) -> dict:
        return {"label": self.label, "required": self.required, "help_text": self.help_text}

    def _api_common(self) -> dict:
        common = {"required": self.required, "help_text": str(self.help_text) if self.help_text else None}
        if self.argument:
            common["source"] = self.argument
        return common


@dataclass(frozen=True)
class Note(Input):
    """Free text: a reason, a note, a summary, a list of missing documents."""

    rows: int = 2

    def form_field(self, case, page):
        return note_field(self.label, required=self.required, rows=self.rows, help_text=self.help_text)

    def serializer_field(self):
        optional = {} if self.required else {"allow_blank": True, "default": ""}
        return serializers.CharField(max_length=MAX_NOTE_LENGTH, **self._api_common(), **optional)


@dataclass(frozen=True)
class Choice(Input):
    choices: Sequence[tuple[str, Any]] = ()
    empty_label: Any = gettext_lazy("Choose…")
    radio: bool = False  # a few choices, all shown at once

    def form_field(self, case, page):
        if self.radio:
            return forms.ChoiceField(choices=list(self.choices), widget=forms.RadioSelect, **self._common())
        return forms.ChoiceField(choices=[("", self.empty_label), *self.choices], **self._common())

    def serializer_field(self):
        return serializers.ChoiceField(choices=list(self.choices), **self._api_common())


@dataclass(frozen=True)
class Day(Input):
    """A date; the page also reads the way officials write one by hand (dd/mm/yyyy), never month first."""

    def form_field(self, case, page):
        return forms.DateField(input_formats=DATE_FORMATS, widget=date_input(), validators=[within_calendar],
                               **self._common())

    def serializer_field(self):
        optional = {} if self.required else {"allow_null": True, "default": None}
        return serializers.DateField(validators=[within_calendar], **self._api_common(), **optional)


class ToggleField(forms.NullBooleanField):
    widget = forms.HiddenInput

    def clean(self, value):
        # Absent or garbled, it would read as "unmark": a page that did not say is a stale page.
        value = super().clean(value)
        if value is None:
            raise ValidationError(STALE_PAGE)
        return value


@dataclass(frozen=True)
class Toggle(Input):
    """A flag the page posts as the value it should take: the opposite of the one it showed."""

    def form_field(self, case, page):
        return ToggleField(label=self.label, required=False)

    def serializer_field(self):
        return serializers.BooleanField(**self._api_common())


class CodeChoiceField(forms.ModelChoiceField):
    """A record named by its code (or username), judged against the whole table; `offer` only decides what
    the page's select lists."""

    def __init__(self, queryset, *, to_field_name, offer=None, label_of=str, **kwargs):
        super().__init__(queryset, to_field_name=to_field_name, **kwargs)
        if offer is not None:
            self.choices = [("", self.empty_label), *((getattr(item, to_field_name), label_of(item)) for item in offer)]


def person_label(user) -> str:
    return user.get_full_name() or user.username


def routable_units() -> QuerySet[Department]:
    """Units a case may be handed to: every active one except the City Committee itself."""
    return Department.objects.filter(active=True).exclude(kind=DepartmentKind.CITY_COMMITTEE).order_by("name")


@dataclass(frozen=True)
class Unit(Input):
    """A unit, by its code. Any existing unit is a valid value: whether it is competent is the service's
    to judge, and to record. `offer(case, page)` lists what the page's select shows."""

    offer: Callable[[Case, PageContext], Sequence[Department]] | None = None
    empty_label: Any = gettext_lazy("Choose a unit…")

    def form_field(self, case, page):
        offered = self.offer(case, page) if self.offer else None
        return CodeChoiceField(Department.objects.all(), to_field_name="code", offer=offered,
                               label_of=lambda unit: unit.name, empty_label=self.empty_label, **self._common())

    def serializer_field(self):
        return serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.all(), **self._api_common())


@dataclass(frozen=True)
class Person(Input):
    """An active user, by username; whether they may take the work is the service's to judge. `offer(record,
    page)` lists the people the page's select shows (the unit's handlers)."""

    offer: Callable[[Any, PageContext], Sequence[Any]] | None = None
    empty_label: Any = gettext_lazy("Choose a handler…")

    def form_field(self, case, page):
        offered = list(self.offer(case, page)) if self.offer else None
        return CodeChoiceField(get_user_model().objects.filter(is_active=True), to_field_name="username",
                               offer=offered, label_of=person_label, empty_label=self.empty_label, **self._common())

    def serializer_field(self):
        return serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.filter(
            is_active=True), **self._api_common())


def takes_cases(unit: Department) -> bool:
    """The Python twin of `routable_units()`: active, and not the City Committee itself."""
    return unit.active and unit.kind != DepartmentKind.CITY_COMMITTEE


class UnitDirectory:
    """The units a page names (a city has a few hundred at most, merged ones included), in one query, so that a
    page's panels and action forms don't each ask again."""

    def __init__(self, units=None):
        self.units = list(Department.objects.all() if units is None else units)
        self.by_pk = {unit.pk: unit for unit in self.units}
        self.by_code = {unit.code: unit for unit in self.units}

    def routable(self, *, exclude_pk=None) -> list[Department]:
        return sorted((unit for unit in self.units if takes_cases(unit) and unit.pk != exclude_pk),
                      key=lambda unit: unit.name)

    def consultable(self, case: Case) -> list[Department]:
        """As `consultable_units(case)` without the owner, from the units already read: departments (Sở, ngành)
        first, the usual consultees, then every other unit, each by name."""
        required = set(case.rule_snapshot.get("required_consultees", ()))
        units = [unit for unit in self.units if unit.pk != case.owner_id and unit.kind != DepartmentKind.CITY_COMMITTEE
                 and (unit.active or unit.code in required)]
        return sorted(units, key=lambda unit: (unit.kind != DepartmentKind.DEPARTMENT, unit.name))


def consultable_units(case: Case) -> QuerySet[Department]:
    """Units the owner may consult: the rule's required consultees, and any other active unit but the City
    Committee itself (and the owner, which the service tells it does not consult itself)."""
    required = case.rule_snapshot.get("required_consultees", ())
    return Department.objects.filter(Q(code__in=required) | Q(active=True)).exclude(kind=DepartmentKind.CITY_COMMITTEE)


@dataclass(frozen=True)
class Units(Input):
    """Several units by their codes, each once, among those the case may consult."""

    def form_field(self, case, page):
        return forms.ModelMultipleChoiceField(
            queryset=consultable_units(case), to_field_name="code", widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one department to consult.")}, **self._common())

    def serializer_field(self):
        return serializers.ListField(child=serializers.SlugField(max_length=32), allow_empty=False,
                                     max_length=MAX_CONSULTED_UNITS, **self._api_common())

    def api_validate(self, codes, case):
        if len(set(codes)) != len(codes):
            raise serializers.ValidationError(_("Name each department once."))
        units = {unit.code: unit for unit in consultable_units(case).filter(code__in=codes)}
        unknown = [code for code in codes if code not in units]
        if unknown:
            raise serializers.ValidationError(_("No department that can be consulted has the code: %(codes)s.")
                                              % {"codes": ", ".join(unknown)})
        return [units[code] for code in codes]


class CaseItemField(forms.TypedChoiceField):
    """One of the case's own records by id, from those the page has already read (no query per form)."""

    def __init__(self, items: dict, *, blank_label=None, **kwargs):
        self.items = items
        choices = [(pk, str(item)) for pk, item in items.items()]
        if blank_label is not None:
            choices = [("", blank_label), *choices]
        super().__init__(choices=choices, coerce=int, empty_value=None, **kwargs)

    def clean(self, value):
        pk = super().clean(value)
        return self.items[pk] if pk is not None else None


@dataclass(frozen=True)
class CaseItem(Input):
    """One of the case's own consultations or files, by id; an id of another case's reads as unknown, never as a
    hint that it exists."""

    relation: str = "consultations"  # the case's related records
    hidden: bool = False
    blank_label: Any = None
    unknown: Any = ""
    missing: Any = ""  # what a page that did not name one is told

    def items(self, case: Case) -> dict:
        return {item.pk: item for item in getattr(case, self.relation).all()}

    def form_field(self, case, page):
        widget = forms.HiddenInput if self.hidden else forms.Select
        return CaseItemField(self.items(case), blank_label=self.blank_label, widget=widget,
                             error_messages={"invalid_choice": self.unknown, "required": self.missing or self.unknown},
                             **self._common())

    def serializer_field(self):
        optional = {} if self.required else {"allow_null": True, "default": None}
        return serializers.IntegerField(min_value=1, max_value=MAX_ID, **self._api_common(), **optional)

    def api_validate(self, pk, case):
        if pk is None:
            return None
        item = getattr(case, self.relation).filter(pk=pk).first()
        if item is None:
            raise serializers.ValidationError(str(self.unknown))
        return item


@dataclass(frozen=True)
class Upload(Input):
    """A file; its size and type are the service's to judge (by content, not by the name or declared type)."""

    def form_field(self, case, page):
        from django.conf import settings

        field = forms.FileField(allow_empty_file=False, **self._common())
        # A hint for the browser's file picker; the service judges the file by its content.
        field.widget.attrs["accept"] = ",".join(accepted_suffixes())
        field.help_text = _("PDF, JPEG, PNG, Word (.docx), Excel (.xlsx) or OpenDocument; up to %(limit)s MB.") % {
            "limit": f"{settings.ATTACHMENT_MAX_BYTES / 2**20:g}"}
        return field

    def serializer_field(self):
        return serializers.FileField(allow_empty_file=False, use_url=False, **self._api_common())

