"""The small city every test shares (STYLE.md §9), and the helpers that make its people and dates.

The City Committee with its head (the Chairman); an owner department with head, deputy, specialist and clerk;
a consulted department; an outsider; the city office, the Inspectorate and Home Affairs; two communes; a
superuser admin. Two case types and a few authority rules, so each test starts from the same known world
(the `city` fixture, tests/conftest.py).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from departments.models import AuthorityRule, CaseType, DecisionLevel, Department, DepartmentKind, Role, Staff

PASSWORD = "correct-horse-battery-9"


@dataclass
class City:
    owner: Department
    consulted: Department
    outsider: Department
    city_committee: Department
    city_office: Department
    inspectorate: Department
    home_affairs: Department
    ward: Department
    commune: Department
    permit: CaseType
    land: CaseType
    permit_rule: AuthorityRule
    land_rule: AuthorityRule
    users: dict

    def user(self, name):
        return self.users[name]


def make_user(username, *, department=None, role=None, superuser=False, full_name=""):
    first, _, last = full_name.partition(" ")
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.test",
        first_name=first, last_name=last, is_superuser=superuser, is_staff=superuser,
    )
    if department is not None:
        Staff.objects.create(user=user, department=department, role=role)
    return user


def make_department(code, name, kind=DepartmentKind.DEPARTMENT, **extra):
    return Department.objects.create(code=code, name=name, kind=kind, **extra)


def local_datetime(year, month, day, hour=9, minute=0):
    return timezone.make_aware(dt.datetime(year, month, day, hour, minute))


def money(value) -> Decimal:
    return Decimal(value)


def build_city() -> City:
    """The shared small city, written to the test database."""
    committee = make_department("ubnd", "UBND thành phố", DepartmentKind.CITY_COMMITTEE)
    office = make_department("vp", "Văn phòng UBND thành phố", DepartmentKind.CITY_OFFICE, parent=committee,
                             national_id="VP")
    owner = make_department("sxd", "Sở Xây dựng", parent=committee, national_id="SXD")
    consulted = make_department("snnmt", "Sở Nông nghiệp và Môi trường", parent=committee)
    outsider = make_department("stc", "Sở Tài chính", parent=committee)
    inspectorate = make_department("ttr", "Thanh tra thành phố", DepartmentKind.INSPECTORATE, parent=committee)
    home_affairs = make_department("snv", "Sở Nội vụ", DepartmentKind.HOME_AFFAIRS, parent=committee)
    ward = make_department("p-le-chan", "Phường Lê Chân", DepartmentKind.COMMUNE, parent=committee)
    commune = make_department("x-an-duong", "Xã An Dương", DepartmentKind.COMMUNE, parent=committee)

    permit = CaseType.objects.create(code="building-permit", name="Cấp giấy phép xây dựng", processing_days=15,
                                     consultation_days=5)
    land = CaseType.objects.create(code="land-allocation", name="Giao đất, cho thuê đất", processing_days=20)
    permit_rule = AuthorityRule.objects.create(case_type=permit, owner=owner,
                                               legal_basis="Luật Xây dựng 2014, Điều 103")
    land_rule = AuthorityRule.objects.create(case_type=land, owner=consulted,
                                             decision_level=DecisionLevel.CITY_COMMITTEE,
                                             legal_basis="Luật Đất đai 2024, Điều 123")
    land_rule.required_consultees.set([owner, outsider])

    users = {
        "head": make_user("head", department=owner, role=Role.HEAD, full_name="Trần Văn Hùng"),
        # The Chairman: the head of the City Committee's own unit.
        "committee_head": make_user("committee_head", department=committee, role=Role.HEAD, full_name="Lê Văn Thành"),
        "deputy": make_user("deputy", department=owner, role=Role.DEPUTY, full_name="Lê Thị Hoa"),
        "specialist": make_user("specialist", department=owner, role=Role.SPECIALIST, full_name="Phạm Minh Tuấn"),
        "clerk": make_user("clerk", department=owner, role=Role.CLERK, full_name="Nguyễn Thị Lan"),
        "consulted_head": make_user("consulted_head", department=consulted, role=Role.HEAD),
        "consulted_specialist": make_user("consulted_specialist", department=consulted, role=Role.SPECIALIST),
        "outsider_head": make_user("outsider_head", department=outsider, role=Role.HEAD),
        "outsider_specialist": make_user("outsider_specialist", department=outsider, role=Role.SPECIALIST),
        "city_office": make_user("city_office", department=office, role=Role.CITY_OFFICE),
        "inspector": make_user("inspector", department=inspectorate, role=Role.INSPECTOR),
        "home_affairs": make_user("home_affairs", department=home_affairs, role=Role.HOME_AFFAIRS),
        "admin": make_user("admin", superuser=True),
        "nobody": make_user("nobody"),
    }
    return City(owner=owner, consulted=consulted, outsider=outsider, city_committee=committee, city_office=office,
                inspectorate=inspectorate, home_affairs=home_affairs, ward=ward, commune=commune, permit=permit,
                land=land, permit_rule=permit_rule, land_rule=land_rule, users=users)
