from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases import deadlines  # noqa: F401 - registers cases and consultations with the overdue sweep
        from cases.models import Notification
        from core.notices import register_notices

        register_notices(Notification)
