"""Admin for units, staff, case types, authority rules and the calendar (the `admin` role of DESIGN.md §1).

Units, case types, rules and calendar days are checked by the shared functions of departments/services.py
(the API's serializers call the same ones) and written by its services, never by the forms themselves.
Authority rules keep their full history (who, when, why, what, including the required consultees): every
change, revert and deletion asks for a reason, and any version can be restored from the rule's history page
(DESIGN.md §3 "Rule history").
"""

import datetime as dt
from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from core.admin import EMPTY, CalendarDatesAdmin, HistoryAdmin
from core.forms import MAX_NOTE_LENGTH
from core.refusals import Refused
from departments import services
from departments.models import AuthorityRule, CalendarDay, CaseType, Department, Staff
from departments.workdays import WorkingCalendar, local_date

# Django's default header says "Django administration"; officials should see the application's name.
admin.site.site_header = _("CityOps administration")
admin.site.site_title = _("CityOps administration")
admin.site.index_title = _("Administration")
# An empty value in every list, the libraries' included, as the rest of the site shows it: Django's "-" reads as
# a minus sign.
admin.site.empty_value_display = EMPTY


def field_label(model, name: str) -> str:
    return model._meta.get_field(name).verbose_name


def vnd(amount) -> str:
    # Grouped the Vietnamese way whatever the locale's grouping setting: 300.000.000.000, not 300000000000.
    return f"{int(amount):,}".replace(",", ".")


class ServiceForm(forms.ModelForm):
    """A form that checks with the shared validation of departments/services.py; the service writes."""

    service_fields: tuple[str, ...] = ()
    # The shared check of the kind, and the name it takes the stored object by.
    check: Callable[..., dict] | None = None
    check_stored_as = ""

    def clean(self):
        cleaned_data = super().clean()
        if self.check is not None:
            self.shared_check(self.check, self.model_data(), **{self.check_stored_as: self.stored()})
        return cleaned_data

    def stored(self):
        return self.instance if self.instance.pk is not None else None

    def model_data(self) -> dict:
        """The cleaned values of the object's own fields, as the service takes them."""
        return {name: self.cleaned_data[name] for name in self.service_fields
                if name in self.fields and name in self.cleaned_data}

    def add_shared_errors(self, error: ValidationError) -> None:
        for field, field_errors in error.message_dict.items():
            target = field if field in self.fields else None
            # A field that failed its own parsing shows that error; the shared check only saw its stored value.
            if target is not None and target in self.errors:
                continue
            self.add_error(target, field_errors)

    def shared_check(self, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except ValidationError as error:
            self.add_shared_errors(error)
            return None


class DepartmentForm(ServiceForm):
    service_fields = services.DEPARTMENT_FIELDS
    check = staticmethod(services.validate_department)
    check_stored_as = "department"

    class Meta:
        model = Department
        fields = ["code", "name", "kind", "parent", "national_id", "valid_from", "valid_to", "active"]


class CaseTypeForm(ServiceForm):
    service_fields = services.CASE_TYPE_FIELDS
    check = staticmethod(services.validate_case_type)
    check_stored_as = "case_type"

    class Meta:
        model = CaseType
        fields = ["code", "name", "processing_days", "consultation_days", "active"]


class CalendarDayForm(ServiceForm):
    service_fields = services.CALENDAR_DAY_FIELDS
    check = staticmethod(services.validate_calendar_day)
    check_stored_as = "day"

    class Meta:
        model = CalendarDay
        fields = ["date", "kind", "name"]


class ReferenceDataAdmin(CalendarDatesAdmin):
    """Only superusers change reference data, as the services require; the service does every write."""

    def has_add_permission(self, request):
        return services.may_edit_reference_data(request.user)

    def has_change_permission(self, request, obj=None):
        return services.may_edit_reference_data(request.user)

    # Units and case types are closed (inactive, with an end of validity), never deleted: staff, cases and
    # rules name them.
    deletable = True

    def has_delete_permission(self, request, obj=None):
        return self.deletable and services.may_edit_reference_data(request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (Refused, ValidationError) as error:
            return self.refused_on_save(request, error)

    def refused_on_save(self, request, error):
        # The form checked the same before saving; this happens only when another admin's change committed
        # in between (a rule that now ties, a code just taken). Nothing was saved: say why and start over.
        text = error.detail if isinstance(error, Refused) else " ".join(error.messages)
        self.message_user(request, _("Nothing was saved: %(reason)s") % {"reason": text}, messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


@admin.register(Department)
class DepartmentAdmin(ReferenceDataAdmin):
    form = DepartmentForm
    deletable = False
    list_display = ["code", "name", "kind", "national_id", "parent", "valid_from", "valid_to", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "national_id"]
    list_select_related = ["parent"]

    def get_readonly_fields(self, request, obj=None):
        # A unit's code names it in URLs, dossier codes and rule snapshots; it never changes once saved.
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        services.department_save(actor=request.user, department=obj, data=form.model_data())


@admin.register(CaseType)
class CaseTypeAdmin(ReferenceDataAdmin):
    form = CaseTypeForm
    deletable = False
    list_display = ["code", "name", "processing_days", "consultation_days", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        # The code names the case type in URLs and in every case's rule snapshot.
        return ["code"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        services.case_type_save(actor=request.user, case_type=obj, data=form.model_data())


def reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the change"), widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_NOTE_LENGTH,
        error_messages={"required": services.REASON_REQUIRED},
        help_text=_("Kept in the rule's history with your name and the time, e.g. the decision that changes it."),
    )


class RuleReasonForm(forms.Form):
    """Why a rule is deleted: its deletion page asks before anything is deleted."""

    reason = reason_field()


# Fields the rule form takes for the change itself, not for the rule: never part of "what changed".
RULE_CHANGE_FIELDS = ("reason", "confirm_tie")


class AuthorityRuleForm(ServiceForm):
    service_fields = (*services.RULE_FIELDS, "required_consultees")
    reason = reason_field()
    confirm_tie = forms.BooleanField(
        label=_("Save despite a tie"), required=False,
        help_text=_("Tick only when this rule is meant to tie with another active rule for a while: the cases "
                    "both match wait in triage until one of the rules changes."),
    )

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

    @property
    def changed_data(self):
        return [name for name in super().changed_data if name not in RULE_CHANGE_FIELDS]

    def model_data(self) -> dict:
        data = super().model_data()
        if "required_consultees" in data:
            data["required_consultees"] = list(data["required_consultees"])
        return data

    def clean(self):
        cleaned_data = super().clean()
        try:
            services.rule_check(self.model_data(), rule=self.stored(),
                                confirm_tie=bool(cleaned_data.get("confirm_tie")))
        except ValidationError as error:
            self.add_shared_errors(error)
        except Refused as refusal:
            self.add_error(None, "{} {}".format(refusal.detail, _("Tick “%(label)s” to save it anyway.") % {
                "label": self.fields["confirm_tie"].label}))
        if "reason" in cleaned_data:
            cleaned_data["reason"] = self.shared_check(services.validate_reason, cleaned_data["reason"])
        return cleaned_data


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(ReferenceDataAdmin, HistoryAdmin):
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
        (_("This change"), {"fields": ["reason", "confirm_tie"]}),
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
        return ", ".join(unit.name for unit in rule.required_consultees.all()) or "—"

    def decision(self, version) -> str:
        return version.get_decision_level_display()

    def enabled(self, version) -> str:
        return _("Yes") if version.active else _("No")

    def save_model(self, request, obj, form, change):
        # `obj` is the live rule, a new one, or on the revert page the version being restored.
        services.rule_save(actor=request.user, rule=obj, data=form.model_data(), reason=form.cleaned_data["reason"],
                           confirm_tie=bool(form.cleaned_data.get("confirm_tie")))
        # The service set the consultees inside its transaction; the admin's own m2m save (which the revert
        # page calls directly) would write them a second time, outside it.
        form.save_m2m = lambda: None

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        try:
            return super().history_form_view(request, object_id, version_id, extra_context)
        except (Refused, ValidationError) as error:
            return self.refused_on_save(request, error)

    def get_actions(self, request):
        # A rule is deleted on its own page, with the reason its history keeps; there is no bulk deletion.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        # Django's confirmation page deletes on any POST; a rule goes only with a reason, through the service.
        rule = self.get_object(request, unquote(object_id))
        if rule is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_delete_permission(request, rule):
            raise PermissionDenied
        form = RuleReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            shown = str(rule)
            try:
                with transaction.atomic():
                    self.log_deletions(request, [rule])
                    services.rule_delete(actor=request.user, rule=rule, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                return self.refused_on_save(request, error)
            self.message_user(request, _("The authority rule “%(rule)s” was deleted.") % {"rule": shown},
                              messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:departments_authorityrule_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "rule": rule, "form": form,
                   "title": _("Delete an authority rule"), **(extra_context or {})}
        return TemplateResponse(request, "admin/departments/authorityrule/delete.html", context)


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
class CalendarDayAdmin(ReferenceDataAdmin):
    form = CalendarDayForm
    list_display = ["date", "kind", "name"]
    list_filter = ["kind"]
    search_fields = ["name"]
    date_hierarchy = "date"
    change_list_template = "admin/departments/calendarday/change_list.html"

    def changelist_view(self, request, extra_context=None):
        # The year the admin drilled down to, else this one: the holidays the overrides sit among.
        raw = request.GET.get("date__year", "")
        # At most four digits: Python refuses to read a number of thousands of digits at all.
        year = (int(raw) if raw.isdigit() and len(raw) <= 4 and 1900 <= int(raw) <= 2200
                else local_date(timezone.now()).year)
        holidays, weekend_workdays = package_calendar(year)
        context = {"holiday_year": year, "public_holidays": holidays, "weekend_workdays": weekend_workdays}
        return super().changelist_view(request, extra_context={**context, **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        services.calendar_day_save(actor=request.user, day=obj, data=form.model_data())

    def delete_model(self, request, obj):
        services.calendar_day_delete(actor=request.user, day=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for day in queryset:
                services.calendar_day_delete(actor=request.user, day=day)


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

    def get_deleted_objects(self, objs, request):
        """A person who edited authority rules keeps their name on the rules' history, which the database refuses
        to change: deleting them is shown as blocked by those versions (deactivate them instead), never tried."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        versions = AuthorityRule.history.filter(history_user__in=list(objs)).select_related("history_user")
        # The version as the rule's title and the day it was saved, not the library's English "… as of …".
        protected = [*protected, *(_("%(version)s, edited by %(user)s") % {
            "version": f"{version.instance} · {timezone.localtime(version.history_date):%d/%m/%Y %H:%M}",
            "user": version.history_user} for version in versions[:20])]
        return deleted, counts, perms_needed, protected

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
