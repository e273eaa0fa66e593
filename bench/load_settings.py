"""The production settings with one change for the load test (bench/loadtest.py): the URLs of bench/load_urls.py,
which are the site's own plus a bare view, so that one gunicorn serves both and the two are measured side by side."""

from cityops.settings import *  # noqa: F403 - the production settings, unchanged but for the URLs

ROOT_URLCONF = "bench.load_urls"
