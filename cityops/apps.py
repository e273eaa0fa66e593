from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CityOpsConfig(AppConfig):
    """The project itself: settings, URLs, the Celery app, the navigation bar, and the commands that span every
    app (the demo city)."""

    name = "cityops"
    verbose_name = _("CityOps")

    def ready(self):
        # Celery's signals, connected once in every process that may run a task: the task-run log lines and
        # the time of the last sweep that /readyz/ shows.
        from cityops import health, requestlog  # noqa: F401
