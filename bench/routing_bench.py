"""Benchmark (a): one routing decision, from the in-memory index and from a query per case.

The naive router is what one would write without the index: ask the database for the candidate rules
of each case and pick the most specific in Python (DESIGN.md §3). It is also the oracle: both must
reach the same decision on every sampled case.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.test import override_settings

from bench.dataset import CaseInput
from bench.timing import Summary, time_each
from departments import generations
from departments.models import AuthorityRule
from departments.routing import AMBIGUOUS_RULE, NO_RULE, RoutingIndex, get_index


@dataclass(frozen=True)
class Outcome:
    """What a router decided, in a form both routers can produce and compare."""

    reason: str
    rule_id: int | None
    conflicting: tuple[int, ...] = ()


def naive_decide(case: CaseInput) -> Outcome:
    place = Q(locality__isnull=True)
    if case.locality_id is not None:
        place |= Q(locality_id=case.locality_id)
    if case.amount is None:
        band = Q(min_amount__isnull=True, max_amount__isnull=True)
    else:
        band = ((Q(min_amount__isnull=True) | Q(min_amount__lte=case.amount))
                & (Q(max_amount__isnull=True) | Q(max_amount__gt=case.amount)))
    valid = ((Q(valid_from__isnull=True) | Q(valid_from__lte=case.received_on))
             & (Q(valid_to__isnull=True) | Q(valid_to__gte=case.received_on)))
    candidates = list(
        AuthorityRule.objects.filter(place, band, valid, active=True, case_type_id=case.case_type_id)
        .values_list("id", "locality_id", "min_amount", "max_amount", "owner_id", "valid_from")
    )
    if not candidates:
        return Outcome(NO_RULE, None)

    def specificity(row) -> int:
        return int(row[1] is not None) + int(row[2] is not None or row[3] is not None)

    best = max(map(specificity, candidates))
    top = [row for row in candidates if specificity(row) == best]
    if len({row[4] for row in top}) > 1:
        return Outcome(AMBIGUOUS_RULE, None, tuple(sorted(row[0] for row in top)))
    newest = max(top, key=lambda row: (row[5] or dt.date.min, row[0]))
    return Outcome("", newest[0])


def _outcome(decision) -> Outcome:
    return Outcome(decision.reason, decision.rule.id if decision.rule else None,
                   tuple(e.id for e in decision.conflicting))


@dataclass
class RoutingResult:
    rules_in_index: int
    build_ms: float
    index: Summary
    get_index: Summary
    naive: Summary
    agreed: int
    compared: int
    outcomes: dict[str, int]
    disagreements: list[tuple[CaseInput, Outcome, Outcome]]
    # get_index() + decide while pub/sub vouches for the index (no query); None without REDIS_URL.
    get_index_pubsub: Summary | None = None


def run_routing(inputs: list[CaseInput], *, warm_inputs: list[CaseInput]) -> RoutingResult:
    """Time each router on `inputs`, after a pass over `warm_inputs` fills caches and the connection."""
    started = time.perf_counter()
    index = RoutingIndex.from_database()
    build_ms = (time.perf_counter() - started) * 1000

    def by_index(case: CaseInput):
        return index.decide(case_type_id=case.case_type_id, locality_id=case.locality_id, amount=case.amount,
                            on=case.received_on)

    def by_get_index(case: CaseInput):
        return get_index().decide(case_type_id=case.case_type_id, locality_id=case.locality_id,
                                  amount=case.amount, on=case.received_on)

    for call in (by_index, naive_decide):
        time_each(call, warm_inputs)
    index_us, index_decisions = time_each(by_index, inputs)
    # The token path: one query per decision, as without Redis (and as before pub/sub).
    with override_settings(GENERATIONS_PUBSUB=False):
        time_each(by_get_index, warm_inputs)
        cached_us, cached_decisions = time_each(by_get_index, inputs)
    pubsub_us, pubsub_decisions = None, None
    if settings.REDIS_URL:
        with override_settings(GENERATIONS_PUBSUB=True):
            listener = generations.process_invalidations()
            if listener is not None and listener.wait_listening(5):
                time_each(by_get_index, warm_inputs)
                pubsub_us, pubsub_decisions = time_each(by_get_index, inputs)
    naive_us, naive_outcomes = time_each(naive_decide, inputs)

    disagreements = []
    outcomes = {"routed": 0, NO_RULE: 0, AMBIGUOUS_RULE: 0}
    for case, decided, through_cache, naive in zip(inputs, index_decisions, cached_decisions, naive_outcomes,
                                                   strict=True):
        ours = _outcome(decided)
        outcomes[ours.reason or "routed"] += 1
        if ours != naive or _outcome(through_cache) != ours:
            disagreements.append((case, ours, naive))
    for case, decided, through_pubsub in zip(inputs, index_decisions, pubsub_decisions or [], strict=False):
        if _outcome(through_pubsub) != _outcome(decided):
            disagreements.append((case, _outcome(decided), _outcome(through_pubsub)))
    return RoutingResult(
        rules_in_index=index.size, build_ms=build_ms, index=Summary.of(index_us), get_index=Summary.of(cached_us),
        naive=Summary.of(naive_us), agreed=len(inputs) - len(disagreements), compared=len(inputs),
        outcomes=outcomes, disagreements=disagreements,
        get_index_pubsub=Summary.of(pubsub_us) if pubsub_us is not None else None,
    )
