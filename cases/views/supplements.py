"""The printable request to the applicant to complete the dossier (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ).

Modelled on Form 02 of Circular 01/2018/TT-VPCP. It is handed to the applicant, so it is always in
Vietnamese, whatever language the official reads the application in.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_GET

from cases import policy
from cases.models import EventAction
from cases.reads import ReadKind, record_outside_read
from departments.workdays import local_date

LETTER_LANGUAGE = "vi"


def _items(text: str) -> list[str]:
    # One missing document per line; list markers the handler typed are dropped, the letter numbers them.
    return [line.strip().lstrip("-•*").strip() for line in text.splitlines() if line.strip().lstrip("-•*").strip()]


@require_GET
@login_required
def supplement_letter(request, reference: str):
    case = get_object_or_404(policy.with_list_relations(policy.cases_visible_to(request.user)).select_related(
        "receiving_unit__parent").annotate(consulted=policy.consulted_on(request.user)), reference=reference,
        supplement_requested_at__isnull=False)
    record_outside_read(request, case, ReadKind.LETTER, item="supplement_letter", consulted=case.consulted)
    request_event = (case.events.filter(action=EventAction.SUPPLEMENT_REQUESTED).select_related("actor")
                     .order_by("-at", "-id").first())
    handler = request_event.actor if request_event and request_event.actor else case.assignee
    with translation.override(LETTER_LANGUAGE):
        response = render(request, "cases/supplement_letter.html", {
            "case": case,
            "items": _items(case.supplement_items),
            "requested_on": local_date(case.supplement_requested_at),
            "received_on": local_date(case.received_at),
            "handler": handler,
            "clock_resets": settings.SUPPLEMENT_CLOCK == "reset",
        })
    response["Content-Language"] = LETTER_LANGUAGE
    return response
