"""Cases in the admin: a window, not a lever.

Intake logs cases and the services move them (STYLE.md §1), so the admin adds none, deletes none and
leaves status, owner, assignee, rule and deadlines alone; only clerical fields can be corrected, and
Django's admin log keeps who corrected what. The event trail is shown read-only: it is append-only.
"""

from django.contrib import admin

from cases.models import Case, CaseEvent
from cases.selectors import cases_visible_to, with_list_relations

# What an admin may correct by hand: wording, not anything that routing or a service decides.
CLERICAL_FIELDS = frozenset({"title", "description", "applicant_name", "applicant_contact"})


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ["at", "actor", "action", "from_status", "to_status", "from_department", "to_department", "note",
              "payload"]
    readonly_fields = fields
    ordering = ["at", "id"]
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "from_department", "to_department")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["reference", "title", "case_type", "owner", "status", "assignee", "due_date", "key_task"]
    list_filter = ["status", "key_task", "triage_reason", "case_type", "owner"]
    search_fields = ["reference", "title"]
    date_hierarchy = "received_at"
    inlines = [CaseEventInline]
    fieldsets = [
        (None, {"fields": ["reference", "pin", "title", "description", "case_type", "locality", "amount", "source",
                           "applicant_name", "applicant_contact", "received_at", "receiving_unit", "created_by",
                           "created_at"]}),
        (None, {"fields": ["status", "triage_reason", "owner", "assignee", "key_task", "due_date", "rule",
                           "decision_level", "rule_snapshot"]}),
        (None, {"fields": ["triage_since", "handover_due_at", "handed_over_at", "handover_late"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # Everything but the clerical fields, so that a field added to Case later starts out read-only.
        return [field.name for field in Case._meta.concrete_fields
                if not field.primary_key and field.name not in CLERICAL_FIELDS]

    def get_queryset(self, request):
        return with_list_relations(cases_visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
