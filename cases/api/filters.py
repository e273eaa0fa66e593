"""Query filters of the case list: status, owner, assignee, overdue, key_task and a free-text q."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from cases.models import OPEN_STATUSES, Case, Status
from departments.workdays import local_date


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
        # Same test as Case.is_overdue: open and due before today, local time.
        late = {"status__in": OPEN_STATUSES, "due_date__lt": local_date(timezone.now())}
        return cases.filter(**late) if value else cases.exclude(**late)

    def filter_text(self, cases, name, value):
        text = value.strip()
        if not text:
            return cases
        return cases.filter(Q(title__icontains=text) | Q(reference__icontains=text)
                            | Q(applicant_name__icontains=text))
