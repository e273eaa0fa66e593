"""Admin for units, staff, case types, authority rules and the calendar (the `admin` role of DESIGN.md §1).

Authority rules keep their full history (who, when, what, including the required consultees) and any
version can be restored from the rule's history page (DESIGN.md §3 "Rule history").
"""

import datetime as dt

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin

from departments.models import AuthorityRule, CalendarDay, CaseType, Department, Staff
from departments.workdays import WorkingCalendar, local_date

# Django's default header says "Django administration"; officials should see the application's name.
admin.site.site_header = _("CityOps administration")
admin.site.site_title = _("CityOps administration")
admin.site.index_title = _("Administration")


def field_label(model, name: str) -> str:
    return model._meta.get_field(name).verbose_name


def vnd(amount) -> str:
    # Grouped the Vietnamese way whatever the locale's grouping setting: 300.000.000.000, not 300000000000.
    return f"{int(amount):,}".replace(",", ".")


def check_valid_range(cleaned_data: dict) -> None:
    valid_from, valid_to = cleaned_data.get("valid_from"), cleaned_data.get("valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise ValidationError({"valid_to": _("The end of validity cannot be before its start.")})


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = ["code", "name", "kind", "parent", "national_id", "valid_from", "valid_to", "active"]

    def clean(self):
        cleaned_data = super().clean()
        check_valid_range(cleaned_data)
        return cleaned_data


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    form = DepartmentForm
    list_display = ["code", "name", "kind", "national_id", "parent", "valid_from", "valid_to", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "national_id"]
    list_select_related = ["parent"]


@admin.register(CaseType)
class CaseTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "processing_days", "consultation_days", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]


class AuthorityRuleForm(forms.ModelForm):
    class Meta:
        model = AuthorityRule
        fields = ["case_type", "locality", "min_amount", "max_amount", "owner", "decision_level",
                  "required_consultees", "processing_days", "consultation_days", "legal_basis", "valid_from",
                  "valid_to", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "locality" in self.fields:
            self.fields["locality"].queryset = Department.objects.localities()
        # On a history page the instance is rebuilt from a historical row, whose consultees the form would
        # otherwise read from the live rule: show the version's own, so that "Revert" restores them too.
        version = getattr(self.instance, "_history", None)
        if version is not None and not self.is_bound:
            self.initial["required_consultees"] = list(
                version.required_consultees.values_list("department_id", flat=True)
            )

    def clean(self):
        cleaned_data = super().clean()
        low, high = cleaned_data.get("min_amount"), cleaned_data.get("max_amount")
        if low is not None and low < 0:
            self.add_error("min_amount", _("The amount cannot be negative."))
        if low is not None and high is not None and high <= low:
            self.add_error("max_amount", _("The maximum must be greater than the minimum."))
        check_valid_range(cleaned_data)
        return cleaned_data


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(SimpleHistoryAdmin):
    form = AuthorityRuleForm
    list_display = ["id", "case_type", "locality", "amount_band", "owner", "decision_level", "consultees",
                    "processing_days", "valid_from", "valid_to", "active"]
    list_display_links = ["id", "case_type"]
    list_filter = ["case_type", "owner", "decision_level", "active"]
    search_fields = ["case_type__code", "case_type__name", "owner__code", "owner__name", "legal_basis"]
    filter_horizontal = ["required_consultees"]
    # simple_history heads each history column with its translated attribute name and prints the raw value,
    # so the columns are admin methods named by plain words that show labels rather than codes.
    history_list_display = ["owner", "decision", "enabled"]
    history_column_names = (gettext_noop("decision"), gettext_noop("enabled"))
    fieldsets = [
        (None, {"fields": ["case_type", "locality", ("min_amount", "max_amount")]}),
        (None, {"fields": ["owner", "decision_level", "required_consultees"]}),
        (None, {"fields": [("processing_days", "consultation_days"), "legal_basis", ("valid_from", "valid_to"),
                           "active"]}),
    ]

    def get_queryset(self, request):
        return (super().get_queryset(request).select_related("case_type", "locality", "owner")
                .prefetch_related("required_consultees"))

    @admin.display(description=_("amount band (VND)"))
    def amount_band(self, rule):
        if rule.min_amount is None and rule.max_amount is None:
            return "—"
        low = vnd(rule.min_amount) if rule.min_amount is not None else "0"
        high = vnd(rule.max_amount) if rule.max_amount is not None else "∞"
        return f"[{low}; {high})"

    @admin.display(description=field_label(AuthorityRule, "required_consultees"))
    def consultees(self, rule):
        return ", ".join(unit.code for unit in rule.required_consultees.all()) or "—"

    def decision(self, version) -> str:
        return version.get_decision_level_display()

    def enabled(self, version) -> str:
        return _("Yes") if version.active else _("No")


def package_calendar(year: int) -> tuple[list[tuple[dt.date, str]], list[dt.date]]:
    """The year's public holidays and swapped working weekend days as the holidays package knows them."""
    package = WorkingCalendar()
    day, holidays, weekend_workdays = dt.date(year, 1, 1), [], []
    while day.year == year:
        name = package.holiday_name(day)
        if name:
            holidays.append((day, name))
        elif day.weekday() >= 5 and package.is_working_day(day):
            weekend_workdays.append(day)
        day += dt.timedelta(days=1)
    return holidays, weekend_workdays


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    change_list_template = "admin/departments/calendarday/change_list.html"

    def changelist_view(self, request, extra_context=None):
        # The year the admin drilled down to, else this one: the holidays the overrides sit among.
        raw = request.GET.get("date__year", "")
        year = int(raw) if raw.isdigit() and 1900 <= int(raw) <= 2200 else local_date(timezone.now()).year
        holidays, weekend_workdays = package_calendar(year)
        context = {"holiday_year": year, "public_holidays": holidays, "weekend_workdays": weekend_workdays}
        return super().changelist_view(request, extra_context={**context, **(extra_context or {})})


class StaffInline(admin.StackedInline):
    model = Staff
    fk_name = "user"
    can_delete = True
    max_num = 1
    autocomplete_fields = ["department"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class CityUserAdmin(UserAdmin):
    inlines = [StaffInline]
    list_display = ["username", "first_name", "last_name", "department", "role", "is_active", "is_superuser"]
    list_select_related = ["staff__department"]
    list_filter = [*UserAdmin.list_filter, "staff__role"]

    @admin.display(description=field_label(Staff, "department"), ordering="staff__department__name")
    def department(self, user):
        staff = getattr(user, "staff", None)
        return staff.department if staff else "—"

    @admin.display(description=field_label(Staff, "role"), ordering="staff__role")
    def role(self, user):
        staff = getattr(user, "staff", None)
        return staff.get_role_display() if staff else "—"


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["user", "full_name", "department", "role"]
    list_filter = ["role", "department__kind", "department"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "department__code", "department__name"]
    list_select_related = ["user", "department"]
    autocomplete_fields = ["user", "department"]

    @admin.display(description=_("full name"), ordering="user__first_name")
    def full_name(self, staff):
        return staff.user.get_full_name()
