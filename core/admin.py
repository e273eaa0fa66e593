"""Admin pieces every app uses for rows that only services write: shown, never added, changed or deleted."""

import datetime as dt

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin  # type: ignore[import-untyped]
from simple_history.template_utils import HistoricalRecordContextHelper  # type: ignore[import-untyped]

from core.models import PersonalDataRead, RefusedAttempt
from core.periods import calendar_years


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent that only services write: nothing added, changed or deleted here."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CalendarDatesAdmin(admin.ModelAdmin):
    """A list whose date drill-down (`date_hierarchy`) stays within the calendar's years: Django adds a day, a
    month or a year to the date asked for, which past 9999 overflows (a 500). A year outside is a wrong filter,
    answered as any other is: the list without filters, saying so."""

    def get_changelist_instance(self, request):
        if self.date_hierarchy:
            year = request.GET.get(f"{self.date_hierarchy}__year")
            first, last = calendar_years()
            if year is not None and not (year.isdigit() and len(year) <= 4 and first <= int(year) <= last):
                raise IncorrectLookupParameters(f"no year {year!r} in the calendar")
        return super().get_changelist_instance(request)


class ReadOnlyAdmin(CalendarDatesAdmin):
    """Rows that services write as part of a move: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# What the admin shows for no value, in its lists (departments/admin.py sets it on the site) and in a history.
EMPTY = "—"


def readable_value(field, value) -> str:
    """A field's value in a version's list of changes, as an official reads it: a choice's label, a yes or no, a
    date day first, names joined by commas, and "—" for nothing (the library wrote "None", codes and ISO dates)."""
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if getattr(field, "choices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%d/%m/%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


class ReadableChanges(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        return readable_value(self.model._meta.get_field(change.field), value)


class HistoryAdmin(SimpleHistoryAdmin):
    """django-simple-history's admin, where an address whose key is no key of the table is not found: its history
    pages pass the address's text to a query as it is, and text where a number belongs was a 500. Its list of
    versions reads as the rest of the admin: values as labels and names, "—" where there is none."""

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableChanges(self.model, historical_record)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        for record in historical_records:
            # Shown only, never saved: a version that was saved without a reason (by a script, say).
            if not record.history_change_reason:
                record.history_change_reason = EMPTY

    def history_view(self, request, object_id, extra_context=None):
        _key_or_404(self.model, unquote(object_id))
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _key_or_404(self.model, unquote(object_id))
        _key_or_404(getattr(self.model, self.model._meta.simple_history_manager_attribute).model, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)


def _key_or_404(model, value) -> None:
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        raise Http404 from None


def guard_libraries_drill_downs(site: admin.AdminSite = admin.site) -> None:
    """The lists the libraries registered before this module (django-axes, celery beat) get the same guard: each
    is registered again with its own admin class behind `CalendarDatesAdmin`."""
    for model, model_admin in list(site._registry.items()):
        if model_admin.date_hierarchy and not isinstance(model_admin, CalendarDatesAdmin):
            guarded = type(type(model_admin).__name__, (CalendarDatesAdmin, type(model_admin)), {})
            site.unregister(model)
            site.register(model, guarded)


guard_libraries_drill_downs()


@admin.register(PersonalDataRead)
class PersonalDataReadAdmin(ReadOnlyAdmin):
    """Who read personal data from outside the case's units, and every export (Law 91/2025/QH15): for admins
    only, as nobody else accounts for it; rows are never added, changed or deleted here."""

    list_display = ["at", "reader", "kind", "subject", "item", "query", "address"]
    list_filter = ["kind", ("at", admin.DateFieldListFilter), ("reader", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["subject", "item", "reader__username", "reader__last_name"]
    date_hierarchy = "at"
    list_select_related = ["reader"]
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):
        return self.has_view_permission(request)


@admin.register(RefusedAttempt)
class RefusedAttemptAdmin(ReadOnlyAdmin):
    """Refused moves that had no record to go on (a case never logged): read-only, as every trail."""

    list_display = ["at", "actor", "attempted", "code", "detail"]
    list_filter = ["code", "attempted"]
    list_select_related = ["actor"]
    date_hierarchy = "at"
