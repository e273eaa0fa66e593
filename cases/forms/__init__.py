"""The pages' forms: intake and triage, the case actions, and the admins' dispute settlement."""

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
from cases.forms.disputes import DisputeSettleForm, DisputeStatusForm
from cases.forms.intake import IntakeForm, TriageRouteForm, routable_departments

__all__ = [
    "AcceptForm",
    "AssignForm",
    "AttachmentForm",
    "CaseActionForm",
    "CompleteSupplementForm",
    "DecideForm",
    "DisputeForm",
    "DisputeSettleForm",
    "DisputeStatusForm",
    "IntakeForm",
    "ProposeForm",
    "RequestSupplementForm",
    "ResolveForm",
    "ReturnForm",
    "SubmitForm",
    "TransferForm",
    "TriageRouteForm",
    "routable_departments",
]
