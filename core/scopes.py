"""Records whose visibility the access policy decides are never read unscoped by accident.

Such a model's `objects` refuses to be used at all: a page, an API view, a form, a template tag or an export
starts from the policy's querysets (`cases.policy.cases_visible_to(user)`, …). Code that truly needs the
whole table (the policy itself, the services that lock and change a row, the sweeps, the reports) says so by
its name: `Model.unscoped`, the model's default manager, easy to find and to review.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import models


class UnscopedQuery(ImproperlyConfigured):
    pass


class RefusingManager(models.Manager):
    """`objects` of a scoped model: any use raises, naming the two ways that are allowed."""

    def none(self):
        # An empty queryset shows nothing, so it needs no scope; libraries that introspect a model ask for one.
        return self.model._default_manager.none()

    def get_queryset(self):
        name = self.model.__name__
        raise UnscopedQuery(f"{name}.objects is not scoped: start from the access policy (cases.policy) for "
                            f"what a user sees, or say {name}.unscoped for whole-table work.")
