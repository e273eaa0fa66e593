"""The administrators' list of rule disputes, and settling one (DESIGN.md §2 rule 5)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases import policy
from cases.forms import DisputeSettleForm, DisputeStatusForm
from cases.models import DisputeStatus
from cases.services import dispute_settle
from cases.views.common import page_guard
from core.pages import PAGE_SIZE, error_sentences, next_page
from core.refusals import Refused


@require_GET
@page_guard("administer")
def disputes(request):
    status_form = DisputeStatusForm(request.GET)
    status = status_form.chosen_status()
    listed = policy.disputes_visible_to(request.user).select_related(
        "case", "rule", "rule__case_type", "rule__owner", "department", "filed_by", "settled_by")
    # Open ones are a work queue, oldest first; settled ones an archive, newest first.
    if status == DisputeStatus.OPEN:
        listed = listed.filter(status=status).order_by("filed_at", "id")
    else:
        listed = (listed.filter(status=status) if status else listed).order_by("-filed_at", "-id")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"dispute": dispute, "form": DisputeSettleForm(auto_id=f"id_settle_{dispute.pk}_%s")}
            for dispute in page]
    return render(request, "cases/disputes.html", {"page": page, "rows": rows, "status_form": status_form})


@require_POST
@page_guard("administer")
def dispute_settle_view(request, dispute_id: int):
    dispute = get_object_or_404(policy.disputes_visible_to(request.user).select_related("case"), pk=dispute_id)
    form = DisputeSettleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The dispute on case %(reference)s was not settled: %(reason)s")
                       % {"reference": dispute.case.reference, "reason": error_sentences(form)})
    else:
        try:
            dispute_settle(dispute=dispute, actor=request.user, **form.cleaned_data)
        except Refused as refusal:
            messages.error(request, _("The dispute on case %(reference)s was not settled: %(reason)s")
                           % {"reference": dispute.case.reference, "reason": refusal.detail}, extra_tags="refusal")
        else:
            messages.success(request, _("The dispute on case %(reference)s is settled.")
                             % {"reference": dispute.case.reference})
    return redirect(next_page(request) or "disputes")
