"""Settings for the test suite: the site's own settings, read with the two values a test process lacks.

A test run is neither the embedded demo (DEBUG on) nor production: it needs a key of its own, and plain HTTP,
since the test client speaks no TLS. Tests of the HTTPS defaults read cityops.settings in a fresh process.
"""

import os

os.environ.setdefault("SECRET_KEY", "cityops-tests-only-key")
os.environ.setdefault("HTTPS", "false")

from cityops.settings import *  # noqa: E402,F403

# The suite's cases are received on fixed days of 2025, whose holidays the calendar tests know, while the clock
# mostly stands on today: as if an admin logged them all. The limit's own tests set it back to the site's default.
MAX_BACKDATE_DAYS = 36500

# Templates name static files through the storage; the suite serves the source folders, as the demo does,
# rather than running collectstatic first. tests/test_production.py checks the hashed, compressed storage.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Off: a transactional test ends with a flush that bumps no generation, so a cache vouched for by pub/sub would
# keep the last test's rules. The cache reads its token on every use, as without Redis; the tests of pub/sub
# itself (tests/departments/test_generation_invalidation.py) switch it on.
GENERATIONS_PUBSUB = False

# One connection per test request, as before: threads of the race tests would otherwise keep theirs open past
# the test, and PostgreSQL refuses to drop a test database someone is connected to.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405

# A replica alias, the test database itself, for the tests that switch the router on (tests/test_replica.py); the
# rest of the suite reads the primary only, as a site without DATABASE_REPLICA_URL does.
DATABASES = {**DATABASES, "replica": {**DATABASES["default"], "TEST": {"MIRROR": "default"}}}  # noqa: F405
DATABASE_ROUTERS: list[str] = []
