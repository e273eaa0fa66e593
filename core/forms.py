"""Form pieces every app's pages share."""

from django import forms
from django.conf import settings

# Long enough for a reasoned note or a list of missing documents; a bound keeps a runaway post out.
MAX_NOTE_LENGTH = settings.MAX_NOTE_CHARS


def note_field(label, *, required: bool = True, rows: int = 2, help_text="") -> forms.CharField:
    """Free text written by an official: a reason, findings, a note."""
    return forms.CharField(label=label, max_length=MAX_NOTE_LENGTH, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows}))
