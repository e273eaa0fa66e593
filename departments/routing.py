"""Which department owns a case: the matching of DESIGN.md §3, served from an in-memory index.

Candidate rules are active, valid on the day of receipt, of the same case type, for the case's locality
or the whole city, and with an amount band containing the case's amount (min inclusive, max exclusive;
a banded rule never matches a case without an amount). The most specific candidate wins; a tie between
different owners is `ambiguous_rule`; no candidate is `no_rule`.

Each process keeps the rules in memory, grouped by (case type, locality), and rebuilds them when the
rules' generation counter moves (see `generations`), so a decision costs no query beyond that counter.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from departments import generations
from departments.workdays import get_calendar

NO_RULE = "no_rule"
AMBIGUOUS_RULE = "ambiguous_rule"


@dataclass(frozen=True, slots=True)
class RuleEntry:
    id: int
    case_type_id: int
    locality_id: int | None
    min_amount: Decimal | None
    max_amount: Decimal | None
    owner_id: int
    owner_code: str
    decision_level: str
    consultee_codes: tuple[str, ...]
    processing_days: int
    consultation_days: int | None
    legal_basis: str
    valid_from: dt.date | None
    valid_to: dt.date | None

    @property
    def specificity(self) -> int:
        return int(self.locality_id is not None) + int(self.min_amount is not None or self.max_amount is not None)

    def matches(self, amount: Decimal | None, on: dt.date) -> bool:
        if self.valid_from is not None and on < self.valid_from:
            return False
        if self.valid_to is not None and on > self.valid_to:
            return False
        if self.min_amount is None and self.max_amount is None:
            return True
        if amount is None:
            return False
        if self.min_amount is not None and amount < self.min_amount:
            return False
        return self.max_amount is None or amount < self.max_amount

    def snapshot(self) -> dict:
        """What the case keeps of the rule, so that later edits never change how it was routed."""
        return {
            "rule_id": self.id,
            "owner": self.owner_code,
            "decision_level": self.decision_level,
            "required_consultees": list(self.consultee_codes),
            "processing_days": self.processing_days,
            "consultation_days": self.consultation_days,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True, slots=True)
class Decision:
    rule: RuleEntry | None
    reason: str = ""
    # For `ambiguous_rule`: the equally specific rules that disagree, so the admin can see the gap.
    conflicting: tuple[RuleEntry, ...] = field(default=())

    @property
    def owner_id(self) -> int | None:
        return self.rule.owner_id if self.rule else None


class RoutingIndex:
    def __init__(self, entries: list[RuleEntry]):
        self._by_key: dict[tuple[int, int | None], list[RuleEntry]] = defaultdict(list)
        for entry in entries:
            self._by_key[(entry.case_type_id, entry.locality_id)].append(entry)
        self.size = len(entries)

    @classmethod
    def from_database(cls) -> RoutingIndex:
        from departments.models import AuthorityRule

        consultees: dict[int, list[str]] = defaultdict(list)
        through = AuthorityRule.required_consultees.through
        for rule_id, code in through.objects.filter(authorityrule__active=True).values_list(
            "authorityrule_id", "department__code"
        ).order_by("authorityrule_id", "department__code"):
            consultees[rule_id].append(code)
        rows = AuthorityRule.objects.filter(active=True).values_list(
            "id", "case_type_id", "locality_id", "min_amount", "max_amount", "owner_id", "owner__code",
            "decision_level", "processing_days", "case_type__processing_days", "consultation_days",
            "case_type__consultation_days", "legal_basis", "valid_from", "valid_to",
        )
        entries = [
            RuleEntry(
                id=rule_id, case_type_id=case_type_id, locality_id=locality_id, min_amount=min_amount,
                max_amount=max_amount, owner_id=owner_id, owner_code=owner_code, decision_level=decision_level,
                consultee_codes=tuple(consultees.get(rule_id, ())),
                processing_days=processing_days or type_processing_days,
                consultation_days=consultation_days or type_consultation_days,
                legal_basis=legal_basis, valid_from=valid_from, valid_to=valid_to,
            )
            for (rule_id, case_type_id, locality_id, min_amount, max_amount, owner_id, owner_code, decision_level,
                 processing_days, type_processing_days, consultation_days, type_consultation_days, legal_basis,
                 valid_from, valid_to) in rows
        ]
        return cls(entries)

    def decide(self, *, case_type_id: int, locality_id: int | None, amount: Decimal | None,
               on: dt.date) -> Decision:
        candidates = [e for e in self._by_key.get((case_type_id, None), ()) if e.matches(amount, on)]
        if locality_id is not None:
            candidates += [e for e in self._by_key.get((case_type_id, locality_id), ()) if e.matches(amount, on)]
        if not candidates:
            return Decision(rule=None, reason=NO_RULE)
        best = max(e.specificity for e in candidates)
        top = [e for e in candidates if e.specificity == best]
        if len({e.owner_id for e in top}) > 1:
            return Decision(rule=None, reason=AMBIGUOUS_RULE, conflicting=tuple(sorted(top, key=lambda e: e.id)))
        # Equally specific rules naming the same owner: the newest one carries the current terms.
        winner = max(top, key=lambda e: (e.valid_from or dt.date.min, e.id))
        return Decision(rule=winner)


_index = generations.GenerationCache(generations.RULES, RoutingIndex.from_database)


def get_index(tokens: dict[str, str] | None = None) -> RoutingIndex:
    """This process's index, rebuilt only when some process has changed a rule since it was built."""
    return _index.get(tokens)


@dataclass(frozen=True)
class Preview:
    """A routing decision with the due date it implies, as the intake form and the API show it."""

    decision: Decision
    due_date: dt.date | None

    @property
    def rule(self) -> RuleEntry | None:
        return self.decision.rule

    def as_dict(self) -> dict:
        rule = self.decision.rule
        if rule is None:
            return {
                "owner": None,
                "reason": self.decision.reason,
                "conflicting_rules": [e.id for e in self.decision.conflicting],
            }
        return {
            "owner": rule.owner_code,
            "rule": rule.id,
            "decision_level": rule.decision_level,
            "required_consultees": list(rule.consultee_codes),
            "legal_basis": rule.legal_basis,
            "processing_days": rule.processing_days,
            "due_date": self.due_date.isoformat() if self.due_date else None,
        }


def preview(*, case_type_id: int, locality_id: int | None, amount: Decimal | None, received_on: dt.date) -> Preview:
    decision = get_index().decide(case_type_id=case_type_id, locality_id=locality_id, amount=amount, on=received_on)
    due = get_calendar().due_date(received_on, decision.rule.processing_days) if decision.rule else None
    return Preview(decision=decision, due_date=due)
