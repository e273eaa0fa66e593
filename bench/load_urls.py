"""The site's URLs plus `bench/bare/`: the floor the load test compares every page with.

The bare view goes through the site's whole middleware (request log, security headers, sessions, axes) and does
one INSERT into a table the harness creates, with no template, no ORM model and no access check, so that what a
page costs beyond it is what the page itself does.
"""

from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from cityops.urls import handler400, handler500
from cityops.urls import urlpatterns as site_urlpatterns

BARE_TABLE = "bench_bare"

__all__ = ["handler400", "handler500", "urlpatterns"]


# Exempt from CSRF and open to anyone: it is only ever served by the load test's own gunicorn on loopback.
@csrf_exempt
def bare(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} DEFAULT VALUES")
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare/", bare, name="bench-bare"), *site_urlpatterns]
