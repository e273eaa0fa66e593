"""The API's sign-in: a token for a username and password, the signed-in person's tokens, and revoking them.

The token endpoint authenticates through Django's `authenticate(request=...)`, so that django-axes counts its
failures with the login page's and the admin's and refuses a locked-out (username, address) pair the same way.
"""

from django.contrib.auth import authenticate, user_logged_in
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import AUTHENTICATION_CLASSES
from core.signin import locked_out
from core.tokens import TokenAuthentication, purge_expired


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(label=_("Username"), max_length=150)
    password = serializers.CharField(label=_("Password"), max_length=4096, trim_whitespace=False,
                                     style={"input_type": "password"}, write_only=True)


class IssuedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`; it is shown only once."))
    expiry = serializers.DateTimeField()


class TokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it afterwards: its public handle and its dates, never its secret."""

    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthToken
        fields = ["token_key", "created", "expiry", "current"]

    def get_current(self, token) -> bool:
        auth = self.context["request"].auth
        return isinstance(auth, AuthToken) and auth.digest == token.digest


# Wrong credentials under `non_field_errors`, a missing or over-long field under its own name.
ERRORS = inline_serializer("TokenErrors", {
    name: serializers.ListField(child=serializers.CharField(), required=False)
    for name in ("non_field_errors", "username", "password")})
LOCKED_OUT = inline_serializer("LockedOut", {"detail": serializers.CharField(), "code": serializers.CharField()})


class ObtainTokenView(APIView):
    """A new token for a username and password; each sign-in makes its own, ending after API_TOKEN_HOURS."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(request=CredentialsSerializer, responses={
        200: IssuedTokenSerializer,
        400: OpenApiResponse(ERRORS, description=_("Missing fields or wrong credentials.")),
        429: OpenApiResponse(LOCKED_OUT, description=_("Too many failed sign-ins from this address.")),
    }, auth=[])
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request, **credentials.validated_data)
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None:
            raise ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        purge_expired(user)
        token, secret = AuthToken.objects.create(user=user, expiry=knox_settings.TOKEN_TTL)
        # As the login page does: the last sign-in is recorded and axes clears the pair's failures.
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(IssuedTokenSerializer({"token": secret, "expiry": token.expiry}).data)


class TokenListView(APIView):
    """The signed-in person's tokens that have not yet expired."""

    authentication_classes = AUTHENTICATION_CLASSES

    @extend_schema(responses={200: TokenSerializer(many=True)})
    def get(self, request):
        tokens = AuthToken.objects.filter(user=request.user, expiry__gt=timezone.now()).order_by("-created")
        return Response(TokenSerializer(tokens, many=True, context={"request": request}).data)


class TokenRevokeView(APIView):
    """Revoke one of one's own tokens by its public handle; another person's answers 404."""

    authentication_classes = AUTHENTICATION_CLASSES

    @extend_schema(responses={204: None, 404: OpenApiResponse(description=_("No such token of yours."))})
    def delete(self, request, token_key):
        deleted, _by_model = AuthToken.objects.filter(user=request.user, token_key=token_key).delete()
        if not deleted:
            raise NotFound
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutView(APIView):
    """Revoke the token this request is made with (signing out of the site revokes them all)."""

    authentication_classes = (TokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        # Not `user_logged_out`: that signal ends every token of the person, and a script signing out must not
        # sign out the person's other scripts.
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
