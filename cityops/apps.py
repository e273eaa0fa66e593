from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CityOpsConfig(AppConfig):
    """The project itself: settings, URLs, the Celery app, the navigation bar, and the commands that span every
    app (the demo city)."""

    name = "cityops"
    verbose_name = _("CityOps")
