"""Interleaved rounds: the one way every bench turns measurements into a ratio.

A bench that measured the bare ceiling once and our path once was at the mercy of whatever else the
machine did in between: three idle runs of `bench/http.py` gave 0.40, 0.55 and 0.81 because the
ceiling itself swung from 8.2k to 5.2k req/s. So each round measures the ceiling and our side back to
back (same few seconds of machine weather), yields one ratio per round, and the bench reports the
median ratio of at least three rounds with its spread (max - min of the per-round ratios).

    from _rounds import interleave, summarize

    rounds = interleave(3, bare=lambda: run_bare(), ours=lambda: run_ours())
    result.update(summarize(rounds, ours="ours", bare="bare", key="rps"))                  # higher is better
    result.update(summarize(rounds, ours="ours", bare="bare", key="seconds", lower_is_better=True))

`interleave` alternates which side goes first in each round, so neither always runs on a warmer cache.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

MIN_ROUNDS = 3


def interleave(rounds: int, **sides: Callable[[], Any]) -> list[dict[str, Any]]:
    """Run every side once per round, alternating the order; returns one {side: result} per round."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"a ratio needs at least {MIN_ROUNDS} interleaved rounds, got {rounds}")
    names = list(sides)
    out: list[dict[str, Any]] = []
    for i in range(rounds):
        order = names if i % 2 == 0 else list(reversed(names))
        out.append({name: sides[name]() for name in order})
    return out


def _value(result: Any, key: str | None) -> float:
    if key is None:
        return float(result)
    return float(result[key])


def ratios(rounds: list[dict[str, Any]], *, ours: str, bare: str, key: str | None = None,
           lower_is_better: bool = False) -> list[float]:
    """Per-round ratio of ours to the ceiling: ours/bare for throughput, bare/ours for durations."""
    out = []
    for rnd in rounds:
        o, b = _value(rnd[ours], key), _value(rnd[bare], key)
        if lower_is_better:
            out.append(b / o if o > 0 else 0.0)
        else:
            out.append(o / b if b > 0 else 0.0)
    return out


def summarize(rounds: list[dict[str, Any]], *, ours: str, bare: str, key: str | None = None,
              lower_is_better: bool = False, prefix: str = "") -> dict[str, Any]:
    """{prefix}ratio (median of per-round ratios), {prefix}ratio_spread, {prefix}ratios, rounds."""
    rs = ratios(rounds, ours=ours, bare=bare, key=key, lower_is_better=lower_is_better)
    return {
        f"{prefix}ratio": round(statistics.median(rs), 3),
        f"{prefix}ratio_spread": round(max(rs) - min(rs), 3),
        f"{prefix}ratios": [round(r, 3) for r in rs],
        "rounds": len(rounds),
    }


def median_of(rounds: list[dict[str, Any]], side: str, key: str | None = None) -> float | None:
    """The median of one side's figure over the rounds (for the absolute numbers printed beside the ratio)."""
    values = [_value(r[side], key) for r in rounds if r.get(side) is not None]
    return round(statistics.median(values), 3) if values else None
