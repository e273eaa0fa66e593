"""Oversight in the admin: the lists the law sets, edited with history; the records themselves only shown.

The kinds of violation, severities, kinds of action and commendation levels change with the decrees, so the
admins keep them, each change kept with who and when. A choice in use is switched off rather than deleted
(the records keep pointing at it; the database refuses the deletion). The staff report's thresholds are one
row, edited in place. Inspections, violations, actions taken and commendations are written by the oversight
pages through their services, which check the rules and the deadlines; here they are read-only.
"""

from django.contrib import admin
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from cases.admin import NoticeAdmin
from core.admin import HistoryAdmin, ReadOnlyAdmin, ReadOnlyInline
from oversight.models import (
    ActionKind,
    ActionTaken,
    Commendation,
    CommendationLevel,
    Inspection,
    InspectionAttachment,
    OversightEvent,
    ReviewThresholds,
    Severity,
    Violation,
    ViolationKind,
    ViolationNotice,
)


class ChoiceTableAdmin(HistoryAdmin):
    list_display = ["code", "name", "position", "active", "legal_basis"]
    list_display_links = ["code", "name"]
    list_editable = ["position", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name", "legal_basis"]
    fields = ["code", "name", "legal_basis", "position", "active"]

    def get_readonly_fields(self, request, obj=None):
        # Exports name a choice by its code: once made, it stays.
        return ["code"] if obj is not None else []


admin.site.register(ViolationKind, ChoiceTableAdmin)
admin.site.register(Severity, ChoiceTableAdmin)
admin.site.register(CommendationLevel, ChoiceTableAdmin)


@admin.register(ActionKind)
class ActionKindAdmin(ChoiceTableAdmin):
    list_display = ["code", "name", "disciplinary", "position", "active", "legal_basis"]
    list_filter = ["active", "disciplinary"]
    fields = ["code", "name", "disciplinary", "legal_basis", "position", "active"]


@admin.register(ReviewThresholds)
class ReviewThresholdsAdmin(HistoryAdmin):
    """One row: the list goes straight to it; it is never added twice and never deleted."""

    fieldsets = [
        (None, {"fields": ["min_cases_for_rate"]}),
        (_("Needs review"), {"fields": ["review_on_time_below", "review_overdue_at_least",
                                        "review_late_returns_at_least", "review_refusals_at_least",
                                        "review_late_consultations_at_least"]}),
        (_("Commendation candidates"), {"fields": ["commend_cases_at_least", "commend_on_time_at_least"]}),
    ]

    def changelist_view(self, request, extra_context=None):
        return redirect("admin:oversight_reviewthresholds_change", ReviewThresholds.current().pk)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not ReviewThresholds.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


class InspectionAttachmentInline(ReadOnlyInline):
    model = InspectionAttachment
    # The stored name, not a link: files are handed out only by the oversight pages, to overseers.
    fields = ["original_name", "content_type", "size", "sha256", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


class OversightEventInline(ReadOnlyInline):
    model = OversightEvent
    fields = ["at", "actor", "action", "note", "payload"]
    readonly_fields = fields
    ordering = ["at", "id"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["inspected_on", "department", "kind", "recorded_by", "recorded_at"]
    list_filter = ["kind", "department__kind", "department"]
    search_fields = ["department__code", "department__name", "findings"]
    list_select_related = ["department", "recorded_by"]
    date_hierarchy = "inspected_on"
    fields = ["department", "kind", "inspected_on", "team", "findings", "recorded_by", "recorded_at"]
    inlines = [InspectionAttachmentInline, OversightEventInline]


class ActionTakenInline(ReadOnlyInline):
    model = ActionTaken
    fields = ["kind", "decided_on", "decision_number", "note", "recorded_by", "recorded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("kind", "recorded_by")


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["id", "person", "department", "kind", "severity", "source", "discovered_on", "status", "due_date",
                    "handler"]
    list_filter = ["status", "source", "kind", "severity", "department"]
    search_fields = ["person__username", "person__first_name", "person__last_name", "department__name",
                     "description"]
    list_select_related = ["person", "department", "kind", "severity", "handler"]
    date_hierarchy = "discovered_on"
    inlines = [ActionTakenInline, OversightEventInline]
    fieldsets = [
        (None, {"fields": ["person", "department", "discovered_on", "source", "inspection", "kind", "severity",
                           "description", "cases", "recorded_by", "recorded_at"]}),
        (_("Handling"), {"fields": ["status", "handler", "due_date", "due_date_before_extension", "extended_at",
                                    "extended_by", "extension_reason", "closed_at", "closed_by", "closing_note"]}),
    ]


@admin.register(ActionTaken)
class ActionTakenAdmin(ReadOnlyAdmin):
    list_display = ["decided_on", "kind", "violation", "decision_number", "recorded_by"]
    list_filter = ["kind", "kind__disciplinary"]
    search_fields = ["decision_number", "note", "violation__person__username", "violation__person__last_name"]
    # The violation names itself by its kind.
    list_select_related = ["kind", "violation__kind", "recorded_by"]
    date_hierarchy = "decided_on"


@admin.register(Commendation)
class CommendationAdmin(ReadOnlyAdmin):
    list_display = ["awarded_on", "person", "department", "level", "decision_number", "recorded_by"]
    list_filter = ["level", "department"]
    search_fields = ["person__username", "person__first_name", "person__last_name", "department__name", "reason",
                     "decision_number"]
    list_select_related = ["person", "department", "level", "recorded_by"]
    date_hierarchy = "awarded_on"


@admin.register(OversightEvent)
class OversightEventAdmin(ReadOnlyAdmin):
    """The oversight records' audit trail: who changed which record when, and every refused attempt."""

    list_display = ["at", "actor", "action", "inspection", "violation", "commendation"]
    list_filter = ["action"]
    search_fields = ["actor__username", "note"]
    list_select_related = ["actor", "inspection__department", "violation__kind", "commendation__level"]
    date_hierarchy = "at"


@admin.register(ViolationNotice)
class ViolationNoticeAdmin(NoticeAdmin):
    list_display = ["created_at", "recipient", "kind", "violation", "on_date", "read_at", "mail_state",
                    "mail_attempts"]
    list_select_related = ["recipient", "violation__kind"]
