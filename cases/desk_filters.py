"""The filters of the overdue desk (DESIGN.md §2 rule 9).

The desk lists two kinds of work, cases and the consultations a unit owes, so its filter is a plain form
that narrows each queryset in its own terms rather than a FilterSet bound to one model.
"""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cases.measures import Window
from cases.models import Case, Consultation, text_search
from departments.models import CaseType

PAGE_SIZES = (25, 100)
NOBODY = "none"


class DeskFilterForm(forms.Form):
    """What the head narrows the desk to; every field is optional, and a bad value is reported on its field
    while the others still apply."""

    kind = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("", _("Overdue and due soon")), ("overdue", _("Overdue only")), ("due_soon", _("Due soon only"))])
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    case_type = forms.ModelChoiceField(label=_("Case type"), queryset=CaseType.objects.order_by("name"),
                                       to_field_name="code", required=False, empty_label=_("Any case type"))
    key_task = forms.BooleanField(label=_("Key tasks only"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=200,
                        widget=forms.TextInput(attrs={"placeholder": _("Reference, title or applicant")}))
    page_size = forms.TypedChoiceField(label=_("Rows per page"), required=False, coerce=int, empty_value=PAGE_SIZES[0],
                                       choices=[(size, str(size)) for size in PAGE_SIZES])

    def __init__(self, data=None, *, handlers, **kwargs):
        super().__init__(data, **kwargs)
        # The unit's handlers, read once for the whole page (the reassign forms use the same list).
        self.fields["assignee"].choices = [("", _("Anyone")), (NOBODY, _("Nobody yet")), *(
            (user.username, user.get_full_name() or user.username) for user in handlers)]
        for name, field in self.fields.items():
            css = "form-check-input" if name == "key_task" else "form-select" if isinstance(
                field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def _value(self, name):
        # A field that failed validation is absent from cleaned_data: it filters nothing.
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name)

    @property
    def rows_per_page(self) -> int:
        return self._value("page_size") or PAGE_SIZES[0]

    def _deadline(self, items: QuerySet, window: Window) -> QuerySet:
        kind = self._value("kind")
        if kind == "overdue":
            return items.filter(window.overdue())
        if kind == "due_soon":
            return items.filter(window.due_soon())
        return items

    def _assignee(self, items: QuerySet) -> QuerySet:
        assignee = self._value("assignee")
        if assignee == NOBODY:
            return items.filter(assignee__isnull=True)
        return items.filter(assignee__username=assignee) if assignee else items

    def filter_cases(self, cases: QuerySet[Case], window: Window) -> QuerySet[Case]:
        cases = self._assignee(self._deadline(cases, window))
        if self._value("key_task"):
            cases = cases.filter(key_task=True)
        if self._value("case_type"):
            cases = cases.filter(case_type=self._value("case_type"))
        # Neither the desk nor its files show a description, which may be 20,000 characters: it is not read.
        return cases.search(self._value("q") or "").defer("description")

    def filter_consultations(self, consultations: QuerySet[Consultation], window: Window) -> QuerySet[Consultation]:
        consultations = self._assignee(self._deadline(consultations, window))
        if self._value("key_task"):
            consultations = consultations.filter(case__key_task=True)
        if self._value("case_type"):
            consultations = consultations.filter(case__case_type=self._value("case_type"))
        text = (self._value("q") or "").strip()
        return consultations.filter(text_search(text, "case__")) if text else consultations
