"""market.bounded: a function run in a child process within a memory and a time budget.

The functions below run in the child (they are imported there by name, so they live at module level).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from listings.reading._errors import ReadError
from market import bounded

BUDGET = bounded.Budget(memory_bytes=512 * 1024**2, seconds=60)


def _echo(value, *, times: int):
    for i in range(times):
        bounded.report(("step", i))
    return {"value": value, "in_child": bounded.in_child(), "pid": os.getpid()}


def _grow(step_mb: int, steps: int) -> int:
    held = []
    for _ in range(steps):
        held.append(bytearray(step_mb * 1024**2))  # bytearray() writes every byte: resident at once
        time.sleep(0.02)
    return len(held)


def _refuse() -> None:
    raise ReadError("read.too_many_columns", columns=5000, limit=1000)


def _fail() -> None:
    raise ValueError("bad value")


def _no_memory() -> None:
    raise MemoryError


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _exit(code: int) -> None:
    os._exit(code)


def _killed() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would


def test_value_and_messages_come_back_from_another_process():
    seen = []
    out = bounded.run(_echo, 42, times=3, budget=BUDGET, on_message=seen.append)
    assert out.value["value"] == 42 and out.value["in_child"] is True and out.value["pid"] != os.getpid()
    assert seen == [("step", 0), ("step", 1), ("step", 2)]
    assert out.peak_bytes > 0
    assert not bounded.in_child()
    bounded.report("nothing happens outside a child")


def test_exceptions_cross_as_they_were():
    with pytest.raises(ReadError) as info:
        bounded.run(_refuse, budget=BUDGET)
    assert info.value.code == "read.too_many_columns" and info.value.params == {"columns": "5000", "limit": "1000"}
    with pytest.raises(ValueError, match="bad value"):
        bounded.run(_fail, budget=BUDGET)


def test_over_the_memory_budget_the_child_is_stopped_and_the_parent_lives():
    small = bounded.Budget(memory_bytes=200 * 1024**2, seconds=60)
    with pytest.raises(bounded.BudgetExceeded) as info:
        bounded.run(_grow, 20, 50, budget=small)  # would reach 1 GB
    assert info.value.kind == "memory"
    with pytest.raises(bounded.BudgetExceeded) as info:
        bounded.run(_no_memory, budget=small)
    assert info.value.kind == "memory"
    assert bounded.run(_grow, 10, 3, budget=small).value == 3  # within the budget: fine


def test_over_the_time_budget_the_child_is_killed():
    with pytest.raises(bounded.BudgetExceeded) as info:
        bounded.run(_sleep, 600, budget=bounded.Budget(memory_bytes=BUDGET.memory_bytes, seconds=0.5))
    assert info.value.kind == "time"


def test_a_child_that_dies_without_an_answer():
    with pytest.raises(bounded.BudgetExceeded) as info:
        bounded.run(_exit, 3, budget=BUDGET)
    assert info.value.kind == "crashed" and "3" in info.value.detail
    with pytest.raises(bounded.BudgetExceeded) as info:
        bounded.run(_killed, budget=BUDGET)
    assert info.value.kind == "memory"
