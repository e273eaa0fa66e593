"""Rule disputes: a department that believes the rule giving it a case is wrong asks the admins to settle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case, DisputeStatus, EventAction, RuleDispute
from cases.services.common import case_service, owner_id_of, record, save_case, write_refusal_on_its_case
from cases.services.handling import RETURNABLE
from core.refusals import RefusalCode, Refused, records_refusals

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from cases.policy import AnyUser


# Filed instead of returning the case, so open while a return would be (DESIGN.md §2 rule 5).
@case_service("dispute", who=policy.OWNER_HANDLERS, statuses=RETURNABLE, verb=_("disputed"),
              refuses=[RefusalCode.DISPUTE_ALREADY_OPEN])
def case_dispute(*, case: Case, actor: User, reason: str) -> RuleDispute:
    """File a dispute instead of returning own-authority work (DESIGN.md §2 rule 5); the case stays put."""
    owner_id = owner_id_of(case)
    if RuleDispute.objects.filter(case=case, department_id=owner_id, status=DisputeStatus.OPEN).exists():
        raise Refused(RefusalCode.DISPUTE_ALREADY_OPEN, _("Your unit already has an open dispute on this case."))
    dispute = RuleDispute.objects.create(case=case, rule_id=case.rule_id, department_id=owner_id,
                                         filed_by=actor, reason=reason)
    save_case(case)
    record(case, actor, EventAction.DISPUTE_FILED, from_status=case.status, note=reason, dispute=dispute.pk,
           rule=case.rule_id)
    return dispute


@records_refusals("settle_dispute", on="dispute", write=write_refusal_on_its_case)
def dispute_settle(*, dispute: RuleDispute, actor: User, status: str, note: str) -> RuleDispute:
    """An admin settles a dispute: the rule was changed (after editing it), or the dispute is dismissed."""
    policy.require(actor, policy.ADMINS, dispute)
    if status not in (DisputeStatus.RULE_CHANGED, DisputeStatus.DISMISSED):
        raise ValueError(f"not a settlement: {status}")
    with transaction.atomic():
        dispute = RuleDispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status != DisputeStatus.OPEN:
            raise Refused(RefusalCode.INVALID_TRANSITION, _("This dispute was already settled."), dispute=dispute.pk)
        dispute.status, dispute.settled_by, dispute.settled_at, dispute.settlement_note = (
            status, actor, timezone.now(), note)
        dispute.save(update_fields=["status", "settled_by", "settled_at", "settlement_note"])
        record(dispute.case, actor, EventAction.DISPUTE_SETTLED, from_status=dispute.case.status, note=note,
               dispute=dispute.pk, settlement=status)
    return dispute


def open_disputes(user: AnyUser) -> QuerySet[RuleDispute]:
    return (policy.disputes_visible_to(user).filter(status=DisputeStatus.OPEN)
            .select_related("case", "case__case_type", "rule", "department", "filed_by").order_by("filed_at", "id"))
