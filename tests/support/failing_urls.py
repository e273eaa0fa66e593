"""The site's addresses and error handlers, with two that fail: what a bug in a view looks like to a person."""

from django.urls import path

from cityops.urls import *  # noqa: F403
from cityops.urls import urlpatterns as site_urlpatterns


def fails(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [path("fails/", fails), path("api/v1/fails/", fails), *site_urlpatterns]
