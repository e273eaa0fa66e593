"""Query filters of the case list (status, owner, assignee, overdue, key_task, q), consultations, submissions
and disputes."""

import django_filters
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from cases import policy
from cases.measures import consultations_overdue
from cases.models import (
    Case,
    Consultation,
    ConsultationStatus,
    DisputeStatus,
    Outcome,
    RuleDispute,
    Status,
    Submission,
)
from core.clock import today


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Status.choices)
    owner = django_filters.CharFilter(field_name="owner__code")
    assignee = django_filters.CharFilter(field_name="assignee__username")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    key_task = django_filters.BooleanFilter()
    q = django_filters.CharFilter(method="filter_text", max_length=200)

    class Meta:
        model = Case
        fields = ["status", "owner", "assignee", "overdue", "key_task", "q"]

    def filter_overdue(self, cases, name, value):
        return cases.overdue() if value else cases.not_overdue()

    def filter_text(self, cases, name, value):
        return cases.search(value, pin=policy.searches_by_pin(self.request.user))


class ConsultationFilter(django_filters.FilterSet):
    department = django_filters.CharFilter(field_name="department__code")
    status = django_filters.ChoiceFilter(choices=ConsultationStatus.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    case = django_filters.CharFilter(field_name="case__reference")
    required = django_filters.BooleanFilter()

    class Meta:
        model = Consultation
        fields = ["department", "status", "overdue", "case", "required"]

    def filter_overdue(self, consultations, name, value):
        late = consultations_overdue(today())
        return consultations.filter(late) if value else consultations.exclude(late)


PENDING = "pending"
ALL = "all"


class SubmissionFilter(django_filters.FilterSet):
    """The city office's queue shows what waits for a decision unless asked for decided ones (`?outcome=`)."""

    outcome = django_filters.ChoiceFilter(
        choices=[(PENDING, _("Waiting for a decision")), *Outcome.choices, (ALL, _("All"))],
        method="filter_outcome", empty_label=None)

    class Meta:
        model = Submission
        fields = ["outcome"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("outcome"):
            data["outcome"] = PENDING
        super().__init__(data, *args, **kwargs)

    def filter_outcome(self, submissions, name, value):
        if value == ALL:
            return submissions
        return submissions.filter(outcome="" if value == PENDING else value)


class DisputeFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DisputeStatus.choices)
    department = django_filters.CharFilter(field_name="department__code")

    class Meta:
        model = RuleDispute
        fields = ["status", "department"]
