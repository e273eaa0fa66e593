"""Admin pieces every app uses for rows that only services write: shown, never added, changed or deleted."""

from django.contrib import admin


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
