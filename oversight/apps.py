from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "oversight"
    verbose_name = _("Oversight: inspections, discipline and commendation")

    def ready(self):
        from oversight import registrations

        registrations.register()
