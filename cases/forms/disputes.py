"""The admins' page of rule disputes: which ones to list, and how one is settled."""

from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import DisputeStatus
from core.forms import note_field

ANY_STATUS = "any"


class DisputeStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[*DisputeStatus.choices, (ANY_STATUS, _("Any status"))],
                               widget=forms.Select(attrs={"class": "form-select"}))

    def chosen_status(self) -> str | None:
        """The status to list, open when none or a bad one is asked for; None lists them all."""
        status = (self.cleaned_data.get("status") if self.is_valid() else "") or DisputeStatus.OPEN
        return None if status == ANY_STATUS else status


class DisputeSettleForm(forms.Form):
    status = forms.ChoiceField(label=_("Settlement"), choices=[
        ("", _("Choose…")),
        (DisputeStatus.RULE_CHANGED, _("Rule changed (after editing the rule)")),
        (DisputeStatus.DISMISSED, _("Dismissed: the rule stands")),
    ])
    note = note_field(_("Settlement note"))
