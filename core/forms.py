"""Form pieces every app's pages share."""

from django import forms
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

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


# --- Dates, day first whatever the browser's language ----------------------------------------------------------
# A browser's own date input shows the date in its language's order (mm/dd/yyyy for en-US) beside day-first text,
# so every date on the pages is a text input read and written dd/mm/yyyy. It also reads ISO dates (the links and
# bookmarks made before, and what scripts and tests send), and the same with dots or dashes. Never month first:
# 01/07 is the first of July.
DAY_FORMAT = "%d/%m/%Y"
DAY_INPUT_FORMATS = [DAY_FORMAT, "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"]
# A hint for the browser, which says so before sending; the field is what decides. Eight digits are a date typed
# on a phone's number pad, which has no slash.
DAY_PATTERN = (r" *(?:[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}|[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}|[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}"
               r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{8}) *")
DAY_PLACEHOLDER = "dd/mm/yyyy"


def _with_slashes(value: str) -> str:
    """ddmmyyyy, as typed without separators, as dd/mm/yyyy; anything else as it is."""
    value = value.strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:2]}/{value[2:4]}/{value[4:]}"
    return value


class DayInput(forms.DateInput):
    """A date as text, dd/mm/yyyy. What was typed is shown again day first once it reads as a date (an ISO date in
    a link's query shows as 09/04/2026), and as typed otherwise, so that the person sees the mistake."""

    def __init__(self, attrs=None, format=None):
        super().__init__({"placeholder": DAY_PLACEHOLDER, "inputmode": "numeric", "pattern": DAY_PATTERN,
                          "title": _("Day/month/year, e.g. 09/04/2026"), "autocomplete": "off", **(attrs or {})},
                         format=format or DAY_FORMAT)

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return _with_slashes(value) if isinstance(value, str) else value

    def format_value(self, value):
        if isinstance(value, str):
            value = read_day(value) or value
        return super().format_value(value)


# Django's wording for a date that cannot be read, declared here so that the project's catalogue carries it with
# the Vietnamese that says how to write one.
INVALID_DATE = _("Enter a valid date.")


class DayField(forms.DateField):
    widget = DayInput
    input_formats = DAY_INPUT_FORMATS
    default_error_messages = {"invalid": INVALID_DATE}

    def to_python(self, value):
        return super().to_python(_with_slashes(value) if isinstance(value, str) else value)


def read_day(text: str):
    """The date `text` reads as in one of the accepted ways, or None."""
    try:
        return DayField(required=False).clean(text)
    except forms.ValidationError:
        return None


def day_field(label, *, required: bool = True, initial=None, help_text="", validators=(), **attrs) -> DayField:
    """Every date field of the pages: a DayField with its DayInput; `attrs` go on the input."""
    return DayField(label=label, required=required, initial=initial, help_text=help_text,
                    validators=list(validators), widget=DayInput(attrs=attrs))


# Django's messages for the usual mistakes on a form, named here so that the project's catalogue keeps them with a
# plainer Vietnamese than Django's own (the catalogues of LOCALE_PATHS come first): every form says them alike.
STOCK_ERRORS = (
    _("This field is required."),
    INVALID_DATE,
    _("Enter a valid time."),
    _("Enter a valid date/time."),
    _("Select a valid choice. %(value)s is not one of the available choices."),
    _("Select a valid choice. That choice is not one of the available choices."),
    _("Enter a list of values."),
    _("Enter a number."),
    _("Enter a whole number."),
    _("Enter a valid value."),
    _("Enter a valid email address."),
    ngettext_lazy("Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
                  "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
                  "limit_value"),
    ngettext_lazy("Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
                  "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
                  "limit_value"),
    ngettext_lazy("Ensure that there are no more than %(max)s digit in total.",
                  "Ensure that there are no more than %(max)s digits in total.", "max"),
    ngettext_lazy("Ensure that there are no more than %(max)s decimal place.",
                  "Ensure that there are no more than %(max)s decimal places.", "max"),
    ngettext_lazy("Ensure that there are no more than %(max)s digit before the decimal point.",
                  "Ensure that there are no more than %(max)s digits before the decimal point.", "max"),
)
