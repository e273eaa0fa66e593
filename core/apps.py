from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every app shares and none owns: page guards, stored files and their checks, exports, periods,
    refusals, the append-only audit base, set-based writes, the API plumbing and the read-only admin."""

    name = "core"
    verbose_name = _("Shared infrastructure")

    def ready(self):
        # Tokens end on sign-out, password change and deactivation; sessions keep their two clocks.
        from core import sessions, tokens

        tokens.connect()
        sessions.connect()
