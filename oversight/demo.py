"""The demo city's oversight: a case handled and one attempt to pass it on refused, a surprise inspection that
found it, the violation it recorded, and a commendation, all made through the services so they are as real
ones are. Loaded once, with the demo cases (`manage.py load_demo`)."""

from __future__ import annotations

import contextlib

from django.contrib.auth import get_user_model
from django.utils import timezone

from cases.models import Case
from core.refusals import Refused
from departments.models import Department
from departments.workdays import local_date

HANDLED_CASE = "Cấp giấy phép xây dựng Trung tâm thương mại Lạch Tray"
OWNER = "sxd"
HEAD, SPECIALIST = "sxd.giamdoc", "sxd.chuyenvien"
INSPECTOR, HOME_AFFAIRS = "thanhtra", "noivu"
COMMENDED = "lechan.chutich"


def load_oversight() -> bool:
    """Returns whether anything was loaded (only into a database whose demo case is fresh)."""
    from cases.services import case_assign, case_return
    from oversight.models import (
        CommendationLevel,
        InspectionKind,
        Severity,
        ViolationKind,
        ViolationSource,
    )
    from oversight.services import commendation_record, inspection_record, violation_record

    case = Case.unscoped.filter(title=HANDLED_CASE, owner__code=OWNER, assignee__isnull=True).first()
    if case is None:
        return False
    users = {user.username: user for user in get_user_model().objects.filter(
        username__in=[HEAD, SPECIALIST, INSPECTOR, HOME_AFFAIRS, COMMENDED])}
    owner = Department.objects.get(code=OWNER)
    case = case_assign(case=case, actor=users[HEAD], assignee=users[SPECIALIST])
    # The specialist tries to send the department's own matter back: the server refuses and records it.
    with contextlib.suppress(Refused):
        case_return(case=case, actor=users[SPECIALIST], reason="Đề nghị chuyển Sở Tài chính xem xét phần vốn đầu tư.")
    today = local_date(timezone.now())
    inspection = inspection_record(
        actor=users[INSPECTOR], department=owner, kind=InspectionKind.SURPRISE, inspected_on=today,
        team=[users[INSPECTOR], users[HOME_AFFAIRS]],
        findings="Kiểm tra đột xuất Bộ phận Một cửa: một hồ sơ thuộc thẩm quyền của Sở bị đề nghị trả lại, "
                 "chuyển sang Sở Tài chính không có căn cứ.")
    violation_record(
        actor=users[INSPECTOR], person=users[SPECIALIST], discovered_on=today,
        source=ViolationSource.SURPRISE_INSPECTION, inspection=inspection,
        kind=ViolationKind.objects.get(code="shifting-responsibility"),
        severity=Severity.objects.get(code="less-serious"),
        description="Đề nghị trả lại hồ sơ thuộc thẩm quyền của Sở để chuyển sang đơn vị khác.", cases=[case])
    commendation_record(
        actor=users[HOME_AFFAIRS], person=users[COMMENDED],
        level=CommendationLevel.objects.get(code="unit-certificate"), awarded_on=today,
        reason="Giải quyết đúng hạn toàn bộ hồ sơ cấp phép xây dựng nhà ở của phường.")
    return True
