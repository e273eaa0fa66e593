"""The city office's queue of matters waiting for the City Committee's decision (DESIGN.md §2 rule 2)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.forms import DecideForm
from cases.services import may_record_decisions, pending_submissions
from cases.views.common import PAGE_SIZE


@require_GET
@login_required
def submissions(request):
    if not may_record_decisions(request.user):
        raise PermissionDenied
    page = Paginator(pending_submissions(), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"submission": submission,
             "form": DecideForm(case=submission.case, auto_id=f"id_decide_{submission.pk}_%s")}
            for submission in page]
    return render(request, "cases/submissions.html", {"page": page, "rows": rows})
