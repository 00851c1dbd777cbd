"""Run one function in a child process with a memory and a wall-clock budget.

Heavy work on user files (reading and profiling an upload) can grow without bound on a hostile
file; in the same process it would take the web server or the worker down with it, and the job
would be sent again after the restart. In a child, overrunning the budget kills only the child:
the caller gets `BudgetExceeded` and records the reason.

    outcome = bounded.run(fn, arg, budget=Budget(memory_bytes=2 << 30, seconds=900),
                          on_message=lambda msg: ...)
    outcome.value, outcome.peak_bytes

- The child is started with 'forkserver' (a clean single-threaded server process forks each child):
  plain fork is unsafe from `market serve` and `market worker`, whose other threads may hold locks
  (DuckDB, logging, the database pool) at the moment of the fork. The server preloads `preload`
  modules once, so a child starts in milliseconds instead of re-importing DuckDB and openpyxl.
- Memory: the parent samples the child's resident set every POLL_SECONDS and kills it above
  `memory_bytes`; the child also has RLIMIT_AS at `memory_bytes` + AS_HEADROOM, a backstop against
  one runaway allocation between two samples (an address-space limit at the budget itself would
  break DuckDB and glibc, which reserve far more address space than they touch).
  A MemoryError (or a library's "out of memory" error) raised in the child counts as over budget.
- Time: past `seconds` the child is killed.
- `report(msg)` inside the child hands a small picklable message to the parent's `on_message`
  (progress); the parent calls it in its own thread, so it may use the database.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

POLL_SECONDS = 0.05
AS_HEADROOM = 4 * 1024**3

_PAGE = os.sysconf("SC_PAGE_SIZE")
_conn = None  # in a child: the pipe to the parent
_ctx_lock = threading.Lock()
_ctx = None
_preloaded: tuple[str, ...] = ()


@dataclass(frozen=True)
class Budget:
    memory_bytes: int
    seconds: float


@dataclass(frozen=True)
class Outcome:
    value: Any
    peak_bytes: int  # the child's peak resident set (its own ru_maxrss)
    seconds: float


class BudgetExceeded(Exception):
    """The child went over its budget, or died without an answer; it has been stopped."""

    def __init__(self, kind: str, budget: Budget, detail: str = ""):
        self.kind = kind  # "memory", "time" or "crashed"
        self.budget = budget
        self.detail = detail
        super().__init__(f"{kind} budget exceeded ({detail})" if detail else f"{kind} budget exceeded")


def preload(modules: Iterable[str]) -> None:
    """Modules the fork server imports once for every child (call before the first `run`)."""
    global _preloaded
    _preloaded = tuple(dict.fromkeys((*_preloaded, *modules)))


def _context():
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if ctx.get_start_method() == "forkserver":
                # "__main__": the server imports the entry script once (behind its __name__ guard, as
                # multiprocessing requires); without it every child would import it again
                # and a `python -m pkg.mod` entry by its name: each child runs it again as __mp_main__,
                # which is cheap only when its imports are already there
                spec = getattr(sys.modules.get("__main__"), "__spec__", None)
                entry = [spec.name] if spec is not None and spec.name != "__main__" else []
                ctx.set_forkserver_preload(["__main__", *entry, *_preloaded])
                _start_forkserver()
            _ctx = ctx
        return _ctx


def _start_forkserver() -> None:
    """Start the server now, importing from this process's sys.path: Python 3.11's server ignores the
    sys.path it is handed, so a path added at run time (pytest's `pythonpath`, a bench's own root)
    would otherwise import another copy of the code, or fail."""
    from multiprocessing import forkserver

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    try:
        forkserver.ensure_running()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def in_child() -> bool:
    return _conn is not None


def report(message: Any) -> None:
    """From the child: send `message` to the parent's on_message (nothing outside a bounded child)."""
    if _conn is not None:
        _conn.send(("message", message))


def run(fn: Callable, /, *args, budget: Budget, on_message: Callable[[Any], None] | None = None,
        **kwargs) -> Outcome:
    """`fn(*args, **kwargs)` in a child within `budget`; its exception is raised here as it was.

    `fn`, its arguments, its result and its exceptions cross a pipe, so they must pickle (a
    module-level function and plain values)."""
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, budget.memory_bytes, fn, args, kwargs), daemon=True,
                        name=f"bounded:{getattr(fn, '__qualname__', fn)}")
    started = time.monotonic()
    child.start()
    send.close()
    peak = 0
    try:
        while True:
            left = budget.seconds - (time.monotonic() - started)
            if left <= 0:
                raise BudgetExceeded("time", budget, f"{budget.seconds:g} s")
            got = None
            if receive.poll(min(POLL_SECONDS, left)):
                try:
                    got = receive.recv()
                except EOFError:  # the child is gone without a word
                    child.join(5)
                    raise _death(child, budget, peak) from None
                except Exception as exc:  # e.g. an exception class that does not unpickle
                    raise RuntimeError(f"the child's answer could not be read: {exc!r}") from None
            rss = _rss(child.pid)
            peak = max(peak, rss)
            if rss > budget.memory_bytes:
                raise BudgetExceeded("memory", budget, f"{rss / 1024**2:.0f} MB")
            if got is None:
                if not child.is_alive() and not receive.poll():
                    raise _death(child, budget, peak)
                continue
            kind, payload, *rest = got
            if kind == "message":
                if on_message is not None:
                    on_message(payload)
                continue
            own_peak = rest[0] if rest else 0
            if kind == "memory":
                raise BudgetExceeded("memory", budget, payload)
            if kind == "error":
                raise payload
            return Outcome(payload, max(peak, own_peak), time.monotonic() - started)
    finally:
        if child.is_alive():
            child.kill()
        child.join(10)
        receive.close()


def _death(child, budget: Budget, peak: int) -> BudgetExceeded:
    code = child.exitcode
    if code == -signal.SIGKILL:  # not ours (we raise before killing): the kernel's OOM killer
        return BudgetExceeded("memory", budget, f"killed by the system at {peak / 1024**2:.0f} MB")
    return BudgetExceeded("crashed", budget, f"exit code {code}")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _child(conn, memory_bytes: int, fn: Callable, args: tuple, kwargs: dict) -> None:
    global _conn
    _conn = conn
    limit = memory_bytes + AS_HEADROOM
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # a platform without it: the parent's sampling still applies
        pass
    try:
        value = fn(*args, **kwargs)
        answer = ("ok", value)
    except MemoryError as exc:
        answer = ("memory", f"MemoryError {exc}".strip())
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        if "outofmemory" in type(exc).__name__.lower():  # e.g. duckdb.OutOfMemoryException
            answer = ("memory", str(exc).splitlines()[0][:200])
        else:
            answer = ("error", exc)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        conn.send((*answer, peak))
    except Exception as exc:  # an unpicklable result or exception: say what it was
        conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc} (from {answer[0]})"), peak))
    finally:
        conn.close()
