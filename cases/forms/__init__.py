"""The pages' forms that are not case actions (those are made from `cases.actions`): intake, the consultation
report's period, and the admins' dispute settlement."""

from cases.forms.consultations import ConsultationPeriodForm
from cases.forms.disputes import DisputeSettleForm, DisputeStatusForm
from cases.forms.intake import IntakeForm

__all__ = ["ConsultationPeriodForm", "DisputeSettleForm", "DisputeStatusForm", "IntakeForm"]
