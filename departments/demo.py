"""The demo city loaded by `manage.py load_demo`: a Hải Phòng-like city after the 1 July 2025 reorganization.

Plain data only; `departments/management/commands/load_demo.py` writes it. Unit names follow the 2025
merges (two-tier local government: the city and its communes, wards and special zones); the national
identifiers follow the `000.00.xx.H26` pattern of Hải Phòng's unit codes but are illustrative, not the
official list. Legal bases name the law and article that gives the authority.
"""

import datetime as dt
from decimal import Decimal

from departments.models import CalendarDayKind, DecisionLevel, DepartmentKind, Role

# One documented password for every demo login; create_user does not apply the password validators.
DEMO_PASSWORD = "cityops-demo-2026"  # noqa: S105 - the demo city's, printed in the README

CITY_COMMITTEE = "ubnd"
TWO_TIER_START = dt.date(2025, 7, 1)
DISTRICTS_END = dt.date(2025, 6, 30)
BILLION = Decimal(1_000_000_000)

# (code, name, kind, national identifier); every unit but the committee reports to the committee.
CITY_UNITS = (
    ("ubnd", "UBND thành phố Hải Phòng", DepartmentKind.CITY_COMMITTEE, "000.00.00.H26"),
    ("vp", "Văn phòng UBND thành phố", DepartmentKind.CITY_OFFICE, "000.00.01.H26"),
    ("snv", "Sở Nội vụ", DepartmentKind.HOME_AFFAIRS, "000.00.02.H26"),
    ("stc", "Sở Tài chính", DepartmentKind.DEPARTMENT, "000.00.03.H26"),
    ("sxd", "Sở Xây dựng", DepartmentKind.DEPARTMENT, "000.00.04.H26"),
    ("snnmt", "Sở Nông nghiệp và Môi trường", DepartmentKind.DEPARTMENT, "000.00.05.H26"),
    ("sct", "Sở Công Thương", DepartmentKind.DEPARTMENT, "000.00.06.H26"),
    ("syt", "Sở Y tế", DepartmentKind.DEPARTMENT, "000.00.07.H26"),
    ("sgddt", "Sở Giáo dục và Đào tạo", DepartmentKind.DEPARTMENT, "000.00.08.H26"),
    ("svhttdl", "Sở Văn hóa, Thể thao và Du lịch", DepartmentKind.DEPARTMENT, "000.00.09.H26"),
    ("skhcn", "Sở Khoa học và Công nghệ", DepartmentKind.DEPARTMENT, "000.00.10.H26"),
    ("stp", "Sở Tư pháp", DepartmentKind.DEPARTMENT, "000.00.11.H26"),
    ("ca", "Công an thành phố", DepartmentKind.DEPARTMENT, "000.00.12.H26"),
    ("bqlkkt", "Ban Quản lý Khu kinh tế Hải Phòng", DepartmentKind.DEPARTMENT, "000.00.13.H26"),
    ("ttr", "Thanh tra thành phố", DepartmentKind.INSPECTORATE, "000.00.14.H26"),
)

# Commune-level units that exist since the reorganization: (code, name, national identifier).
COMMUNES = (
    ("p-hong-bang", "UBND phường Hồng Bàng", "000.21.01.H26"),
    ("p-le-chan", "UBND phường Lê Chân", "000.21.02.H26"),
    ("p-ngo-quyen", "UBND phường Ngô Quyền", "000.21.03.H26"),
    ("p-thuy-nguyen", "UBND phường Thủy Nguyên", "000.21.04.H26"),
    ("p-an-duong", "UBND phường An Dương", "000.21.05.H26"),
    ("x-an-hung", "UBND xã An Hưng", "000.21.06.H26"),
    ("x-vinh-bao", "UBND xã Vĩnh Bảo", "000.21.07.H26"),
    ("dk-cat-hai", "UBND đặc khu Cát Hải", "000.21.08.H26"),
    ("dk-bach-long-vi", "UBND đặc khu Bạch Long Vĩ", "000.21.09.H26"),
)

# District committees dissolved on 30 June 2025: kept inactive, because old cases and rules name them.
FORMER_DISTRICTS = (
    ("q-le-chan", "UBND quận Lê Chân", "000.20.02.H26"),
    ("q-hong-bang", "UBND quận Hồng Bàng", "000.20.01.H26"),
    ("h-cat-hai", "UBND huyện Cát Hải", "000.20.08.H26"),
)

# (code, name, processing working days, consultation working days)
CASE_TYPES = (
    ("building-permit", "Cấp giấy phép xây dựng công trình", 20, 7),
    ("house-permit", "Cấp giấy phép xây dựng nhà ở riêng lẻ", 15, 5),
    ("land-allocation", "Giao đất, cho thuê đất", 20, 7),
    ("household-business", "Đăng ký thành lập hộ kinh doanh", 3, None),
    ("investment-approval", "Chấp thuận chủ trương đầu tư dự án", 35, 10),
    ("eia-approval", "Phê duyệt kết quả thẩm định báo cáo đánh giá tác động môi trường", 30, 10),
    ("school-establishment", "Cho phép thành lập trường trung học phổ thông", 20, 7),
    ("medical-licence", "Cấp giấy phép hành nghề khám bệnh, chữa bệnh", 20, 5),
    ("site-inspection", "Kiểm tra công tác nghiệm thu công trình xây dựng", 15, 5),
    ("citizen-complaint", "Giải quyết khiếu nại lần hai", 45, 10),
    ("judicial-record", "Cấp Phiếu lý lịch tư pháp", 10, 5),
    ("public-investment-plan", "Phê duyệt chủ trương đầu tư dự án đầu tư công", 30, 10),
    ("tech-transfer", "Cấp Giấy chứng nhận đăng ký chuyển giao công nghệ", 15, 5),
    ("fuel-retail-licence", "Cấp Giấy chứng nhận cửa hàng đủ điều kiện bán lẻ xăng dầu", 15, 5),
    ("travel-licence", "Cấp Giấy phép kinh doanh dịch vụ lữ hành nội địa", 10, None),
    ("fire-safety-design", "Thẩm duyệt thiết kế về phòng cháy và chữa cháy", 15, 5),
)

_HOUSE_PERMIT_BASIS = "Luật Xây dựng 2014 (sửa đổi 2020), Điều 103 khoản 3; phân quyền cho UBND cấp xã từ 01/7/2025"
_HOUSEHOLD_BUSINESS_BASIS = "Nghị định 168/2025/NĐ-CP về đăng ký doanh nghiệp, đăng ký hộ kinh doanh tại cấp xã"

# Communes whose house permits have a rule. Bạch Long Vĩ is left out on purpose: the special zone's rule
# was never entered, so its dossiers wait in triage with `no_rule` and the admin sees the gap.
_HOUSE_PERMIT_COMMUNES = ("p-hong-bang", "p-le-chan", "p-ngo-quyen", "p-thuy-nguyen", "p-an-duong", "x-an-hung",
                          "x-vinh-bao", "dk-cat-hai")

# Keys: case_type, owner (codes) and optionally locality, min_amount, max_amount, decision_level,
# required_consultees (codes), processing_days, consultation_days, legal_basis, valid_from, valid_to.
# A rule is identified by (case_type, locality, min_amount, max_amount, valid_from): keep those unique.
RULES = (
    {"case_type": "building-permit", "owner": "sxd",
     "legal_basis": "Luật Xây dựng 2014 (sửa đổi 2020), Điều 103 khoản 2"},
    *({"case_type": "house-permit", "locality": commune, "owner": commune, "valid_from": TWO_TIER_START,
       "legal_basis": _HOUSE_PERMIT_BASIS} for commune in _HOUSE_PERMIT_COMMUNES),
    # Before the reorganization the district committees issued them; these rules still explain old cases.
    {"case_type": "house-permit", "locality": "q-le-chan", "owner": "q-le-chan", "valid_from": dt.date(2021, 1, 1),
     "valid_to": DISTRICTS_END, "legal_basis": "Luật Xây dựng 2014 (sửa đổi 2020), Điều 103 khoản 3"},
    {"case_type": "house-permit", "locality": "h-cat-hai", "owner": "h-cat-hai", "valid_from": dt.date(2021, 1, 1),
     "valid_to": DISTRICTS_END, "legal_basis": "Luật Xây dựng 2014 (sửa đổi 2020), Điều 103 khoản 3"},
    *({"case_type": "household-business", "locality": commune, "owner": commune, "valid_from": TWO_TIER_START,
       "legal_basis": _HOUSEHOLD_BUSINESS_BASIS} for commune, _name, _id in COMMUNES),
    {"case_type": "land-allocation", "owner": "snnmt", "decision_level": DecisionLevel.CITY_COMMITTEE,
     "required_consultees": ("sxd", "stc"), "legal_basis": "Luật Đất đai 2024, Điều 123 khoản 1"},
    # Investment: the amount band decides who decides (figures in VND).
    {"case_type": "investment-approval", "owner": "stc", "max_amount": 300 * BILLION,
     "valid_from": dt.date(2021, 1, 1), "processing_days": 15,
     "legal_basis": "Luật Đầu tư 2020, Điều 39; Quyết định phân cấp của UBND thành phố"},
    {"case_type": "investment-approval", "owner": "stc", "min_amount": 300 * BILLION,
     "valid_from": dt.date(2021, 1, 1), "decision_level": DecisionLevel.CITY_COMMITTEE,
     "required_consultees": ("sxd", "snnmt", "sct"),
     "legal_basis": "Luật Đầu tư 2020, Điều 32; Nghị định 31/2021/NĐ-CP, Điều 32"},
    # Inside the economic zone the Zone Authority handles the smaller projects in its own area.
    {"case_type": "investment-approval", "locality": "dk-cat-hai", "owner": "bqlkkt", "max_amount": 300 * BILLION,
     "valid_from": TWO_TIER_START, "processing_days": 15,
     "legal_basis": "Luật Đầu tư 2020, Điều 39 khoản 2; Nghị định 35/2022/NĐ-CP về khu kinh tế"},
    {"case_type": "eia-approval", "owner": "snnmt", "decision_level": DecisionLevel.CITY_COMMITTEE,
     "required_consultees": ("sxd", "syt"), "legal_basis": "Luật Bảo vệ môi trường 2020, Điều 35 khoản 3"},
    {"case_type": "school-establishment", "owner": "sgddt", "decision_level": DecisionLevel.CITY_COMMITTEE,
     "required_consultees": ("snv", "stc"),
     "legal_basis": "Luật Giáo dục 2019, Điều 52; Nghị định 125/2024/NĐ-CP"},
    {"case_type": "medical-licence", "owner": "syt",
     "legal_basis": "Luật Khám bệnh, chữa bệnh 2023; Nghị định 96/2023/NĐ-CP"},
    {"case_type": "site-inspection", "owner": "sxd", "legal_basis": "Nghị định 06/2021/NĐ-CP, Điều 24"},
    {"case_type": "citizen-complaint", "owner": "ttr", "decision_level": DecisionLevel.CHAIRMAN,
     "required_consultees": ("stp",), "legal_basis": "Luật Khiếu nại 2011, Điều 21 khoản 2"},
    {"case_type": "judicial-record", "owner": "stp", "required_consultees": ("ca",),
     "legal_basis": "Luật Lý lịch tư pháp 2009, Điều 44 và 48"},
    {"case_type": "public-investment-plan", "owner": "stc", "decision_level": DecisionLevel.CITY_COMMITTEE,
     "required_consultees": ("sxd", "snnmt"), "legal_basis": "Luật Đầu tư công 2024, Điều 18"},
    {"case_type": "tech-transfer", "owner": "skhcn", "legal_basis": "Luật Chuyển giao công nghệ 2017, Điều 31"},
    {"case_type": "fuel-retail-licence", "owner": "sct", "required_consultees": ("ca",),
     "legal_basis": "Nghị định 83/2014/NĐ-CP, Điều 25 (sửa đổi bởi Nghị định 80/2023/NĐ-CP)"},
    {"case_type": "travel-licence", "owner": "svhttdl", "legal_basis": "Luật Du lịch 2017, Điều 32"},
    {"case_type": "fire-safety-design", "owner": "ca",
     "legal_basis": "Luật Phòng cháy, chữa cháy và cứu nạn, cứu hộ 2024"},
)

# An admin's calendar override, the kind the package learns of too late: the New Year 2026 swap
# (Thursday's holiday bridged by taking Friday off and working a Saturday). Illustrative.
CALENDAR_DAYS = (
    (dt.date(2026, 1, 2), CalendarDayKind.DAY_OFF, "Nghỉ hoán đổi dịp Tết Dương lịch 2026"),
    (dt.date(2026, 1, 10), CalendarDayKind.WORKING_DAY, "Làm bù cho ngày 02/01/2026"),
)

# (username, full name, unit code, role); one login for every role, plus the superuser below.
USERS = (
    # The Chairman, who reads every unit's figures and overdue desk.
    ("ubnd.chutich", "Lê Văn Thành", "ubnd", Role.HEAD),
    ("vp.tiepnhan", "Nguyễn Thị Lan", "vp", Role.CLERK),
    ("vp.chuyenvien", "Đỗ Quang Huy", "vp", Role.CITY_OFFICE),
    ("sxd.giamdoc", "Trần Văn Hùng", "sxd", Role.HEAD),
    ("sxd.phogiamdoc", "Lê Thị Hoa", "sxd", Role.DEPUTY),
    ("sxd.chuyenvien", "Phạm Minh Tuấn", "sxd", Role.SPECIALIST),
    ("stc.giamdoc", "Vũ Đức Thắng", "stc", Role.HEAD),
    ("snnmt.giamdoc", "Hoàng Văn Nam", "snnmt", Role.HEAD),
    ("stp.chuyenvien", "Bùi Thu Trang", "stp", Role.SPECIALIST),
    ("lechan.tiepnhan", "Ngô Thị Hằng", "p-le-chan", Role.CLERK),
    ("lechan.chutich", "Đặng Văn Long", "p-le-chan", Role.HEAD),
    ("thanhtra", "Phan Văn Khải", "ttr", Role.INSPECTOR),
    ("noivu", "Mai Thị Thu", "snv", Role.HOME_AFFAIRS),
)
SUPERUSER = ("admin", "Quản trị hệ thống")
# The login that logs the demo cases at the intake desk.
INTAKE_CLERK = "vp.tiepnhan"

# Logged through the intake service when the database has no case yet, received `days_ago` days before the
# run. The backdated ones show what the lists flag: the land allocation is overdue, and each backdated case
# counts as a late handover, since the intake desk logs it only today.
CASES = (
    {"title": "Cấp giấy phép xây dựng Trung tâm thương mại Lạch Tray", "case_type": "building-permit",
     "locality": "p-ngo-quyen", "applicant_name": "Công ty CP Đầu tư Lạch Tray", "source": "citizen", "days_ago": 0},
    {"title": "Xin cấp phép xây dựng nhà ở riêng lẻ tại số 12 phố Tô Hiệu", "case_type": "house-permit",
     "locality": "p-le-chan", "applicant_name": "Nguyễn Văn An", "source": "citizen", "days_ago": 0},
    {"title": "Dự án nhà máy linh kiện điện tử tại KCN An Dương", "case_type": "investment-approval",
     "locality": "p-an-duong", "amount": 1_200 * BILLION, "applicant_name": "Công ty TNHH Điện tử Hải An",
     "source": "citizen", "days_ago": 5, "key_task": True},
    {"title": "Dự án kho lạnh logistics tại phường Thủy Nguyên", "case_type": "investment-approval",
     "locality": "p-thuy-nguyen", "amount": 120 * BILLION, "applicant_name": "Công ty CP Logistics Bạch Đằng",
     "source": "citizen", "days_ago": 1},
    {"title": "Cấp Phiếu lý lịch tư pháp số 1 cho bà Phạm Thị Mai", "case_type": "judicial-record",
     "applicant_name": "Phạm Thị Mai", "source": "citizen", "days_ago": 0},
    {"title": "Giao đất mở rộng trường tiểu học Vĩnh Bảo", "case_type": "land-allocation",
     "locality": "x-vinh-bao", "applicant_name": "UBND xã Vĩnh Bảo", "source": "agency", "days_ago": 45},
    {"title": "Đăng ký hộ kinh doanh quán ăn gia đình", "case_type": "household-business",
     "locality": "x-an-hung", "applicant_name": "Lương Thị Bích", "source": "citizen", "days_ago": 0},
    # No rule covers Bạch Long Vĩ house permits: this one lands in the triage queue (`no_rule`).
    {"title": "Xin cấp phép xây dựng nhà ở tại đặc khu Bạch Long Vĩ", "case_type": "house-permit",
     "locality": "dk-bach-long-vi", "applicant_name": "Trương Văn Biển", "source": "citizen", "days_ago": 0},
)
