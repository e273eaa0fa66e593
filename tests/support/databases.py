"""The test database's server as a DATABASE_URL, for the processes a test starts (a worker, a restored copy)."""

from urllib.parse import quote

from django.db import connection


def database_url(name: str | None = None) -> str:
    """A URL for database `name` (the test database pytest-django made, unless told) on the test server."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(name or db['NAME'], safe='')}"
