"""gunicorn's configuration for CityOps (the Procfile's `web`, and deploy/cityops-web.service).

Read from the environment, like the site's settings: HOST and PORT as `make run` takes them, WEB_WORKERS
processes (2 × cores + 1 by default, gunicorn's own advice for a synchronous app) of WEB_THREADS threads each.
A malformed value stops the start with the variable's name, as the settings do.
"""

import multiprocessing
import os


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, got {raw!r}")
    return int(raw)


bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
workers = _positive("WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _positive("WEB_THREADS", 1)
# More than one thread needs gunicorn's threaded worker; one thread is its plain synchronous worker.
worker_class = "gthread" if threads > 1 else "sync"
# A request longer than this is killed and logged: no page of CityOps legitimately takes a minute, and a
# hung worker must not hold its slot forever. Exports stream, and stay far below it on a city's data.
timeout = _positive("WEB_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then, so that a slow leak in any library never grows without bound.
max_requests = _positive("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Django writes one JSON line per request (cityops/requestlog.py); gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# The nginx in front (deploy/nginx-cityops.conf) talks to gunicorn on loopback; only it may set the
# forwarded headers gunicorn reads.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "cityops-web"
# gunicorn's runtime control socket is not used, and two instances on one host would share its default path.
control_socket_disable = True
