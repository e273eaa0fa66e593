"""A department's own queue, filtered and paged."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases import policy
from cases.filters import QueueFilter
from cases.views.common import page_guard
from core.pages import PAGE_SIZE
from departments.models import Role


@require_GET
@page_guard("queue")
def case_list(request):
    staff = policy.membership(request.user)
    queue = QueueFilter(request.GET, queryset=policy.with_list_relations(policy.department_queue(request.user)),
                        request=request)
    page = Paginator(queue.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    # The intake desk's list is what its unit received, whatever became of it (cases.policy.department_queue).
    received = staff.role == Role.CLERK
    return render(request, "cases/case_list.html", {"filter": queue, "page": page, "department": staff.department,
                                                    "received": received})
