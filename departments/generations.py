"""Cross-process cache invalidation: a per-key token in the database, announced through Redis pub/sub.

Each web or worker process keeps the routing index and the calendar in memory. The database holds a token per
key, renewed by `bump()` in the transaction that changes what the value is built from. A value whose token still
matches is current. That check is always right, but it costs one query per use, most of an intake decision.

So, when Redis is configured, `bump()` also publishes the key once its transaction has committed, and every
process listens on a daemon thread. While that subscription is confirmed and alive, a value checked since the
last message for its key is current and comes from memory, without a query. The token stays the ground truth:
- without a live subscription (no Redis, Redis down, not yet subscribed) every use reads the token, as before;
- a (re)confirmed subscription opens a new session, and what was checked in an earlier session is checked
  again, since messages sent while the connection was down are lost;
- a value is checked against the token at least every RECHECK_AFTER_S anyway, which bounds a lost message
  (a bump whose publish failed, a dead connection not yet noticed);
- a thread that bumped a key in a transaction still open reads the token until it commits: it sees its own
  uncommitted change, which a rollback would take back, and no message ever says so.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, transaction
from django.dispatch import receiver

from departments.models import Generation

logger = logging.getLogger(__name__)

T = TypeVar("T")

RULES = "rules"
CALENDAR = "calendar"

# Redis pub/sub channels ignore the database number, so the channel carries the site's database name: two
# sites (or two test runs) on one Redis server don't invalidate each other's caches.
CHANNEL_PREFIX = "cityops:generations:"
# The longest a value is trusted on pub/sub's word alone, should a message be lost.
RECHECK_AFTER_S = 30.0
# Redis is on the request path only through `bump()`'s publish: a slow server must cost little, once.
REDIS_TIMEOUT_S = 0.5
# The listener pings this often; when nothing at all (not even the pong) came back for SILENT_AFTER_S, the
# connection is taken for dead, and uses read the token until a new subscription is confirmed.
PING_EVERY_S = 5.0
SILENT_AFTER_S = 15.0
POLL_S = 1.0
MAX_RECONNECT_WAIT_S = 10.0
# After a failed publish, the next ones within this time are skipped rather than each waiting for the timeout
# (a transaction saving many rules bumps once per row).
PUBLISH_PAUSE_S = 5.0

# (session, last invalidation of the key): a value is vouched for while the epoch it was checked at is current.
Epoch = tuple[int, int]
# Sessions and invalidations take their numbers from one counter that a forked child inherits and continues:
# an epoch is never reused, not across reconnections, hubs or forks.
_ticks = itertools.count(1)


def channel() -> str:
    return CHANNEL_PREFIX + str(connection.settings_dict["NAME"])


def _redis_client(url: str, **options: Any):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries inside redis-py: a failure must reach the listener at once (to stop trusting memory) and a
    # publish must give up after one timeout.
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S,
                                socket_keepalive=True, retry=Retry(NoBackoff(), 0), **options)


class Invalidations:
    """A process's subscription to the generation channel, read by a daemon thread, and its publisher."""

    def __init__(self, url: str, channel_name: str):
        self.url = url
        self.channel = channel_name
        self.client_name = f"cityops-generations-{os.getpid()}-{next(_ticks)}"
        # None while no subscription is confirmed. Written by the listener only; a reader takes one snapshot.
        self.session: int | None = None
        # key -> tick of its last invalidation. Each write stores a fresh tick, so concurrent writers (the
        # listener, a thread that committed a bump) never need a lock: whichever lands, the epoch moved.
        self._invalidated: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._publisher: Any = None
        self._publish_paused_until = 0.0
        self._confirmed = False

    def epoch(self, key: str) -> Epoch | None:
        """None when pub/sub can't vouch for anything: the caller reads the token."""
        session = self.session
        if session is None:
            return None
        return session, self._invalidated.get(key, 0)

    def mark_stale(self, key: str) -> None:
        self._invalidated[key] = next(_ticks)

    def publish(self, key: str) -> None:
        """Tell every process that `key` changed; Redis trouble is logged, never raised."""
        now = time.monotonic()
        if now < self._publish_paused_until:
            return
        try:
            if self._publisher is None:
                self._publisher = _redis_client(self.url)
            self._publisher.publish(self.channel, key)
        except Exception:
            # The other processes check their token within RECHECK_AFTER_S (at once if their listener lost
            # Redis too).
            self._publish_paused_until = now + PUBLISH_PAUSE_S
            logger.warning("could not publish the %s invalidation; other processes see it within %.0f s",
                           key, RECHECK_AFTER_S, exc_info=True)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._listen, name="cityops-generations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the listener (within POLL_S) and the publisher's connection."""
        self._stop.set()
        self.session = None
        if self._publisher is not None:
            self._publisher.close()

    def wait_listening(self, timeout: float) -> bool:
        """Whether a subscription is confirmed within `timeout` seconds (for tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while self.session is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.session is not None

    def _listen(self) -> None:
        wait, logged = 0.5, False
        while not self._stop.is_set():
            self._confirmed = False
            try:
                self._listen_once()
            except Exception:
                # Once per outage, not once per attempt to reconnect.
                if self._confirmed or not logged:
                    logger.warning("generation listener lost Redis; reading tokens from the database until it "
                                   "is back", exc_info=True)
                    logged = True
            if self._confirmed:
                wait = 0.5
            self._stop.wait(wait)
            wait = min(wait * 2, MAX_RECONNECT_WAIT_S)

    def _listen_once(self) -> None:
        """One connection, until it fails or `stop()`."""
        client = _redis_client(self.url, client_name=self.client_name)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(self.channel)
            heard = pinged = time.monotonic()
            while not self._stop.is_set():
                message = pubsub.get_message(timeout=POLL_S)
                now = time.monotonic()
                if message is not None:
                    heard = now
                    if message["type"] == "subscribe":
                        # From here on every bump reaches us; what was checked before may have missed some.
                        self.session = next(_ticks)
                        self._confirmed = True
                    elif message["type"] == "message":
                        self.mark_stale(message["data"].decode(errors="replace"))
                if now - heard > SILENT_AFTER_S:
                    raise ConnectionError(f"no reply from Redis for {SILENT_AFTER_S:.0f} s")
                if now - pinged >= PING_EVERY_S:
                    pubsub.ping()
                    pinged = now
        finally:
            self.session = None
            pubsub.close()
            client.close()


# This process's subscription: made on first use, and again after a fork (the thread stays with the parent, so
# each gunicorn or Celery child subscribes on its own) or a change of the settings it depends on.
_process_lock = threading.Lock()
_process_hub: Invalidations | None = None
_process_configured = False


def process_invalidations() -> Invalidations | None:
    """This process's subscription, or None when pub/sub is off (no REDIS_URL, or GENERATIONS_PUBSUB false)."""
    if not _process_configured:
        _configure_process()
    return _process_hub


def _configure_process() -> None:
    global _process_hub, _process_configured
    with _process_lock:
        if _process_configured:
            return
        url = settings.REDIS_URL if getattr(settings, "GENERATIONS_PUBSUB", True) else ""
        hub = Invalidations(url, channel()) if url else None
        if hub is not None:
            try:
                hub.start()
            except Exception:
                logger.warning("could not start the generation listener; reading tokens instead", exc_info=True)
                hub = None
        _process_hub, _process_configured = hub, True


def forget_process_invalidations() -> None:
    global _process_hub, _process_configured
    with _process_lock:
        if _process_hub is not None:
            _process_hub.stop()
        _process_hub, _process_configured = None, False


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"REDIS_URL", "GENERATIONS_PUBSUB", "DATABASES"}:
        forget_process_invalidations()


def _after_fork_in_child() -> None:
    global _process_lock, _process_hub, _process_configured
    # The parent's lock may have been held by a thread that doesn't exist here.
    _process_lock = threading.Lock()
    _process_hub, _process_configured = None, False


os.register_at_fork(after_in_child=_after_fork_in_child)


class _Bumped(threading.local):
    """Keys this thread bumped in a transaction: a cheap first look before the connection's own list."""

    def __init__(self) -> None:
        self.keys: set[str] = set()


_bumped = _Bumped()


class _Announce:
    """`bump()`'s on-commit callback; recognisable, so a bump still waiting for its commit can be found."""

    def __init__(self, key: str):
        self.key = key

    def __call__(self) -> None:
        _bumped.keys.discard(self.key)
        hub = process_invalidations()
        if hub is not None:
            # This process's other threads at once; the others (and this one again) when the message comes round.
            hub.mark_stale(self.key)
            hub.publish(self.key)


def _bumped_here(key: str) -> bool:
    """Whether this thread bumped `key` in a transaction that has not committed yet."""
    keys = _bumped.keys
    if key not in keys:
        return False
    # Django keeps a transaction's on-commit callbacks in `run_on_commit` and drops them when the transaction,
    # or the savepoint they were queued in, rolls back. There is no hook for a rollback, so look there: gone
    # without having run means rolled back. What was built meanwhile carries the rolled-back token, which no
    # longer matches, so the next check rebuilds it.
    db = transaction.get_connection()
    if db.in_atomic_block and any(isinstance(func, _Announce) and func.key == key for _, func, _ in db.run_on_commit):
        return True
    keys.discard(key)
    return False


def current(key: str) -> str:
    return Generation.objects.filter(key=key).values_list("value", flat=True).first() or ""


def current_all() -> dict[str, str]:
    """Every key's token in one query, for callers that need both the rules and the calendar."""
    return dict(Generation.objects.values_list("key", "value"))


def tokens_if_needed(*keys: str) -> dict[str, str] | None:
    """`current_all()` when the caches of `keys` would each read their token, else None.

    None while pub/sub is listening: each cache then answers from memory, or reads its own token when a message
    said its key changed. Without it, one query for all the keys, as before.
    """
    hub = process_invalidations()
    if hub is not None and hub.session is not None and not any(_bumped_here(key) for key in keys):
        return None
    return current_all()


def bump(key: str) -> None:
    Generation.objects.update_or_create(key=key, defaults={"value": uuid.uuid4().hex})
    if transaction.get_connection().in_atomic_block:
        _bumped.keys.add(key)
    # Only after commit: a process told earlier would rebuild from the rows as they were before this change.
    transaction.on_commit(_Announce(key))


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    token: str
    value: T
    # None: pub/sub doesn't vouch for it, the token is read on every use.
    epoch: Epoch | None
    recheck_at: float


class GenerationCache(Generic[T]):
    """One value per process, rebuilt when the token of its key has changed since it was built."""

    def __init__(self, key: str, build: Callable[[], T], *, invalidations: Invalidations | None = None):
        self.key = key
        self.build = build
        # A subscription of its own, for tests standing in for another process; by default the process's.
        self.invalidations = invalidations
        # Replaced as a whole: readers in other threads see the old entry or the new one.
        self._cached: _Entry[T] | None = None

    def _epoch(self) -> Epoch | None:
        if _bumped_here(self.key):
            return None
        hub = self.invalidations or process_invalidations()
        return hub.epoch(self.key) if hub is not None else None

    def get(self, tokens: Mapping[str, str] | None = None) -> T:
        """The value; `tokens` (from `current_all()`) spares the query when the caller has just read them."""
        # The epoch first, then the token, then the build. A message arriving after this moment moves the epoch,
        # so what is stored below is checked again; one that arrived before was sent after its commit, so the
        # token and the build below see that change.
        epoch = self._epoch()
        now = time.monotonic()
        cached = self._cached
        if cached is not None and epoch is not None and cached.epoch == epoch and now < cached.recheck_at:
            return cached.value
        # Tokens the caller read earlier may predate a change whose message came before `epoch`: they can
        # confirm the value for this use, but not vouch for it.
        token = current(self.key) if tokens is None else tokens.get(self.key, "")
        if cached is not None and cached.token == token:
            if tokens is None and epoch is not None:
                self._cached = _Entry(token, cached.value, epoch, now + RECHECK_AFTER_S)
            return cached.value
        # A change committed between the token's read and the build only costs one extra rebuild later.
        value = self.build()
        self._cached = _Entry(token, value, epoch, now + RECHECK_AFTER_S)
        return value
