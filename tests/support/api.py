"""The roles of the shared city as the API tests name them, and helpers of the API tests."""

import datetime as dt

from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Case, CaseEvent, Consultation, Reconciliation, Return, RuleDispute, Submission
from cases.services import case_accept, case_consult, consultation_respond
from departments.models import Department
from departments.workdays import get_calendar, local_date
from tests.support.world import PASSWORD

ROLES = ["committee_head", "head", "deputy", "specialist", "clerk", "consulted_head", "consulted_specialist",
         "outsider_head", "outsider_specialist", "city_office", "inspector", "home_affairs", "admin", "nobody"]


NON_ADMINS = [role for role in ROLES if role != "admin"]


NON_CLERKS = [role for role in NON_ADMINS if role != "clerk"]


URL = "/api/v1/cases/"


DETAIL_FIELDS = {
    "reference", "title", "description", "case_type", "locality", "amount", "source", "applicant_name",
    "applicant_contact", "received_at", "key_task", "status", "owner", "assignee", "due_date", "overdue", "rule",
    "triage_reason", "version", "accepted_at", "resolved_at", "outcome", "decision_level", "legal_basis",
    "extended_at", "due_date_before_extension", "extension_reason",
    "supplement_requested_at", "supplement_items", "handover_late", "events", "consultations", "attachments",
    "returns", "submissions", "competent_department",
}


DISPUTE_FIELDS = {"id", "case", "rule", "department", "filed_by", "filed_at", "reason", "status", "settled_by",
                  "settled_at", "settlement_note"}


def act(client, case, action, body=None):
    return client.post(f"{URL}{case.reference}/{action}/", body if body is not None else {}, format="json")


def request_footprint(case) -> tuple:
    """What a refused or rejected action must leave as it was."""
    return (Case.unscoped.filter(pk=case.pk).values().get(), CaseEvent.objects.filter(case=case).count(),
            Return.objects.filter(case=case).count(), list(Submission.objects.filter(case=case).values()),
            RuleDispute.objects.filter(case=case).count())


# action -> (stage, actor, body, event written, status after)


API_ACTIONS = {
    "accept": ("routed", "specialist", {}, "accepted", "in_progress"),
    "assign": ("routed", "head", {"assignee": "specialist"}, "assigned", "in_progress"),
    "propose": ("in_progress", "specialist", {"note": "Đề nghị cấp phép có điều kiện"}, "proposed", "in_progress"),
    "return": ("misrouted", "specialist", {"reason": "Không thuộc chức năng của Sở"}, "returned", "triage"),
    "transfer": ("misrouted", "head", {"to": "stc", "reason": "Chuyển Sở Tài chính theo quy định"}, "transferred",
                 "routed"),
    "submit": ("city_level", "head", {"summary": "Tờ trình số 12/TTr-SXD"}, "submitted", "submitted"),
    "decide": ("submitted", "city_office", {"outcome": "approved", "note": "Đồng ý theo tờ trình"}, "decided",
               "resolved"),
    "resolve": ("in_progress", "deputy", {"note": "Đã cấp giấy phép số 45/GPXD"}, "resolved", "resolved"),
    "request-supplement": ("in_progress", "specialist", {"items": "Giấy chứng nhận quyền sử dụng đất (bản sao)"},
                           "supplement_requested", "awaiting_supplement"),
    "complete-supplement": ("awaiting_supplement", "specialist", {"note": "Đã nhận đủ hồ sơ"},
                            "supplement_completed", "in_progress"),
}


CASES = "/api/v1/cases/"


CONSULTATIONS = "/api/v1/consultations/"


QUESTION = "Đề nghị cho ý kiến về sự phù hợp với quy hoạch sử dụng đất"


WHY = "Công trình nằm trong hành lang bảo vệ kênh thủy lợi"


CONSULTATION_FIELDS = {
    "id", "case", "department", "question", "due_date", "status", "position", "comment", "round", "required",
    "justification", "requested_by", "requested_at", "assignee", "answered_by", "answered_at", "answered_late",
    "overdue",
}


class Consults:
    """Cases and consultations at each stage, reached through the services themselves.

    A building permit belongs to Sở Xây dựng (sxd) and its rule names no consultee, so asking Sở NN&MT
    (snnmt) needs a justification. Land allocation belongs to snnmt, goes up to the City Committee, and its
    rule requires the opinions of sxd and Sở Tài chính (stc).
    """

    def __init__(self, city, log_case):
        self.city, self.log_case = city, log_case

    def user(self, name):
        return self.city.user(name)

    def permit(self, **fields) -> Case:
        return case_accept(case=self.log_case(**fields), actor=self.user("specialist"))

    def land(self, **fields) -> Case:
        return case_accept(case=self.log_case(case_type=self.city.land, **fields),
                           actor=self.user("consulted_specialist"))

    def ask(self, case: Case, *codes: str) -> list[Consultation]:
        """The owner's specialist asks the named units (a justification covers any the rule does not require)."""
        actor = self.user("consulted_specialist" if case.owner == self.city.consulted else "specialist")
        units = [Department.objects.get(code=code) for code in codes]
        return case_consult(case=case, actor=actor, departments=units, question=QUESTION, justification=WHY)

    def open_permit_consultation(self) -> Consultation:
        [consultation] = self.ask(self.permit(), "snnmt")
        return consultation

    def answered_permit_consultation(self, position="agree", comment="") -> Consultation:
        consultation = self.open_permit_consultation()
        return consultation_respond(consultation=consultation, actor=self.user("consulted_specialist"),
                                    position=position, comment=comment)

    def land_disagreement(self) -> tuple[Case, dict[str, Consultation]]:
        """A land case on which sxd agreed and stc disagreed."""
        case = self.land()
        asked = {c.department.code: c for c in self.ask(case, "sxd", "stc")}
        consultation_respond(consultation=asked["sxd"], actor=self.user("head"), position="agree")
        consultation_respond(consultation=asked["stc"], actor=self.user("outsider_head"), position="disagree",
                             comment="Giá đất chưa phù hợp khung giá của thành phố")
        return Case.unscoped.get(pk=case.pk), asked


def post(client, path, body=None):
    return client.post(path, body if body is not None else {}, format="json")


def case_url(case, action):
    return f"{CASES}{case.reference}/{action}/"


def consultation_url(consultation, action):
    return f"{CONSULTATIONS}{consultation.pk}/{action}/"


def consultation_due_today() -> dt.date:
    return get_calendar().due_date(local_date(timezone.now()), 5)


# --- what each action answers --------------------------------------------------------------------------------


TOKEN_URL = "/api/v1/auth/token/"


def obtain_token(username, password=PASSWORD):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json")


def token_client(token: str) -> APIClient:
    """An API client that sends `token` the way scripts do."""
    return APIClient(headers={"Authorization": f"Token {token}"})


def issue_token(user, *, made_at: dt.datetime | None = None) -> str:
    """A token of `user` as the token endpoint makes it, made at `made_at` (now by default); its secret."""
    from knox.models import AuthToken
    from knox.settings import knox_settings

    token, secret = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
    if made_at is not None:
        AuthToken.objects.filter(pk=token.pk).update(created=made_at, expiry=made_at + knox_settings.TOKEN_TTL)
    return secret


def consult_footprint(case) -> tuple:
    """Everything a refused or rejected request must leave as it was (apart from the refusal's event)."""
    return (Case.unscoped.filter(pk=case.pk).values().get(), CaseEvent.objects.filter(case=case).count(),
            list(Consultation.unscoped.filter(case=case).order_by("id").values()),
            list(Reconciliation.objects.filter(consultation__case=case).values()),
            RuleDispute.objects.filter(case=case).count(), Submission.objects.filter(case=case).count())
