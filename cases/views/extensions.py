"""The printable apology with the new date (phiếu xin lỗi và hẹn lại ngày trả kết quả).

Modelled on Form 04 of Circular 01/2018/TT-VPCP: when a dossier will be late, the unit settling it
apologises to the applicant, gives the reason and names the new date (Decree 61/2018 art. 19). It is
handed to the applicant, so it is always in Vietnamese, whatever language the official reads the
application in. Only a citizen's dossier gets one: an agency's request or a city assignment has no
applicant to apologise to.
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_GET

from cases import policy
from cases.models import Source
from cases.reads import ReadKind, record_outside_read
from cases.views.supplements import LETTER_LANGUAGE
from departments.workdays import local_date


@require_GET
@login_required
def extension_letter(request, reference: str):
    cases = policy.with_list_relations(policy.cases_visible_to(request.user)).select_related(
        "owner__parent", "receiving_unit__parent", "extended_by")
    case = get_object_or_404(cases.annotate(consulted=policy.consulted_on(request.user)), reference=reference,
                             extended_at__isnull=False, source=Source.CITIZEN)
    record_outside_read(request, case, ReadKind.LETTER, item="extension_letter", consulted=case.consulted)
    with translation.override(LETTER_LANGUAGE):
        response = render(request, "cases/extension_letter.html", {
            "case": case,
            "received_on": local_date(case.received_at),
            "extended_on": local_date(case.extended_at),
            # The unit settling the dossier apologises and signs, whoever received it at the desk.
            "unit": case.owner or case.receiving_unit,
        })
    response["Content-Language"] = LETTER_LANGUAGE
    return response
