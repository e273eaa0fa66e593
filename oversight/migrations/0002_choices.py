"""The lists as the law stands in 2026, for the admins to keep up to date (DESIGN.md §2 rule 10)."""

from django.db import migrations

ONE_STOP_SHOP = "Nghị định 118/2025/NĐ-CP (trước đây Nghị định 61/2018/NĐ-CP, Điều 5)"
DISCIPLINE = "Nghị định 172/2025/NĐ-CP"
EMULATION = "Luật Thi đua, khen thưởng 2022"

CHOICES = {
    "ViolationKind": [
        ("harassment", "Cửa quyền, sách nhiễu, gây phiền hà", ONE_STOP_SHOP, {}),
        ("papers-not-required", "Yêu cầu giấy tờ ngoài quy định của pháp luật", ONE_STOP_SHOP, {}),
        ("unjustified-delay", "Chậm trễ, từ chối giải quyết không có lý do chính đáng", ONE_STOP_SHOP, {}),
        ("shifting-responsibility", "Đùn đẩy, né tránh trách nhiệm", ONE_STOP_SHOP, {}),
        ("outside-desk", "Giao dịch với người yêu cầu ngoài Bộ phận Một cửa", ONE_STOP_SHOP, {}),
        ("data-leak-or-alteration", "Làm lộ, làm sai lệch thông tin, dữ liệu", ONE_STOP_SHOP, {}),
        ("other", "Vi phạm khác", "", {}),
    ],
    "Severity": [
        ("less-serious", "Ít nghiêm trọng", DISCIPLINE, {}),
        ("serious", "Nghiêm trọng", DISCIPLINE, {}),
        ("very-serious", "Rất nghiêm trọng", DISCIPLINE, {}),
    ],
    "ActionKind": [
        ("review-meeting", "Kiểm điểm", "", {"disciplinary": False}),
        ("reassignment", "Điều động, bố trí công việc khác", "Văn bản 966/UBND-KSTTHC", {"disciplinary": False}),
        ("reprimand", "Khiển trách", DISCIPLINE, {"disciplinary": True}),
        ("warning", "Cảnh cáo", DISCIPLINE, {"disciplinary": True}),
        ("dismissal-from-post", "Cách chức", DISCIPLINE, {"disciplinary": True}),
        ("forced-resignation", "Buộc thôi việc", DISCIPLINE, {"disciplinary": True}),
        ("removal-from-office", "Bãi nhiệm", DISCIPLINE, {"disciplinary": True}),
    ],
    "CommendationLevel": [
        ("unit-certificate", "Giấy khen của thủ trưởng cơ quan, đơn vị", EMULATION, {}),
        ("city-certificate", "Bằng khen của Chủ tịch UBND thành phố", EMULATION, {}),
        ("emulation-fighter", "Chiến sĩ thi đua cơ sở", EMULATION, {}),
    ],
}


def create_choices(apps, schema_editor):
    for model_name, rows in CHOICES.items():
        model = apps.get_model("oversight", model_name)
        for position, (code, name, legal_basis, extra) in enumerate(rows, start=1):
            model.objects.get_or_create(code=code, defaults={"name": name, "legal_basis": legal_basis,
                                                             "position": position, **extra})
    apps.get_model("oversight", "ReviewThresholds").objects.get_or_create(pk=1)


def remove_choices(apps, schema_editor):
    for model_name, rows in CHOICES.items():
        apps.get_model("oversight", model_name).objects.filter(code__in=[row[0] for row in rows]).delete()


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_initial")]

    operations = [migrations.RunPython(create_choices, remove_choices)]
