"""The city office's queue of matters waiting for the City Committee's decision (DESIGN.md §2 rule 2)."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from cases.actions import CASE_ACTIONS
from cases.services import pending_submissions
from cases.views.common import page_guard
from core.pages import PAGE_SIZE


@require_GET
@page_guard("submissions")
def submissions(request):
    page = Paginator(pending_submissions(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    decide = CASE_ACTIONS["decide"]
    rows = [{"submission": submission,
             "form": decide.page_form(submission.case, auto_id=f"id_decide_{submission.pk}_%s")} for submission in page]
    return render(request, "cases/submissions.html", {"page": page, "rows": rows})
