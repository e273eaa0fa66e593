"""A department's own queue, filtered and paged."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.filters import QueueFilter
from cases.selectors import department_queue, with_list_relations
from cases.views.common import PAGE_SIZE, staff_with_unit


@require_GET
@login_required
def case_list(request):
    staff = staff_with_unit(request)
    queue = QueueFilter(request.GET, queryset=with_list_relations(department_queue(request.user)), request=request)
    page = Paginator(queue.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/case_list.html", {
        "filter": queue, "page": page, "department": staff.department if staff else None,
    })
