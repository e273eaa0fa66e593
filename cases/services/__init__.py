"""Every change to a case goes through one function here (STYLE.md §1).

Each function is declared with the move it makes (`common.case_service`): who may make it, from which
statuses, what it may refuse. It locks the case row, checks its rule, writes the change and its event in one
transaction, and raises `Refused` with the rule code of DESIGN.md §2 when the directive forbids the move.
Views, the API, the admin and commands call these; nothing else writes a case's status, owner or assignee.
"""

from cases.services.attachments import attachment_add
from cases.services.common import refuse_stale
from cases.services.consultations import (
    case_consult,
    case_reconcile,
    consultation_assign,
    consultation_respond,
    deem_silent_consultations_agreed,
)
from cases.services.corrections import CLERICAL_FIELDS, case_correct
from cases.services.deadlines import case_extend, case_set_key_task
from cases.services.disputes import case_dispute, dispute_settle, open_disputes
from cases.services.handling import (
    case_accept,
    case_assign,
    case_propose,
    case_resolve,
    case_return,
    case_transfer,
    competent_department,
    handlers_of,
)
from cases.services.intake import case_create, case_route, next_reference, routing_decision, validate_received_at
from cases.services.submissions import case_decide, case_submit, pending_submissions
from cases.services.supplements import case_complete_supplement, case_request_supplement

__all__ = [
    "CLERICAL_FIELDS",
    "case_correct",
    "attachment_add",
    "case_accept",
    "case_assign",
    "case_complete_supplement",
    "case_consult",
    "case_reconcile",
    "consultation_assign",
    "consultation_respond",
    "deem_silent_consultations_agreed",
    "case_create",
    "case_decide",
    "case_dispute",
    "case_extend",
    "case_set_key_task",
    "case_propose",
    "case_request_supplement",
    "case_resolve",
    "case_return",
    "case_route",
    "case_submit",
    "case_transfer",
    "competent_department",
    "dispute_settle",
    "handlers_of",
    "next_reference",
    "open_disputes",
    "pending_submissions",
    "refuse_stale",
    "routing_decision",
    "validate_received_at",
]
