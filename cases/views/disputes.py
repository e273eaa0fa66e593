"""The administrators' list of rule disputes, and settling one (DESIGN.md §2 rule 5)."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.forms import DisputeSettleForm, DisputeStatusForm
from cases.models import DisputeStatus, RuleDispute
from cases.refusals import Refused
from cases.services import dispute_settle
from cases.views.common import PAGE_SIZE, error_sentences, next_page


def admin_required(view):
    @functools.wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@admin_required
def disputes(request):
    status_form = DisputeStatusForm(request.GET)
    status = status_form.chosen_status()
    listed = RuleDispute.objects.select_related("case", "rule", "rule__case_type", "rule__owner", "department",
                                                "filed_by", "settled_by")
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
@admin_required
def dispute_settle_view(request, dispute_id: int):
    dispute = get_object_or_404(RuleDispute.objects.select_related("case"), pk=dispute_id)
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
