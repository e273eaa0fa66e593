"""Helpers of the case tests: cases in every stage of their life, a settable clock, and the check that a
refusal changes nothing.

The cases are brought to each stage through the services themselves, so a test starts from a state
the application can actually reach.
"""

import datetime as dt
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied

from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    DeadlineFlag,
    EventAction,
    Notification,
    Return,
    RuleDispute,
    Status,
    Submission,
)
from cases.services import (
    attachment_add,
    case_accept,
    case_assign,
    case_complete_supplement,
    case_decide,
    case_dispute,
    case_propose,
    case_request_supplement,
    case_resolve,
    case_return,
    case_submit,
    case_transfer,
)
from core.refusals import Refused


def footprint(case) -> dict:
    """What a refused action must not change: the case row and everything hanging off it."""
    return {
        "case": Case.unscoped.filter(pk=case.pk).values().get(),
        "returns": Return.objects.filter(case=case).count(),
        "submissions": list(Submission.objects.filter(case=case).values()),
        "disputes": list(RuleDispute.objects.filter(case=case).values()),
        "attachments": Attachment.objects.filter(case=case).count(),
    }


def last_event_id(case) -> int:
    return CaseEvent.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first() or 0


def assert_refused(service, *, code: str, attempted: str, **kwargs) -> Refused:
    """Call a service that must refuse: one `refused` event naming who tried what and why, nothing else."""
    case, actor = kwargs["case"], kwargs["actor"]
    before, last = footprint(case), last_event_id(case)
    with pytest.raises(Refused) as refusal:
        service(**kwargs)
    assert refusal.value.code == code, refusal.value.detail
    events = list(CaseEvent.objects.filter(case=case, id__gt=last))
    assert len(events) == 1, [e.action for e in events]
    event = events[0]
    assert event.action == EventAction.REFUSED
    assert event.actor == actor
    assert event.payload["code"] == code
    assert event.payload["attempted"] == attempted
    assert event.note == refusal.value.detail
    stored_status = before["case"]["status"]
    assert (event.from_status, event.to_status) == (stored_status, stored_status)
    assert footprint(case) == before
    return refusal.value


def assert_denied(service, **kwargs) -> None:
    """Call a service the actor's role may not use: 403, and neither an event nor a change."""
    case = kwargs["case"]
    before, last = footprint(case), last_event_id(case)
    with pytest.raises(PermissionDenied):
        service(**kwargs)
    assert not CaseEvent.objects.filter(case=case, id__gt=last).exists()
    assert footprint(case) == before


class Clock:
    """Stands in for `django.utils.timezone.now`, which the services read for "today"."""

    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch
        self.now = None

    def set(self, moment: dt.datetime) -> dt.datetime:
        self.now = moment
        self._monkeypatch.setattr("django.utils.timezone.now", lambda: self.now)
        return moment


@dataclass(frozen=True)
class Mark:
    flag: str = DeadlineFlag.NONE
    due_date: dt.date | None = None
    flagged_at: dt.datetime | None = None


def mark_of(item) -> Mark:
    """What the overdue sweep last flagged on a case, consultation or violation, as stored now (unflagged: no
    mark). Each kind of work keeps its marks in its own table, reached by `deadline_mark`."""
    related = type(item).deadline_mark.related
    row = (related.related_model.objects.filter(**{related.field.name: item.pk})
           .values("flag", "due_date", "flagged_at").first())
    return Mark(**row) if row else Mark()


class Stages:
    """Brings a fresh case to a given status through the services, acting as the owner's staff."""

    def __init__(self, city, log_case, city_level_type, unruled_type):
        self.city, self.log_case = city, log_case
        self.city_level_type, self.unruled_type = city_level_type, unruled_type

    def triage(self, **fields):
        return self.log_case(case_type=self.unruled_type, **fields)

    def routed(self, **fields):
        return self.log_case(**fields)

    def in_progress(self, **fields):
        return case_accept(case=self.routed(**fields), actor=self.city.user("specialist"))

    def awaiting_supplement(self, **fields):
        return case_request_supplement(case=self.in_progress(**fields), actor=self.city.user("specialist"),
                                       items="Bản vẽ thiết kế có chữ ký của chủ đầu tư")

    def city_level_in_progress(self, **fields):
        return self.in_progress(case_type=self.city_level_type, **fields)

    def submitted(self, **fields):
        return case_submit(case=self.city_level_in_progress(**fields), actor=self.city.user("head"),
                           summary="Tờ trình điều chỉnh quy hoạch")

    def resolved(self, **fields):
        return case_resolve(case=self.in_progress(**fields), actor=self.city.user("head"),
                            note="Đã cấp giấy phép")

    def misrouted(self, status="routed", *, processing_days=None, **fields):
        """A case of the owner that the rules, as edited since, now give to the outsider department."""
        case = getattr(self, status)(**fields)
        rule = self.city.permit_rule
        rule.owner = self.city.outsider
        if processing_days is not None:
            rule.processing_days = processing_days
        rule.save()
        return case

    def city_level(self, **fields):
        """A city-level matter of the owner, in progress."""
        return self.city_level_in_progress(**fields)

    def unruled(self, to=None, **fields):
        """A case routed by hand (to the owner unless told) from a rule gap: no rule names anyone."""
        from cases.services import case_route

        case = self.triage(title="Kiến nghị về lấn chiếm vỉa hè", **fields)
        return case_route(case=case, actor=self.city.user("clerk"), to=to or self.city.owner)

    def __call__(self, status: str, **fields):
        return getattr(self, status)(**fields)


def stored_files(root) -> list:
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


# Small but real files, so that type detection by content is what is tested.


def pdf_bytes(catalog: bytes = b"", *objects: bytes, tail: bytes = b"") -> bytes:
    """A PDF a reader parses: its objects, a cross-reference table with their true offsets, the trailer.
    `catalog` adds entries to the document's catalog, `objects` add objects 4, 5, ... (a page is object 3)."""
    bodies = [b"<</Type /Catalog /Pages 2 0 R " + catalog + b">>", b"<</Type /Pages /Kids [3 0 R] /Count 1>>",
              b"<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]>>", *objects]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d /Root 1 0 R>>\nstartxref\n%d\n" % (len(bodies) + 1, xref) + tail + b"%%EOF\n"
    return bytes(out)


PDF_BYTES = pdf_bytes()


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # Stamped with a fixed time, not the clock's: the same bytes in every test process (pytest-xdist's
        # workers must collect the same parameters).
        def entry(name: str) -> zipfile.ZipInfo:
            return zipfile.ZipInfo(name, date_time=(2025, 6, 2, 9, 0, 0))

        archive.writestr(entry("[Content_Types].xml"), (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/'
            'document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.'
            'main+xml"/></Types>'))
        archive.writestr(entry("word/document.xml"), (
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Tờ trình</w:t></w:r></w:p></w:body></w:document>'))
    return buffer.getvalue()


@dataclass(frozen=True)
class ActionSpec:
    """One case action: the service, a case in the state it starts from, its fields, and what success leaves."""

    service: Callable
    start: Callable[[Stages], Case]
    fields: Callable  # city -> the service's own keyword arguments
    event: str
    status_after: str
    versioned: bool = True  # takes expected_version


def pdf_upload(name="bien-ban-kiem-tra.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


# The attempted-action codes are the ones the services record in their refusals.


ACTIONS = {
    "accept": ActionSpec(case_accept, Stages.routed, lambda city: {}, EventAction.ACCEPTED, Status.IN_PROGRESS),
    "assign": ActionSpec(case_assign, Stages.routed, lambda city: {"assignee": city.user("specialist")},
                         EventAction.ASSIGNED, Status.IN_PROGRESS),
    "propose": ActionSpec(case_propose, Stages.in_progress, lambda city: {"note": "Đề nghị cấp phép có điều kiện"},
                          EventAction.PROPOSED, Status.IN_PROGRESS),
    "resolve": ActionSpec(case_resolve, Stages.in_progress, lambda city: {"note": "Đã cấp giấy phép xây dựng"},
                          EventAction.RESOLVED, Status.RESOLVED),
    "return": ActionSpec(case_return, Stages.misrouted, lambda city: {"reason": "Không thuộc chức năng của Sở"},
                         EventAction.RETURNED, Status.TRIAGE),
    "transfer": ActionSpec(case_transfer, Stages.misrouted,
                           lambda city: {"to": city.outsider, "reason": "Chuyển đơn vị có thẩm quyền"},
                           EventAction.TRANSFERRED, Status.ROUTED),
    "submit": ActionSpec(case_submit, Stages.city_level_in_progress, lambda city: {"summary": "Tờ trình số 12/TTr"},
                         EventAction.SUBMITTED, Status.SUBMITTED),
    "decide": ActionSpec(case_decide, Stages.submitted, lambda city: {"outcome": "approved", "note": "Đồng ý"},
                         EventAction.DECIDED, Status.RESOLVED),
    "request_supplement": ActionSpec(case_request_supplement, Stages.in_progress,
                                     lambda city: {"items": "Giấy chứng nhận quyền sử dụng đất (bản sao)"},
                                     EventAction.SUPPLEMENT_REQUESTED, Status.AWAITING_SUPPLEMENT),
    "complete_supplement": ActionSpec(case_complete_supplement, Stages.awaiting_supplement,
                                      lambda city: {"note": "Đã nhận đủ"}, EventAction.SUPPLEMENT_COMPLETED,
                                      Status.IN_PROGRESS),
    "dispute": ActionSpec(case_dispute, Stages.routed, lambda city: {"reason": "Quy định giao nhầm thẩm quyền"},
                          EventAction.DISPUTE_FILED, Status.ROUTED),
    "attachment_add": ActionSpec(attachment_add, Stages.routed, lambda city: {"upload": pdf_upload()},
                                 EventAction.ATTACHMENT_ADDED, Status.ROUTED, versioned=False),
}


# --- Consultations ----------------------------------------------------------------------------
# Imports stay local below so that this block only adds to the module.


ANSWERER = {"sxd": "specialist", "snnmt": "consulted_specialist", "stc": "outsider_specialist"}


class Consulting:
    """Brings an appraisal case through consultation rounds with the services, as the people of the city."""

    def __init__(self, city, stages, appraisal_type):
        self.city, self.stages, self.kind = city, stages, appraisal_type

    def case(self, **fields):
        """An in-progress appraisal case of the owner, assigned to its specialist."""
        return self.stages.in_progress(case_type=self.kind, **fields)

    def ask(self, case, *units, actor="specialist", justification="", question="Đề nghị cho ý kiến thẩm định"):
        from cases.services import case_consult

        return case_consult(case=case, actor=self.city.user(actor), departments=list(units or [self.city.consulted]),
                            question=question, justification=justification)

    def ask_outsider(self, case, **kwargs):
        return self.ask(case, self.city.outsider, justification="Dự án sử dụng vốn ngân sách thành phố", **kwargs)

    def answer(self, consultation, position="agree", comment="", actor=None):
        from cases.services import consultation_respond

        actor = actor or ANSWERER[consultation.department.code]
        return consultation_respond(consultation=consultation, actor=self.city.user(actor), position=position,
                                    comment=comment)

    def disagree(self, consultation, comment="Chưa đánh giá tác động môi trường"):
        return self.answer(consultation, "disagree", comment)


def consultation_footprint(case) -> dict:
    """What a refused or invalid consultation move must not change, beside the case itself."""
    from cases.models import Consultation, Reconciliation

    return {
        "consultations": list(Consultation.unscoped.filter(case=case).order_by("id").values()),
        "reconciliations": list(Reconciliation.objects.filter(consultation__case=case).order_by("id").values()),
        "disputes": list(RuleDispute.objects.filter(case=case).order_by("id").values()),
    }


def _on_case(service, kwargs):
    """The case a consultation service acts on, and the service called the way assert_refused calls it."""
    if "case" in kwargs:
        return kwargs["case"], service, kwargs
    return kwargs["consultation"].case, (lambda *, case, **rest: service(**rest)), kwargs


def assert_consult_refused(service, *, code: str, attempted: str, **kwargs) -> Refused:
    """assert_refused for the consultation services (which may name only a consultation): the refusal is
    recorded on the case, and no consultation, reconciliation or dispute changes."""
    case, call, kwargs = _on_case(service, kwargs)
    before = consultation_footprint(case)
    refusal = assert_refused(call, code=code, attempted=attempted, **{**kwargs, "case": case})
    assert consultation_footprint(case) == before
    return refusal


def assert_consult_denied(service, **kwargs) -> None:
    case, call, kwargs = _on_case(service, kwargs)
    before = consultation_footprint(case)
    assert_denied(call, **{**kwargs, "case": case})
    assert consultation_footprint(case) == before


def assert_consult_invalid(service, field: str, **kwargs) -> None:
    """A field error (400): nothing changes and, unlike a refusal, nothing is recorded."""
    from django.core.exceptions import ValidationError

    case, call, kwargs = _on_case(service, kwargs)
    before, consulted, last = footprint(case), consultation_footprint(case), last_event_id(case)
    with pytest.raises(ValidationError) as error:
        call(**{**kwargs, "case": case})
    assert field in error.value.message_dict, error.value.message_dict
    assert (footprint(case), consultation_footprint(case), last_event_id(case)) == (before, consulted, last)


def type_requiring_an_opinion(city, *, code: str, name: str, decision_level: str, legal_basis: str):
    """A case type of the owner whose rule requires the consulted department's opinion (3 working days; the
    type's own 4 are the fallback)."""
    from departments.models import AuthorityRule, CaseType

    kind = CaseType.objects.create(code=code, name=name, processing_days=15, consultation_days=4)
    rule = AuthorityRule.objects.create(case_type=kind, owner=city.owner, decision_level=decision_level,
                                        consultation_days=3, legal_basis=legal_basis)
    rule.required_consultees.set([city.consulted])
    return kind


def forget_notices() -> None:
    """Drop the notices and mail that a test's set-up gave (a case routed at intake tells its unit's leads, an
    opinion request the consulted unit's): a test of what one move or one job sends counts only its own."""
    from django.core import mail

    Notification.objects.all().delete()
    mail.outbox.clear()
