"""Rule disputes: a department that believes the rule giving it a case is wrong asks the admins to settle."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import Case, DisputeStatus, EventAction, RuleDispute
from cases.refusals import Refused, record_refusal, records_refusals
from cases.services.common import locked_case, owner_member, record, require_status, save_case
from cases.services.handling import RETURNABLE


@records_refusals("dispute")
def case_dispute(*, case: Case, actor, reason: str, expected_version: int | None = None) -> RuleDispute:
    """File a dispute instead of returning own-authority work (DESIGN.md §2 rule 5); the case stays put."""
    with locked_case(case, expected_version=expected_version) as case:
        staff = owner_member(case, actor)
        require_status(case, RETURNABLE, _("disputed"))
        if RuleDispute.objects.filter(case=case, department_id=staff.department_id,
                                      status=DisputeStatus.OPEN).exists():
            raise Refused("dispute_already_open", _("Your unit already has an open dispute on this case."))
        dispute = RuleDispute.objects.create(case=case, rule_id=case.rule_id, department_id=staff.department_id,
                                             filed_by=actor, reason=reason)
        save_case(case)
        record(case, actor, EventAction.DISPUTE_FILED, from_status=case.status, note=reason, dispute=dispute.pk,
               rule=case.rule_id)
    return dispute


def dispute_settle(*, dispute: RuleDispute, actor, status: str, note: str) -> RuleDispute:
    """An admin settles a dispute: the rule was changed (after editing it), or the dispute is dismissed."""
    if not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied(_("Only administrators settle rule disputes."))
    if status not in (DisputeStatus.RULE_CHANGED, DisputeStatus.DISMISSED):
        raise ValueError(f"not a settlement: {status}")
    try:
        return _settle(dispute=dispute, actor=actor, status=status, note=note)
    except Refused as refusal:
        record_refusal(case=dispute.case, actor=actor, refusal=refusal, attempted="settle_dispute")
        raise


def _settle(*, dispute: RuleDispute, actor, status: str, note: str) -> RuleDispute:
    with transaction.atomic():
        dispute = RuleDispute.objects.select_for_update().get(pk=dispute.pk)
        if dispute.status != DisputeStatus.OPEN:
            raise Refused("invalid_transition", _("This dispute was already settled."), dispute=dispute.pk)
        dispute.status, dispute.settled_by, dispute.settled_at, dispute.settlement_note = (
            status, actor, timezone.now(), note)
        dispute.save(update_fields=["status", "settled_by", "settled_at", "settlement_note"])
        record(dispute.case, actor, EventAction.DISPUTE_SETTLED, from_status=dispute.case.status, note=note,
               dispute=dispute.pk, settlement=status)
    return dispute


def open_disputes():
    return (RuleDispute.objects.filter(status=DisputeStatus.OPEN)
            .select_related("case", "case__case_type", "rule", "department", "filed_by").order_by("filed_at", "id"))
