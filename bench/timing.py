"""Latency samples and their summary, in microseconds."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Summary:
    count: int
    median_us: float
    p95_us: float
    mean_us: float
    total_s: float

    @classmethod
    def of(cls, samples_us: list[float]) -> Summary:
        ordered = sorted(samples_us)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return cls(count=len(ordered), median_us=statistics.median(ordered), p95_us=p95,
                   mean_us=statistics.fmean(ordered), total_s=sum(ordered) / 1e6)

    def as_dict(self) -> dict:
        return asdict(self)


def time_each(call: Callable, inputs: Iterable) -> tuple[list[float], list]:
    """Time `call` on each input separately; returns the durations (µs) and the results, in order."""
    clock = time.perf_counter_ns
    durations, results = [], []
    for item in inputs:
        started = clock()
        result = call(item)
        durations.append((clock() - started) / 1000)
        results.append(result)
    return durations, results
