"""Admin pieces every app uses for rows that only services write: shown, never added, changed or deleted."""

from django.contrib import admin

from core.models import PersonalDataRead, RefusedAttempt


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent that only services write: nothing added, changed or deleted here."""

    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that services write as part of a move: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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
