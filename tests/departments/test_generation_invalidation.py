"""Freshness of the in-memory routing index and calendar through Redis pub/sub (departments/generations.py).

The suite runs with pub/sub off (tests/settings.py); these tests switch it on against the real Redis of
REDIS_URL, and skip without one, except the fallback to the database token, which needs no Redis at all. A
second `Invalidations` stands in for another process: only messages through Redis reach it. One test starts a
real second process on PostgreSQL, whose edit must reach this one.
"""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from departments import generations
from departments.generations import RULES, GenerationCache, Invalidations
from departments.models import CaseType, Department, DepartmentKind, Generation
from departments.routing import NO_RULE, get_index
from tests.support.databases import database_url

REDIS_URL = os.environ.get("REDIS_URL", "")
# Nothing listens there: connections are refused at once.
CLOSED_PORT = "redis://127.0.0.1:1/0"
# How long a message may take from one process to another here; in practice a few milliseconds.
DELIVERY_S = 2.0


def wait_for(condition, timeout: float = DELIVERY_S) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.002)
    return time.monotonic() - started


def settle(listener: Invalidations) -> None:
    """Wait until what this process published so far has come back: Redis keeps one publisher's order."""
    before = listener.epoch("settle")
    listener.publish("settle")
    wait_for(lambda: listener.epoch("settle") != before)


class Probe:
    """A cache of the rules whose value is the rules' token as it was built, counting its builds."""

    def __init__(self, invalidations: Invalidations | None = None):
        self.builds = 0
        self.cache = GenerationCache(RULES, self._build, invalidations=invalidations)

    def _build(self) -> str:
        self.builds += 1
        return generations.current(RULES)

    def get(self) -> str:
        return self.cache.get()


def committed_bump(capture) -> str:
    """Bump the rules and run what their commit runs (the test's transaction itself never commits)."""
    with capture(execute=True):
        generations.bump(RULES)
    return generations.current(RULES)


@pytest.fixture
def pubsub(settings, db) -> Invalidations:
    """Pub/sub on for this process, subscribed to the real Redis."""
    if not REDIS_URL:
        pytest.skip("REDIS_URL is not set: no Redis to publish through (CI sets it)")
    settings.REDIS_URL = REDIS_URL
    settings.GENERATIONS_PUBSUB = True
    listener = generations.process_invalidations()
    assert listener is not None and listener.wait_listening(5)
    return listener


@pytest.fixture
def elsewhere(pubsub):
    """Another process's subscription and its cache of the rules."""
    listener = Invalidations(REDIS_URL, generations.channel())
    listener.start()
    assert listener.wait_listening(5)
    yield Probe(invalidations=listener)
    listener.stop()


def test_a_value_checked_under_pubsub_costs_no_query(pubsub, django_assert_num_queries):
    here = Probe()
    with django_assert_num_queries(2):  # the token, the build
        token = here.get()
    with django_assert_num_queries(0):
        assert here.get() == here.get() == token
    assert here.builds == 1


def test_a_bump_reaches_another_process_through_redis(pubsub, elsewhere, django_capture_on_commit_callbacks,
                                                      django_assert_num_queries):
    here = Probe()
    here.get()
    elsewhere.get()
    with django_assert_num_queries(0):
        elsewhere.get()
    before = elsewhere.cache.invalidations.epoch(RULES)

    token = committed_bump(django_capture_on_commit_callbacks)

    # This process's caches are told at commit, without waiting for Redis.
    assert here.get() == token
    delay = wait_for(lambda: elsewhere.cache.invalidations.epoch(RULES) != before)
    assert delay < DELIVERY_S
    assert elsewhere.get() == token
    assert elsewhere.builds == 2


def test_a_bump_is_announced_only_when_its_transaction_commits(pubsub, elsewhere, django_capture_on_commit_callbacks,
                                                               django_assert_num_queries):
    here = Probe()
    old = here.get()
    elsewhere.get()
    before = elsewhere.cache.invalidations.epoch(RULES)
    assert generations.tokens_if_needed(RULES) is None

    with django_capture_on_commit_callbacks() as on_commit:
        generations.bump(RULES)
    uncommitted = generations.current(RULES)
    assert uncommitted != old
    # The thread that bumped sees its own change: it reads the token until the commit...
    assert here.get() == uncommitted
    with django_assert_num_queries(1):
        here.get()
    assert generations.tokens_if_needed(RULES) == {RULES: uncommitted}
    # ...and nobody else is told before it: they couldn't see the new rows yet.
    time.sleep(0.2)
    assert elsewhere.cache.invalidations.epoch(RULES) == before

    for callback in on_commit:
        callback()
    wait_for(lambda: elsewhere.cache.invalidations.epoch(RULES) != before)
    assert generations.tokens_if_needed(RULES) is None


def test_without_redis_every_use_reads_the_token(settings, db, django_capture_on_commit_callbacks,
                                                 django_assert_num_queries):
    settings.REDIS_URL = CLOSED_PORT
    settings.GENERATIONS_PUBSUB = True
    listener = generations.process_invalidations()
    assert listener is not None and not listener.wait_listening(0.3)
    here = Probe()
    here.get()
    with django_assert_num_queries(1):
        here.get()

    started = time.monotonic()
    token = committed_bump(django_capture_on_commit_callbacks)  # the publish fails, quietly
    assert time.monotonic() - started < 2 * generations.REDIS_TIMEOUT_S + 0.5
    assert here.get() == token
    with django_assert_num_queries(1):  # both tokens in one query, as before pub/sub
        assert generations.tokens_if_needed(RULES, generations.CALENDAR) == {RULES: token}


def test_a_lost_message_is_caught_by_the_periodic_recheck(pubsub, monkeypatch, django_assert_num_queries):
    monkeypatch.setattr(generations, "RECHECK_AFTER_S", 0.0)
    here = Probe()
    here.get()
    # A change whose message never came (its publish failed).
    Generation.objects.update_or_create(key=RULES, defaults={"value": "unannounced"})
    with django_assert_num_queries(2):  # the token, the rebuild
        assert here.get() == "unannounced"


def test_a_new_subscription_checks_everything_again(pubsub, django_assert_num_queries):
    here = Probe()
    old = here.get()
    # Messages sent while the connection is down are lost: here, a change nobody announced.
    Generation.objects.update_or_create(key=RULES, defaults={"value": "missed"})
    with django_assert_num_queries(0):
        assert here.get() == old

    import redis

    admin = redis.Redis.from_url(REDIS_URL)
    try:
        session = pubsub.session
        ours = [client for client in admin.client_list() if client["name"] == pubsub.client_name]
        assert len(ours) == 1
        admin.client_kill_filter(_id=ours[0]["id"])
        wait_for(lambda: pubsub.session not in (None, session), timeout=5)
    finally:
        admin.close()
    assert here.get() == "missed"
    with django_assert_num_queries(0):
        here.get()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_bump_leaves_no_stale_value(pubsub, django_assert_num_queries):
    here = Probe()
    committed = here.get()

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        generations.bump(RULES)
        assert here.get() != committed  # its own, uncommitted change
        raise Abandoned
    # The transaction rolled back: no message said so, and the value built inside it must not be kept.
    assert here.get() == committed

    with transaction.atomic():
        generations.bump(RULES)
    # Committed: this process's caches were told at commit; one check of the token, then from memory again.
    assert here.get() == generations.current(RULES) != committed
    settle(pubsub)
    here.get()
    with django_assert_num_queries(0):
        here.get()


def test_intake_reads_no_token_while_pubsub_vouches(pubsub, request, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        log_case = request.getfixturevalue("log_case")  # builds the city: rules saved, the generation bumped
    settle(pubsub)
    log_case()  # builds the index and the calendar
    with CaptureQueriesContext(connection) as queries:
        case = log_case()
    assert case.owner_id is not None
    assert not [query for query in queries if Generation._meta.db_table in query["sql"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rule_saved_in_another_process_reaches_this_one(django_assert_num_queries, request):
    if connection.vendor != "postgresql":
        pytest.skip("the other process needs a database server both reach, which the in-memory SQLite test "
                    "database is not (CI runs this on PostgreSQL)")
    owner = Department.objects.create(code="xd", name="Sở Xây dựng", kind=DepartmentKind.DEPARTMENT)
    kind = CaseType.objects.create(code="permit", name="Cấp giấy phép xây dựng", processing_days=15)
    request.getfixturevalue("pubsub")  # after the setup above, whose bumps nobody announced

    def decide():
        return get_index().decide(case_type_id=kind.pk, locality_id=None, amount=None, on=dt.date(2026, 6, 1))

    assert decide().reason == NO_RULE
    with django_assert_num_queries(0):
        assert decide().reason == NO_RULE

    script = (
        "import sys, django; django.setup()\n"
        "from django.test import override_settings\n"
        "from departments.models import AuthorityRule\n"
        "with override_settings(GENERATIONS_PUBSUB=True):\n"
        "    AuthorityRule.objects.create(case_type_id=int(sys.argv[1]), owner_id=int(sys.argv[2]),\n"
        "                                 legal_basis='Luật Xây dựng 2014, Điều 103')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url(),
           "REDIS_URL": REDIS_URL}
    subprocess.run([sys.executable, "-c", script, str(kind.pk), str(owner.pk)], cwd=Path(django_settings.BASE_DIR),
                   env=env, check=True, timeout=60)

    wait_for(lambda: decide().owner_id == owner.pk)
    with django_assert_num_queries(0):
        assert decide().owner_id == owner.pk

