"""Filters of a department's queue (DESIGN.md §5 `cases/` filters, as a page)."""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from cases import policy
from cases.models import Case, Status

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class StaffChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class StaffFilter(django_filters.ModelChoiceFilter):
    field_class = StaffChoiceField


def colleagues(request):
    """Assignees worth offering: the members of the viewer's own department."""
    staff = policy.membership(request.user) if request else None
    if staff is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(staff__department_id=staff.department_id).order_by(
        "first_name", "last_name", "username")


class QueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_text", widget=forms.TextInput(
        attrs={"placeholder": _("Reference, title, applicant or content")}))
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, empty_label=_("Any status"))
    assignee = StaffFilter(label=_("Assignee"), queryset=colleagues, empty_label=_("Anyone"))
    key_task = django_filters.ChoiceFilter(label=_("Key task"), choices=YES_NO, method="filter_key_task",
                                           empty_label=_("All"))
    overdue = django_filters.ChoiceFilter(label=_("Overdue"), choices=YES_NO, method="filter_overdue",
                                          empty_label=_("All"))

    class Meta:
        model = Case
        fields = ["q", "status", "assignee", "key_task", "overdue"]

    def filter_queryset(self, queryset):
        # The queue shows no description, and a description may be 20,000 characters: it is not read.
        return super().filter_queryset(queryset).defer("description")

    def filter_text(self, queryset, name, value):
        return queryset.search(value, pin=policy.searches_by_pin(self.request.user))

    def filter_key_task(self, queryset, name, value):
        return queryset.filter(key_task=value == "yes")

    def filter_overdue(self, queryset, name, value):
        return queryset.overdue() if value == "yes" else queryset.not_overdue()
