"""The Celery app. Broker: Redis when REDIS_URL is set, otherwise the embedded filesystem transport."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityops.settings")

app = Celery("cityops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
