import functools


def membership(request):
    """The signed-in user's staff membership and desk, for the navigation bar and page actions; and the
    bell's unread count, counted only if a page shows it and then once however often it is shown."""
    from cases.selectors import is_clerk, staff_of
    from oversight.access import may_oversee

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"membership": None, "is_clerk": False, "may_oversee": False, "unread_notifications": 0}
    return {"membership": staff_of(user), "is_clerk": is_clerk(user), "may_oversee": may_oversee(user),
            "unread_notifications": functools.cache(functools.partial(unread_notification_count, user))}


def unread_notification_count(user) -> int:
    from cases.models import Notification

    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
