"""The locked DuckDB that runs one checked sandbox query (synchronous: call it from a worker thread).

A fresh in-memory connection per query: the entitled version's prepared CSV is loaded as the table
`data` with the profile's types, then the connection is locked (no external access, no extension
autoload/install, configuration frozen) before any of the buyer's SQL runs. Memory and threads are
capped at connect time; a timer interrupts the query at its time limit, so a runaway costs at most
that long on one worker thread and ends with a clear refusal.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import time
from dataclasses import dataclass

import duckdb

from listings.sandbox.checks import K_COLUMN, Plan, refuse
from market.errors import DomainError

# profile type -> DuckDB type; anything else stays text
DUCK_TYPES = {"integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "datetime": "TIMESTAMP"}
LOCK = ("SET enable_external_access = false", "SET lock_configuration = true")


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory_mb: int
    threads: int
    max_rows: int


@dataclass
class Outcome:
    columns: list[str]
    rows: list[list]  # with the source row count of each group as the last value
    where_kept: int | None
    where_total: int | None
    seconds: float


def column_types(profile: dict) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column: typed only where the profile found every value valid."""
    out = []
    for col in profile.get("columns", []):
        duck = DUCK_TYPES.get(col.get("type"), "VARCHAR")
        if duck != "VARCHAR" and col.get("type_invalid_count"):
            duck = "VARCHAR"
        out.append((col["name"], duck))
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(path: str, types: list[tuple[str, str]], limits: Limits) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding `data` from the CSV at `path`, locked before it is returned."""
    con = duckdb.connect(":memory:", config={
        "threads": limits.threads, "memory_limit": f"{limits.memory_mb}MB",
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        "allow_community_extensions": False})
    try:
        spec = "{" + ", ".join(f"{_literal(n)}: {_literal(t)}" for n, t in types) + "}"
        read = f"read_csv({_literal(path)}, header = true, auto_detect = false, columns = {spec}"
        try:
            con.execute(f"CREATE TABLE data AS SELECT * FROM {read})")
        except duckdb.ConversionException:
            # a value the profile took for a number after cleaning (1,234): read text, convert what converts
            text_spec = "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n, _t in types) + "}"
            cols = ", ".join(
                f"TRY_CAST(replace({_quote(n)}, ',', '') AS {t}) AS {_quote(n)}" if t in ("BIGINT", "DOUBLE") else
                f"TRY_CAST({_quote(n)} AS {t}) AS {_quote(n)}" for n, t in types)
            con.execute(f"CREATE TABLE data AS SELECT {cols} FROM read_csv({_literal(path)}, header = true, "
                        f"auto_detect = false, columns = {text_spec})")
        for statement in LOCK:
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    return con


def run(con: duckdb.DuckDBPyConnection, plan: Plan, limits: Limits) -> Outcome:
    """Run a checked plan on a locked connection under the time limit (closes the connection)."""
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(limits.seconds, stop)
    started = time.perf_counter()
    timer.start()
    try:
        kept = total = None
        if plan.where_sql:
            kept, total = con.execute(plan.where_sql).fetchone()
        cursor = con.execute(plan.sql)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchmany(limits.max_rows + 1)
    except duckdb.InterruptException as e:
        raise refuse(DomainError("sandbox.timeout", "查询超过 {seconds} 秒的时限，已被中止；请缩小查询范围或简化计算",
                     seconds=limits.seconds)) from e
    except duckdb.OutOfMemoryException as e:
        raise refuse(DomainError("sandbox.memory", "查询超出了 {mb} MB 的内存限制，已被中止", mb=limits.memory_mb)) from e
    except duckdb.PermissionException as e:
        raise refuse(DomainError("sandbox.forbidden_operation", "沙箱不允许该操作：{detail}", detail=str(e)[:200])) from e
    except duckdb.Error as e:
        if timed_out.is_set():
            raise refuse(DomainError("sandbox.timeout", "查询超过 {seconds} 秒的时限，已被中止；请缩小查询范围或简化计算",
                         seconds=limits.seconds)) from e
        raise refuse(DomainError("sandbox.query_error", "查询执行出错：{detail}", detail=str(e).splitlines()[0][:300])) from e
    finally:
        timer.cancel()
        con.close()
    if len(rows) > limits.max_rows:
        raise refuse(DomainError("sandbox.too_many_groups", "结果超过 {n} 组，请减少分组或加上 LIMIT", n=limits.max_rows))
    assert columns[-1] == K_COLUMN
    return Outcome(columns=columns, rows=[[_plain(v) for v in r] for r in rows], where_kept=kept,
                   where_total=total, seconds=time.perf_counter() - started)


def apply_k(outcome: Outcome, k: int) -> tuple[list[str], list[list], int]:
    """Drop groups standing for fewer than k source rows, and the count column itself."""
    kept = [r[:-1] for r in outcome.rows if (r[-1] or 0) >= k]
    return outcome.columns[:-1], kept, len(outcome.rows) - len(kept)


def _plain(value):
    """A JSON-ready value."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    if isinstance(value, (list, dict, tuple)):
        return str(value)
    return value


def execute(path: str, types: list[tuple[str, str]], plan: Plan, limits: Limits) -> Outcome:
    """Load, lock and run (the one entry point the service calls in a thread)."""
    try:
        con = connect(path, types, limits)
    except duckdb.Error as e:
        raise refuse(DomainError("sandbox.load_failed", "数据未能载入沙箱：{detail}",
                                 detail=str(e).splitlines()[0][:200])) from e
    return run(con, plan, limits)
