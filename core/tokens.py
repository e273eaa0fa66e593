"""API tokens (django-rest-knox) and the events that end them.

Knox stores only a digest of each token, gives every token an expiry (`API_TOKEN_HOURS`) and deletes an
expired one when it is presented. What knox leaves to the site is when a token must die before its time:
when its owner signs out of the site, changes their password (by any path: the password change form, the
admin, `set_password` and `save` in a shell or a command) or is deactivated. A reactivated user starts with no
token at all. The user model's `pre_save` compares the row about to be written with the stored one, so that
every path that saves a user is covered; a queryset `update()` is not, which is why a reactivation (the next
save of such a user) clears the tokens again.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import pre_save
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's `Authorization: Token <t>`, answering a token that is not even text with 401 instead of a 500."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        return super().authenticate_credentials(token)


class TokenScheme(KnoxTokenScheme):
    """The schema names the token scheme as before the switch to knox, so that clients' generated code holds."""

    target_class = "core.tokens.TokenAuthentication"
    name = "tokenAuth"


def revoke_all(user) -> int:
    deleted, _by_model = AuthToken.objects.filter(user=user).delete()
    return deleted


def revoke_on_logout(sender, request, user, **kwargs):
    # Signing out of the site signs the person out of the API too: a token left behind on a shared office
    # computer is the credential an attacker would look for.
    if user is not None and user.pk is not None:
        revoke_all(user)


def revoke_on_password_or_activity_change(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    # Django re-hashes a password with the first hasher at sign-in and marks that save by clearing `_password`
    # and saving the password alone: the same password in a new hash is not a change, and ending every token
    # of the person at that moment would only surprise them.
    rehash = getattr(instance, "_password", None) is None and update_fields is not None \
        and set(update_fields) == {"password"}
    password_changed = stored["password"] != instance.password and not rehash
    activity_changed = stored["is_active"] != instance.is_active
    if password_changed or activity_changed:
        revoke_all(instance)


class AuthTokenAdmin(admin.ModelAdmin):
    """Tokens as admins see them: whose, since when, until when, by their public handle; revoked by deleting.

    No token is made here (knox's own admin shows a new token's secret in a message), none is edited, and the
    digest is never shown.
    """

    list_display = ["token_key", "user", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    ordering = ["-created"]
    fields = readonly_fields = ("token_key", "user", "created", "expiry")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _token_name(token: AuthToken) -> str:
    return f"{token.token_key}… ({token.user})"


def connect() -> None:
    """Called once from the core app's ready(): the receivers, and the admin in place of knox's."""
    user_logged_out.connect(revoke_on_logout, dispatch_uid="core.tokens.revoke_on_logout")
    pre_save.connect(revoke_on_password_or_activity_change, sender=get_user_model(),
                     dispatch_uid="core.tokens.revoke_on_password_or_activity_change")
    # Knox names a token by its digest, which the admin would print on its delete page and in its log.
    AuthToken.__str__ = _token_name  # type: ignore[method-assign,assignment]
    if admin.site.is_registered(AuthToken):
        admin.site.unregister(AuthToken)
    admin.site.register(AuthToken, AuthTokenAdmin)
