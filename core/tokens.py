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

import binascii
from hmac import compare_digest

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import pre_save
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions


class TokenAuthentication(KnoxTokenAuthentication):
    """Knox's `Authorization: Token <t>` in one query: the token with its user and what the site reads of the
    user next (`API_TOKEN_USER_RELATIONS`).

    A token that is not even text is answered 401, not 500. An expired token is deleted when it is presented,
    as knox does; the owner's other expired tokens are left to the next sign-in (`purge_expired`), where knox
    would read every token of the person on every request.
    """

    def authenticate_credentials(self, token: bytes):
        invalid = exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            text = token.decode("utf-8")
            digest = hash_token(text)
        except (UnicodeDecodeError, TypeError, binascii.Error):
            raise invalid from None
        candidates = (AuthToken.objects.filter(token_key=text[:CONSTANTS.TOKEN_KEY_LENGTH])
                      .select_related("user", *settings.API_TOKEN_USER_RELATIONS))
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=auth_token.user.get_username(),
                                   source="auth_token")
                raise invalid
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            return self.validate_user(auth_token)
        raise invalid


def purge_expired(user) -> None:
    """The person's expired tokens, gone: they could not be used, and the list of tokens shows live ones only."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()


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
