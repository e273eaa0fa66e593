"""The bell's list: a person's notices from every notice table, marked read one by one or all at once
(DESIGN.md §2 rule 9).

Reading is a POST: opening a notice's page from the list goes through `notification_read` with that page as
`next`, so a GET never changes anything (a link preview or a prefetch must not mark a notice read).
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Value
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.forms import MailChoicesForm
from core.notices import each_table, notice_model, notice_models, union_all
from core.pages import PAGE_SIZE, next_page

TABS = {"all": gettext_lazy("All"), "unread": gettext_lazy("Unread")}

# What the bell's menu shows: enough to see what is new, the list has the rest.
LATEST = 5


def unread_count(user) -> int:
    """The bell's figure: one query over every notice table."""
    return union_all(each_table(lambda model: model.objects.filter(recipient=user, read_at__isnull=True)
                                .values("pk"))).count()


def _page_of_notices(page) -> list:
    """The notices of one page of (table, id, time) rows, read with what the list shows beside each: one query
    per table."""
    ids = defaultdict(list)
    for source, pk, _created_at in page:
        ids[source].append(pk)
    found = {}
    for source, pks in ids.items():
        model = notice_model(source)
        for notice in model.objects.filter(pk__in=pks).select_related(*model.list_relations):
            found[source, notice.pk] = notice
    return [found[source, pk] for source, pk, _created_at in page if (source, pk) in found]


def _unread_rows(user):
    def rows(model):
        return (model.objects.filter(recipient=user, read_at__isnull=True)
                .annotate(source=Value(model._meta.label_lower)).values_list("source", "id", "created_at"))

    return union_all(each_table(rows)).order_by("-created_at", "-id")


@require_GET
@login_required
def notification_latest(request):
    """The bell's menu: the latest unread notices, as a fragment the bell's script puts under it (without the
    script, the bell is a link to the list)."""
    latest = list(_unread_rows(request.user)[:LATEST])
    return render(request, "notifications/_latest.html", {"notices": _page_of_notices(latest)})


@require_http_methods(["GET", "POST"])
@login_required
def notification_mail(request):
    """Which kinds of notice the signed-in person gets by mail; the bell shows all of them whatever is chosen."""
    form = MailChoicesForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your e-mail choices are saved."))
        return redirect("notification-mail")
    return render(request, "notifications/mail_choices.html", {"form": form})


@require_GET
@login_required
def notification_list(request):
    """The signed-in user's notices, newest first, the unread ones marked; all (the default) or unread only."""
    shown = request.GET.get("show") if request.GET.get("show") in TABS else "all"

    def rows(model):
        notices = model.objects.filter(recipient=request.user)
        if shown == "unread":
            notices = notices.filter(read_at__isnull=True)
        return notices.annotate(source=Value(model._meta.label_lower)).values_list("source", "id", "created_at")

    listed = union_all(each_table(rows)).order_by("-created_at", "-id")
    page = Paginator(listed, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [{"key": key, "label": label} for key, label in TABS.items()]
    return render(request, "notifications/list.html", {"page": page, "notices": _page_of_notices(page), "tabs": tabs,
                                                       "shown": shown})


@require_POST
@login_required
def notification_read(request, source: str, notification_id: int):
    """Mark one of one's own notices read; anyone else's answers 404, never a hint that it exists.

    Also the way a notice's page is opened from the list: the form's `next` is that page.
    """
    model = notice_model(source)
    if model is None:
        raise Http404
    notices = model.objects.filter(recipient=request.user, pk=notification_id)
    # Keeps the first reading's time when a notice is opened again.
    if not notices.filter(read_at__isnull=True).update(read_at=timezone.now()) and not notices.exists():
        raise Http404
    return redirect(next_page(request) or "notifications")


@require_POST
@login_required
def notifications_read_all(request):
    now = timezone.now()
    for model in notice_models():
        model.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=now)
    return redirect(next_page(request) or "notifications")
