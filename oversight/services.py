"""Every change to an oversight record goes through one function here (STYLE.md §1; DESIGN.md §2 rule 10).

Only inspectors, Home Affairs and admins record anything (PermissionDenied otherwise, from the access policy).
Bad input is a ValidationError on the field it concerns; a move the record's state forbids is `Refused` with a
code, as for cases, and the refused attempt is recorded. Each function writes its change and its event (who,
when, old → new: `OversightEvent`, append-only) in one transaction; the violation's row is locked while it
changes, so two officials acting on it at once queue up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import policy
from cases.models import Case
from core.audit import changes
from core.files import forget_files, sha256_of, store_upload, validate_upload
from core.refusals import RefusalCode, Refused, records_refusals
from departments.models import Department
from departments.workdays import get_calendar, local_date
from oversight.models import (
    INSPECTION_SOURCES,
    ActionKind,
    ActionTaken,
    Commendation,
    CommendationLevel,
    Inspection,
    InspectionAttachment,
    InspectionKind,
    OversightAction,
    OversightEvent,
    Severity,
    Violation,
    ViolationKind,
    ViolationMark,
    ViolationSource,
    ViolationStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from cases.policy import AnyUser

Record = Inspection | Violation | Commendation


def require_overseer(actor: AnyUser) -> None:
    policy.require(actor, policy.OVERSEERS, None)


def log(record: Record, actor: User | None, action: str, *, note: str = "", **payload: object) -> OversightEvent:
    """Append the event of a change to an oversight record; `payload` keeps codes and old/new values."""
    return OversightEvent.objects.create(at=timezone.now(), actor=actor, action=action, note=note, payload=payload,
                                         **{type(record).__name__.lower(): record})


def write_refusal(record: Record, *, actor: AnyUser | None, refusal: Refused, attempted: str) -> None:
    """A refused move on an oversight record, recorded as a case's is: who tried what, and why not."""
    log(record, actor if actor and actor.is_authenticated else None, OversightAction.REFUSED, note=refusal.detail,
        code=refusal.code, attempted=attempted, **refusal.payload)


def created(**values) -> dict[str, list]:
    """The new record's values, as the [old, new] pairs of its event."""
    return changes({}, values)


def not_in_future(day: dt.date, field: str) -> None:
    if day > local_date(timezone.now()):
        raise ValidationError({field: _("The date cannot be in the future.")})


def require_active_choice(choice, field: str) -> None:
    if not choice.active:
        raise ValidationError({field: _("“%(choice)s” is no longer offered; choose another.") % {"choice": choice}})


def handling_due_date(discovered_on: dt.date, days: int) -> dt.date:
    """`days` calendar days after discovery; a period that ends on a day off ends on the next working day
    (Civil Code 2015 art. 148)."""
    return get_calendar().working_day_on_or_after(discovered_on + dt.timedelta(days=days))


# --- Inspections -------------------------------------------------------------------------------------------


def inspection_record(*, actor: User, department: Department, kind: str, inspected_on: dt.date, team: Iterable[User],
                      findings: str = "", uploads: Iterable[UploadedFile] = ()) -> Inspection:
    """Record an inspection of one unit with its team, findings and files (directive: kiểm tra đột xuất)."""
    require_overseer(actor)
    if kind not in InspectionKind.values:
        raise ValidationError({"kind": _("Choose scheduled or surprise.")})
    not_in_future(inspected_on, "inspected_on")
    team = list(team)
    if not team:
        raise ValidationError({"team": _("Name at least one member of the inspection team.")})
    uploads = list(uploads)
    # Every file is checked before anything is written: one bad file leaves no half-recorded inspection.
    checked = [(upload, *validate_upload(upload)) for upload in uploads]
    stored: list[InspectionAttachment] = []
    try:
        with transaction.atomic():
            inspection = Inspection.objects.create(department=department, kind=kind, inspected_on=inspected_on,
                                                   findings=findings, recorded_by=actor)
            inspection.team.set(team)
            for upload, name, mime in checked:
                stored.append(_store(inspection, actor, upload, name, mime))
            log(inspection, actor, OversightAction.INSPECTION_RECORDED, note=findings,
                **created(department=department.code, kind=kind, inspected_on=inspected_on,
                          team=sorted(member.username for member in team),
                          files=[attachment.original_name for attachment in stored]))
    except Exception:
        forget_files(stored)
        raise
    return inspection


def inspection_attach(*, inspection: Inspection, actor: User, upload: UploadedFile) -> InspectionAttachment:
    require_overseer(actor)
    name, mime = validate_upload(upload)
    stored: list[InspectionAttachment] = []
    try:
        with transaction.atomic():
            attachment = _store(inspection, actor, upload, name, mime)
            stored.append(attachment)
            log(inspection, actor, OversightAction.FILE_ADDED, note=name, attachment=attachment.pk,
                sha256=attachment.sha256, size=attachment.size)
    except Exception:
        forget_files(stored)
        raise
    return attachment


def _store(inspection: Inspection, actor: User, upload: UploadedFile, name: str, mime: str) -> InspectionAttachment:
    # An upload Django has received knows its size; only a hand-made file object might not.
    attachment = InspectionAttachment(inspection=inspection, original_name=name, content_type=mime,
                                      size=cast(int, upload.size), sha256=sha256_of(upload), uploaded_by=actor)
    store_upload(attachment, upload, name=name)
    return attachment


# --- Violations ---------------------------------------------------------------------------------------------


def violation_record(*, actor: User, person: User, discovered_on: dt.date, source: str, kind: ViolationKind,
                     severity: Severity, description: str, inspection: Inspection | None = None,
                     cases: Iterable[Case] = (), handler: User | None = None) -> Violation:
    """Record a person's misconduct; its handling deadline runs from discovery (Decree 234/2026: 90 days).

    The unit is the inspected one for a violation an inspection found, else the person's own. `handler` is
    the one official answerable for the handling (rõ người), the recorder unless another is named.
    """
    require_overseer(actor)
    handler = handler or actor
    if source not in ViolationSource.values:
        raise ValidationError({"source": _("Choose where the violation came to light.")})
    not_in_future(discovered_on, "discovered_on")
    if not description.strip():
        raise ValidationError({"description": _("Say what happened.")})
    require_active_choice(kind, "kind")
    require_active_choice(severity, "severity")
    membership = policy.membership(person)
    if membership is None:
        raise ValidationError({"person": _("This user is not on the staff of any unit.")})
    if not policy.may_oversee(handler):
        raise ValidationError({"handler": _("The responsible official must be an inspector, a Home Affairs "
                                            "official or an admin.")})
    # `source` is one of ViolationSource's values (checked above), and a text choice is looked up by its value.
    expected_kind = INSPECTION_SOURCES.get(cast(ViolationSource, source))
    if expected_kind is None and inspection is not None:
        raise ValidationError({"inspection": _("Only a violation found by an inspection names one.")})
    if expected_kind is not None:
        if inspection is None:
            raise ValidationError({"inspection": _("Name the inspection that found it.")})
        if inspection.kind != expected_kind:
            raise ValidationError({"inspection": _("That inspection was not a %(kind)s inspection.") % {
                "kind": InspectionKind(expected_kind).label.lower()}})
        if discovered_on < inspection.inspected_on:
            raise ValidationError({"discovered_on": _("An inspection cannot find something before it took place.")})
    department = inspection.department if inspection is not None else membership.department
    with transaction.atomic():
        violation = Violation.objects.create(
            person=person, department=department, discovered_on=discovered_on, source=source,
            inspection=inspection, kind=kind, severity=severity, description=description.strip(), handler=handler,
            due_date=handling_due_date(discovered_on, settings.VIOLATION_HANDLING_DAYS), recorded_by=actor)
        cases = list(cases)
        violation.cases.set(cases)
        log(violation, actor, OversightAction.VIOLATION_RECORDED, note=violation.description, **created(
            person=person.username, department=department.code, discovered_on=discovered_on, source=source,
            inspection=inspection.pk if inspection else None, kind=kind.code, severity=severity.code,
            cases=sorted(case.reference for case in cases), handler=handler.username, due_date=violation.due_date))
    return violation


def _locked_open(violation: Violation, attempted: str) -> Violation:
    current = Violation.objects.select_for_update().get(pk=violation.pk)
    if current.status != ViolationStatus.OPEN:
        raise Refused(RefusalCode.INVALID_TRANSITION, _(
            "This violation's handling has ended (%(status)s); it cannot be %(attempted)s.")
            % {"status": current.get_status_display(), "attempted": attempted})
    return current


@records_refusals("extend_handling", on="violation", write=write_refusal)
def violation_extend(*, violation: Violation, actor: User, reason: str) -> Violation:
    """Move the handling deadline, once, to VIOLATION_HANDLING_MAX_DAYS after discovery (Decree 234/2026),
    up to the end of the current due day."""
    require_overseer(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for the extension.")})
    now = timezone.now()
    with transaction.atomic():
        violation = _locked_open(violation, _("extended"))
        if violation.extended_at is not None:
            raise Refused(RefusalCode.ALREADY_EXTENDED, _("The handling deadline has already been extended once."))
        if local_date(now) > violation.due_date:
            raise Refused(RefusalCode.EXTENSION_TOO_LATE, _("The handling deadline has passed; it can no longer "
                                                            "be extended."))
        new_due = handling_due_date(violation.discovered_on, settings.VIOLATION_HANDLING_MAX_DAYS)
        if new_due <= violation.due_date:
            raise Refused(RefusalCode.EXTENSION_TOO_LATE, _("The longest handling period allowed ends no later "
                                                            "than the current deadline."))
        violation.due_date_before_extension, violation.due_date = violation.due_date, new_due
        violation.extended_at, violation.extended_by, violation.extension_reason = now, actor, reason.strip()
        violation.save(update_fields=["due_date", "due_date_before_extension", "extended_at", "extended_by",
                                      "extension_reason"])
        # The sweep's flag was for the old date; the next sweep judges the new one.
        ViolationMark.objects.filter(violation=violation).delete()
        log(violation, actor, OversightAction.EXTENDED, note=violation.extension_reason,
            due_date=[violation.due_date_before_extension.isoformat(), new_due.isoformat()])
    return violation


@records_refusals("act", on="violation", write=write_refusal)
def violation_act(*, violation: Violation, actor: User, kind: ActionKind, decided_on: dt.date,
                  decision_number: str = "", note: str = "", ends_handling: bool = False) -> ActionTaken:
    """Record a measure decided on the violation; `ends_handling` closes it as handled."""
    require_overseer(actor)
    require_active_choice(kind, "kind")
    not_in_future(decided_on, "decided_on")
    now = timezone.now()
    with transaction.atomic():
        violation = _locked_open(violation, _("acted on"))
        if decided_on < violation.discovered_on:
            raise ValidationError({"decided_on": _("A measure cannot be decided before the violation was "
                                                   "discovered.")})
        action = ActionTaken.objects.create(violation=violation, kind=kind, decided_on=decided_on,
                                            decision_number=decision_number.strip(), note=note.strip(),
                                            recorded_by=actor)
        log(violation, actor, OversightAction.ACTION_TAKEN, note=action.note, action_taken=action.pk, kind=kind.code,
            disciplinary=kind.disciplinary, decided_on=decided_on.isoformat(), decision_number=action.decision_number)
        if ends_handling:
            violation.status, violation.closed_at, violation.closed_by = ViolationStatus.HANDLED, now, actor
            violation.closing_note = note.strip()
            violation.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
            log(violation, actor, OversightAction.HANDLED, note=violation.closing_note,
                status=[ViolationStatus.OPEN, ViolationStatus.HANDLED])
    return action


@records_refusals("dismiss", on="violation", write=write_refusal)
def violation_dismiss(*, violation: Violation, actor: User, reason: str) -> Violation:
    """End the handling without a measure: the violation was not confirmed."""
    require_overseer(actor)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the violation was not confirmed.")})
    with transaction.atomic():
        violation = _locked_open(violation, _("dismissed"))
        violation.status, violation.closed_at, violation.closed_by = ViolationStatus.DISMISSED, timezone.now(), actor
        violation.closing_note = reason.strip()
        violation.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
        log(violation, actor, OversightAction.DISMISSED, note=violation.closing_note,
            status=[ViolationStatus.OPEN, ViolationStatus.DISMISSED])
    return violation


# --- Commendations ------------------------------------------------------------------------------------------


def commendation_record(*, actor: User, level: CommendationLevel, reason: str, awarded_on: dt.date,
                        person: User | None = None, department: Department | None = None,
                        decision_number: str = "") -> Commendation:
    """Record praise for a person or a unit (directive: khen thưởng người dám nghĩ, dám làm)."""
    require_overseer(actor)
    if (person is None) == (department is None):
        raise ValidationError({"person": _("Commend either a person or a unit.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say what is being commended.")})
    require_active_choice(level, "level")
    not_in_future(awarded_on, "awarded_on")
    with transaction.atomic():
        commendation = Commendation.objects.create(person=person, department=department, level=level,
                                                   reason=reason.strip(), awarded_on=awarded_on,
                                                   decision_number=decision_number.strip(), recorded_by=actor)
        log(commendation, actor, OversightAction.COMMENDATION_RECORDED, note=commendation.reason, **created(
            person=person.username if person else None, department=department.code if department else None,
            level=level.code, awarded_on=awarded_on, decision_number=commendation.decision_number))
    return commendation
