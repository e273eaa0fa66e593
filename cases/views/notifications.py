"""The bell's list: a person's notices, marked read one by one or all at once (DESIGN.md §2 rule 9).

Reading is a POST: opening a case from the list goes through `notification_read` with the case page as
`next`, so a GET never changes anything (a link preview or a prefetch must not mark a notice read).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cases.models import Notification
from cases.views.common import PAGE_SIZE, next_page

TABS = {"all": gettext_lazy("All"), "unread": gettext_lazy("Unread")}


def notices_of(user):
    return Notification.objects.filter(recipient=user)


@require_GET
@login_required
def notification_list(request):
    """The signed-in user's notices, newest first, the unread ones marked; all (the default) or unread only."""
    shown = request.GET.get("show") if request.GET.get("show") in TABS else "all"
    notices = notices_of(request.user)
    if shown == "unread":
        notices = notices.filter(read_at__isnull=True)
    # The headline names the case (a consultation notice carries its case too) or the violation; one query.
    notices = notices.select_related("case", "consultation__case", "violation__kind", "violation__person").order_by(
        "-created_at", "-id")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [{"key": key, "label": label} for key, label in TABS.items()]
    return render(request, "notifications/list.html", {"page": page, "notices": page.object_list, "tabs": tabs,
                                                       "shown": shown})


@require_POST
@login_required
def notification_read(request, notification_id: int):
    """Mark one of one's own notices read; anyone else's answers 404, never a hint that it exists.

    Also the way a case is opened from the list: the form's `next` is the case page.
    """
    notices = notices_of(request.user).filter(pk=notification_id)
    # Keeps the first reading's time when a notice is opened again.
    if not notices.filter(read_at__isnull=True).update(read_at=timezone.now()) and not notices.exists():
        raise Http404
    return redirect(next_page(request) or "notifications")


@require_POST
@login_required
def notifications_read_all(request):
    notices_of(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect(next_page(request) or "notifications")
