"""Interleaved timing: every contender runs once per round, in a rotating order, so drifts
in machine load (the box is shared) hit all of them alike."""
from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Callable


@dataclass
class Stats:
    """Wall-clock times of repeated calls after warm-up, in milliseconds."""

    median_ms: float
    min_ms: float
    max_ms: float
    runs: int

    @classmethod
    def of(cls, seconds: list[float]) -> "Stats":
        ms = [s * 1000 for s in seconds]
        return cls(statistics.median(ms), min(ms), max(ms), len(ms))

    def as_dict(self) -> dict:
        return asdict(self)


def interleaved(contenders: dict[str, Callable[[int], object]], rounds: int, warmup: int = 2) -> dict[str, Stats]:
    """Time fn(i) for i in range(rounds) for every contender; round i calls all with the same i."""
    names = list(contenders)
    for i in range(warmup):
        for name in names:
            contenders[name](-1 - i)
    times: dict[str, list[float]] = {n: [] for n in names}
    gc_was = gc.isenabled()
    gc.disable()  # a collection inside one contender's call would bill it for everyone's garbage
    try:
        for i in range(rounds):
            order = names[i % len(names):] + names[:i % len(names)]
            for name in order:
                started = time.perf_counter()
                contenders[name](i)
                times[name].append(time.perf_counter() - started)
            gc.collect()
    finally:
        if gc_was:
            gc.enable()
    return {n: Stats.of(t) for n, t in times.items()}


def once(fn: Callable[[], object]) -> tuple[object, float]:
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started
