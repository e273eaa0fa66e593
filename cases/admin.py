"""Cases in the admin: a window, not a lever.

Intake logs cases and the services move them (STYLE.md §1), so the admin adds none, deletes none and
leaves status, owner, assignee, rule and deadlines alone; only clerical fields can be corrected, through the
`case_correct` service like any other move (row lock, version, an event with each field's old and new
value). The event trail is shown read-only: it is append-only. Returns, submissions and attachments are
read-only too; rule disputes are settled by an admin action that calls the service, so the settlement is
written to the case's trail like any other move.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminTextareaWidget
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from cases import policy
from cases.forms.intake import description_field
from cases.models import Attachment, Case, CaseEvent, DisputeStatus, Notification, Return, RuleDispute, Submission
from cases.services import CLERICAL_FIELDS, case_correct, dispute_settle
from core.admin import CalendarDatesAdmin, ReadOnlyAdmin, ReadOnlyInline
from core.notices import MailState
from core.refusals import Refused


class CaseCorrectionForm(forms.ModelForm):
    """The clerical fields, and the version of the case the admin saw, so that a correction made on an older
    view of the case is refused instead of undoing someone's move."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)
    description = description_field(widget=AdminTextareaWidget())

    class Meta:
        model = Case
        fields = list(CLERICAL_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen_version"].initial = self.instance.version


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ["at", "actor", "action", "from_status", "to_status", "from_department", "to_department", "note",
              "payload"]
    readonly_fields = fields
    ordering = ["at", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor", "from_department", "to_department")


@admin.register(Case)
class CaseAdmin(CalendarDatesAdmin):
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
        (None, {"fields": ["accepted_at", "resolved_at", "outcome", "resolution", "supplement_requested_at",
                           "supplement_items", "supplement_completed_at", "version"]}),
        (_("Deadline"), {"fields": ["extended_at", "extended_by", "due_date_before_extension", "extension_reason"]}),
    ]

    form = CaseCorrectionForm

    def get_fieldsets(self, request, obj=None):
        # The version the admin saw travels with the form, hidden.
        return [*self.fieldsets, (None, {"fields": ["seen_version"], "classes": ["hidden"]})]

    def get_readonly_fields(self, request, obj=None):
        # Everything but the clerical fields, so that a field added to Case later starts out read-only.
        return [field.name for field in Case._meta.concrete_fields
                if not field.primary_key and field.name not in CLERICAL_FIELDS]

    def save_model(self, request, obj, form, change):
        """Through the service, never `obj.save()`: the row as stored is locked and only what changed is
        written; a refusal is told and the page shown again."""
        corrections = {name: form.cleaned_data[name] for name in CLERICAL_FIELDS}
        try:
            case_correct(case=obj, actor=request.user, expected_version=form.cleaned_data["seen_version"],
                         **corrections)
        except Refused as refusal:
            request._correction_refused = refusal

    def log_change(self, request, obj, message):
        if not hasattr(request, "_correction_refused"):
            super().log_change(request, obj, message)

    def response_change(self, request, obj):
        refusal = getattr(request, "_correction_refused", None)
        if refusal is None:
            return super().response_change(request, obj)
        self.message_user(request, refusal.detail, messages.ERROR)
        return redirect(request.path)

    def get_queryset(self, request):
        return policy.with_list_relations(policy.cases_visible_to(request.user))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def case_link(case: Case) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[case.pk]), case.reference)


class NoticeAdmin(ReadOnlyAdmin):
    """Where an admin sees whose mail failed and why; the sweep and the services write these rows."""

    list_display = ["created_at", "recipient", "kind", "on_date", "read_at", "mail_state", "mail_attempts"]
    list_filter = ["kind", "mail_state"]
    search_fields = ["recipient__username"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["mail_again"]

    @admin.action(description=_("Send the e-mail again"))
    def mail_again(self, request, queryset):
        from cases.notifications import queue_mail

        # Not one a worker is mailing right now: that would send it twice.
        count = queryset.exclude(mail_state__in=[MailState.NONE, MailState.SENDING]).update(
            mail_state=MailState.PENDING, mail_attempts=0)
        queue_mail()
        self.message_user(request, ngettext("%(count)d notice queued for mailing.",
                                            "%(count)d notices queued for mailing.", count) % {"count": count})


@admin.register(Notification)
class NotificationAdmin(NoticeAdmin):
    list_display = ["created_at", "recipient", "kind", "case", "on_date", "read_at", "mail_state", "mail_attempts"]
    search_fields = ["recipient__username", "case__reference"]
    list_select_related = ["recipient", "case"]


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "returned_by", "returned_at", "late", "working_days_held",
                    "competent_department"]
    list_filter = ["late", "department"]
    search_fields = ["case__reference", "case__title", "reason"]
    list_select_related = ["case", "department", "returned_by", "competent_department"]
    date_hierarchy = "returned_at"


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "submitted_by", "submitted_at", "outcome", "decided_by", "decided_at"]
    list_filter = ["outcome", "department"]
    search_fields = ["case__reference", "case__title", "summary"]
    list_select_related = ["case", "department", "submitted_by", "decided_by"]
    date_hierarchy = "submitted_at"


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["original_name", "case", "content_type", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["content_type"]
    search_fields = ["case__reference", "original_name", "sha256"]
    list_select_related = ["case", "uploaded_by"]
    # The stored name, not a link: files are served only through the API, which checks who sees the case.
    fields = ["case", "original_name", "content_type", "size", "sha256", "stored_as", "uploaded_by", "uploaded_at"]
    readonly_fields = ["stored_as"]

    @admin.display(description=_("stored as"))
    def stored_as(self, attachment):
        return attachment.file.name


class SettlementForm(forms.Form):
    note = forms.CharField(label=_("Settlement note"), widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                           max_length=10_000,
                           help_text=_("Written to each case's history: what was decided about the rule, and why."))


@admin.register(RuleDispute)
class RuleDisputeAdmin(ReadOnlyAdmin):
    list_display = ["case", "department", "status", "filed_by", "filed_at", "rule_link", "settled_by", "settled_at"]
    list_filter = ["status", "department"]
    search_fields = ["case__reference", "case__title", "reason"]
    # The rule's title names its case type, locality and owner (departments/models.py).
    list_select_related = ["case", "department", "rule", "rule__case_type", "rule__locality", "rule__owner", "filed_by",
                           "settled_by"]
    date_hierarchy = "filed_at"
    actions = ["settle_rule_changed", "settle_dismissed"]
    fields = ["case_link", "rule_link", "department", "filed_by", "filed_at", "reason", "status", "settled_by",
              "settled_at", "settlement_note"]
    readonly_fields = ["case_link", "rule_link"]
    settle_template = "admin/cases/ruledispute/settle.html"

    @admin.display(description=_("case"))
    def case_link(self, dispute):
        return case_link(dispute.case)

    @admin.display(description=_("rule"))
    def rule_link(self, dispute):
        # The admin edits the rule on its own page (with history) before settling as "rule changed".
        if dispute.rule is None:
            return "—"
        url = reverse("admin:departments_authorityrule_change", args=[dispute.rule_id])
        return format_html('<a href="{}">{}</a>', url, dispute.rule)

    def has_settle_permission(self, request):
        return policy.is_admin(request.user)

    @admin.action(description=_("Settle: rule changed"), permissions=["settle"])
    def settle_rule_changed(self, request, queryset):
        return self.settle(request, queryset, DisputeStatus.RULE_CHANGED)

    @admin.action(description=_("Settle: dismissed"), permissions=["settle"])
    def settle_dismissed(self, request, queryset):
        return self.settle(request, queryset, DisputeStatus.DISMISSED)

    def settle(self, request, queryset, status: str):
        """Ask for the note on an intermediate page, then settle each open dispute through the service."""
        form = SettlementForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self.settlement_page(request, queryset, status, form)
        settled = 0
        for dispute in queryset:
            try:
                dispute_settle(dispute=dispute, actor=request.user, status=status, note=form.cleaned_data["note"])
            except Refused as refusal:
                self.message_user(request, f"{dispute.case.reference}: {refusal.detail}", messages.WARNING)
            else:
                settled += 1
        if settled:
            self.message_user(request, ngettext("%(count)d dispute settled.", "%(count)d disputes settled.",
                                                settled) % {"count": settled}, messages.SUCCESS)
        return None

    def settlement_page(self, request, queryset, status, form):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Settle rule disputes: %(settlement)s") % {"settlement": DisputeStatus(status).label},
            "opts": self.model._meta,
            "disputes": queryset.select_related("case", "department", "rule", "rule__case_type", "rule__locality",
                                                "rule__owner"),
            "form": form,
            "action": request.POST.get("action", ""),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "settlement": DisputeStatus(status).label,
        }
        return TemplateResponse(request, self.settle_template, context)
