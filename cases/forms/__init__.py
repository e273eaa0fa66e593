"""The pages' forms: intake and triage, the case actions and deadlines, consultations, and the admins' dispute
settlement."""

from cases.forms.actions import (
    AcceptForm,
    AssignForm,
    AttachmentForm,
    CaseActionForm,
    CompleteSupplementForm,
    DecideForm,
    DisputeForm,
    ProposeForm,
    RequestSupplementForm,
    ResolveForm,
    ReturnForm,
    SubmitForm,
    TransferForm,
)
from cases.forms.consultations import (
    ConsultationAssignForm,
    ConsultationPeriodForm,
    ConsultationRespondForm,
    ConsultForm,
    ReconcileForm,
)
from cases.forms.deadlines import ExtendForm, KeyTaskForm
from cases.forms.disputes import DisputeSettleForm, DisputeStatusForm
from cases.forms.intake import IntakeForm, TriageRouteForm, routable_departments

__all__ = [
    "AcceptForm",
    "AssignForm",
    "AttachmentForm",
    "CaseActionForm",
    "CompleteSupplementForm",
    "ConsultForm",
    "ConsultationAssignForm",
    "ConsultationPeriodForm",
    "ConsultationRespondForm",
    "DecideForm",
    "DisputeForm",
    "DisputeSettleForm",
    "DisputeStatusForm",
    "ExtendForm",
    "IntakeForm",
    "KeyTaskForm",
    "ProposeForm",
    "ReconcileForm",
    "RequestSupplementForm",
    "ResolveForm",
    "ReturnForm",
    "SubmitForm",
    "TransferForm",
    "TriageRouteForm",
    "routable_departments",
]
