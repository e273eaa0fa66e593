"""Form pieces every app's pages share."""

from django import forms
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.models import MailChoice
from core.notices import NoticeKind

# Long enough for a reasoned note or a list of missing documents; a bound keeps a runaway post out.
MAX_NOTE_LENGTH = settings.MAX_NOTE_CHARS


def note_field(label, *, required: bool = True, rows: int = 2, help_text="") -> forms.CharField:
    """Free text written by an official: a reason, findings, a note."""
    return forms.CharField(label=label, max_length=MAX_NOTE_LENGTH, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))


class MailChoicesForm(forms.Form):
    """One box per kind of notice: ticked, it comes by mail as well as in the bell. A person without a row for
    a kind gets it by mail."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        off = set(MailChoice.objects.filter(user=user, mail=False).values_list("kind", flat=True))
        for kind in NoticeKind:
            self.fields[kind.value] = forms.BooleanField(label=kind.label, required=False,
                                                         initial=kind.value not in off)
        if not user.email:
            self.no_address = _("Your account has no e-mail address: notices are shown in the bell only. Ask "
                                "an administrator to add one.")

    @transaction.atomic
    def save(self) -> None:
        MailChoice.objects.filter(user=self.user).delete()
        MailChoice.objects.bulk_create([MailChoice(user=self.user, kind=kind, mail=False)
                                        for kind in NoticeKind if not self.cleaned_data[kind.value]])
