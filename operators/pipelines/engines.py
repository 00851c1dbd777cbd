"""The engines that run a pipeline's checked SQL over its sources: DuckDB in-process (the default) and
Apache Spark (when configured), behind one function, `run(task, engine=...)`.

Both read each source's prepared CSV with the same explicit schema (every column read as text, then
TRY_CAST to the type the profile found: neither engine infers), expose it under its declared name, run
the query, drop the output columns asked for, check k-anonymity over the chosen columns, and write the
output as a UTF-8 CSV with a header to `task.out_path`.

DuckDB is locked down once the sources are loaded (STACK.md, "DuckDB as a sandbox"): no external access
except writing into the output's own directory, no extensions, memory and threads limited, the
configuration locked, and the query interrupted when its time is up. Spark gets the same SQL with the
built-in functions expanded and transpiled by sqlglot (read duckdb, write spark).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot

from market.i18n import N_
from operators.pipelines import functions

# profile types (listings.profiling TYPES) → the SQL type both engines cast a source column to
DUCKDB_TYPES = {"integer": "BIGINT", "decimal": "DOUBLE", "date": "DATE", "boolean": "BOOLEAN"}
SPARK_TYPES = {"BIGINT": "BIGINT", "DOUBLE": "DOUBLE", "DATE": "DATE", "BOOLEAN": "BOOLEAN", "VARCHAR": "STRING"}
_OUT = "_pipeline_output"  # the materialised result; source names start with a letter, so never clash


@dataclass(frozen=True)
class Source:
    name: str  # as the SQL reads it
    path: str  # a local CSV (UTF-8, comma, header), the prepared table of one asset version
    columns: tuple[tuple[str, str], ...]  # (column, SQL type), in the file's order


@dataclass(frozen=True)
class Task:
    sources: tuple[Source, ...]
    sql: str  # checked by operators.pipelines.sql_check
    out_path: str
    k: int = 0  # 0: no k-anonymity check
    k_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()  # output columns to leave out (direct identifiers copied unchanged)
    memory_mb: int = 1024
    threads: int = 2
    seconds: float = 600


@dataclass
class Result:
    engine: str
    rows_in: int
    rows_out: int
    columns: list[str] = field(default_factory=list)
    seconds: float = 0.0


class PipelineFailed(Exception):
    """The run failed for a reason the operator can act on; code and Chinese message as DomainError."""

    def __init__(self, code: str, message: str, params: dict | None = None):
        super().__init__(code, message, params or {})
        self.code, self.message, self.params = code, message, params or {}


def sql_type(profile_column: dict) -> str:
    """The type a source column is read as, from its profile: identifiers and codes stay text (an 18-digit
    ID number is not a number, and a leading zero matters)."""
    if profile_column.get("semantic_type") in ("resident_id", "mobile", "uscc", "region_code"):
        return "VARCHAR"
    return DUCKDB_TYPES.get(profile_column.get("type") or "", "VARCHAR")


_QUOTED = re.compile(r"'[^']*'")


def _detail(exc: BaseException) -> str:
    """The first line of an engine's error, with quoted values blanked: a failed cast would otherwise
    hand the operator the raw value it could not convert, one error at a time (原始数据不出域)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return _QUOTED.sub("'…'", first)[:300]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _bq(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def run(task: Task, *, engine: str = "duckdb", spark_master: str = "local[2]") -> Result:
    if engine == "spark":
        return run_spark(task, master=spark_master)
    return run_duckdb(task)


def _kept(columns: list[str], task: Task) -> list[str]:
    drop = {c.lower() for c in task.drop_columns}
    kept = [c for c in columns if c.lower() not in drop]
    if not kept:
        raise PipelineFailed("pipeline.no_output_columns", N_("去除直接标识符后没有剩下任何字段"))
    return kept


def _k_columns(kept: list[str], task: Task) -> list[str]:
    by_lower = {c.lower(): c for c in kept}
    missing = [c for c in task.k_columns if c.lower() not in by_lower]
    if missing:
        raise PipelineFailed("pipeline.k_column_missing", N_("k-匿名检查的字段不在输出中：{column}"),
                             {"column": missing[0]})
    return [by_lower[c.lower()] for c in task.k_columns]


def _k_failed(smallest: int | None, task: Task) -> PipelineFailed | None:
    if task.k and smallest is not None and smallest < task.k:
        return PipelineFailed("pipeline.k_anonymity", N_("k-匿名检查未通过：按 {columns} 分组，最小的组只有 {n} 行，少于 k = {k}"),
                              {"columns": "、".join(task.k_columns), "n": smallest, "k": task.k})
    return None


# ---- DuckDB --------------------------------------------------------------------------------------


def connect_locked(task: Task):
    """A DuckDB connection with the sources loaded and the built-ins defined, then locked down."""
    import duckdb

    out_dir = str(Path(task.out_path).resolve().parent) + os.sep
    con = duckdb.connect(config={"threads": max(1, task.threads), "memory_limit": f"{max(64, task.memory_mb)}MB"})
    for source in task.sources:
        casts = ", ".join(f"TRY_CAST({_q(c)} AS {t}) AS {_q(c)}" if t != "VARCHAR" else _q(c)
                          for c, t in source.columns)
        con.execute(f"CREATE TABLE {_q(source.name)} AS SELECT {casts} FROM read_csv(?, header = true, "
                    f"all_varchar = true, delim = ',', quote = '\"', escape = '\"')", [source.path])
    for statement in functions.macro_statements():
        con.execute(statement)
    con.execute("SET allowed_directories = [?]", [out_dir])
    for setting in ("SET enable_external_access = false", "SET autoinstall_known_extensions = false",
                    "SET autoload_known_extensions = false", "SET allow_community_extensions = false",
                    "SET lock_configuration = true"):
        con.execute(setting)
    return con


def run_duckdb(task: Task) -> Result:
    """Run the task on an in-process DuckDB, locked down; interrupted when its time is up."""
    import duckdb

    started = time.monotonic()
    con = connect_locked(task)
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        con.interrupt()

    timer = threading.Timer(max(0.01, task.seconds - (time.monotonic() - started)), stop)
    timer.daemon = True
    timer.start()
    try:
        rows_in = sum(con.execute(f"SELECT count(*) FROM {_q(s.name)}").fetchone()[0] for s in task.sources)
        con.execute(f"CREATE TEMP TABLE {_OUT} AS {task.sql}")
        columns = [d[0] for d in con.execute(f"SELECT * FROM {_OUT} LIMIT 0").description]
        kept = _kept(columns, task)
        if task.k:
            keys = ", ".join(_q(c) for c in _k_columns(kept, task))
            smallest = con.execute(f"SELECT min(n) FROM (SELECT count(*) AS n FROM {_OUT} GROUP BY {keys})").fetchone()[0]
            failed = _k_failed(smallest, task)
            if failed:
                raise failed
        rows_out = con.execute(f"SELECT count(*) FROM {_OUT}").fetchone()[0]
        con.execute(f"COPY (SELECT {', '.join(_q(c) for c in kept)} FROM {_OUT}) TO ? (HEADER, DELIMITER ',')",
                    [str(Path(task.out_path).resolve())])
    except duckdb.InterruptException:
        raise PipelineFailed("pipeline.over_time", N_("加工超过时间上限 {seconds} 秒，已停止"),
                             {"seconds": f"{task.seconds:g}"}) from None
    except duckdb.OutOfMemoryException:
        raise PipelineFailed("pipeline.over_memory", N_("加工超过内存上限 {mb} MB，已停止"), {"mb": task.memory_mb}) from None
    except duckdb.Error as exc:
        if timed_out.is_set():
            raise PipelineFailed("pipeline.over_time", N_("加工超过时间上限 {seconds} 秒，已停止"),
                                 {"seconds": f"{task.seconds:g}"}) from None
        raise PipelineFailed("pipeline.sql_failed", N_("加工 SQL 执行出错：{detail}"),
                             {"detail": _detail(exc)}) from None
    finally:
        timer.cancel()
        con.close()
    return Result(engine="duckdb", rows_in=rows_in, rows_out=rows_out, columns=kept,
                  seconds=time.monotonic() - started)


# ---- Spark ---------------------------------------------------------------------------------------

_spark_lock = threading.Lock()
_spark = None


def spark_session(master: str = "local[2]", memory_mb: int = 1024):
    """This process's Spark session (started once: it takes seconds)."""
    global _spark
    with _spark_lock:
        if _spark is None:
            from pyspark.sql import SparkSession

            _spark = (SparkSession.builder.master(master).appName("market-pipelines")
                      .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                      .config("spark.driver.memory", f"{max(512, memory_mb)}m")
                      .config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false")
                      .getOrCreate())
            _spark.sparkContext.setLogLevel("ERROR")
        return _spark


def stop_spark() -> None:
    global _spark
    with _spark_lock:
        if _spark is not None:
            _spark.stop()
            _spark = None


def spark_sql(sql: str) -> str:
    """The pipeline's DuckDB SQL for Spark: built-ins expanded, then transpiled."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    return functions.expand(tree).sql(dialect="spark", identify=True)


def run_spark(task: Task, *, master: str = "local[2]") -> Result:
    """Run the task on Spark; its jobs are cancelled when the time is up."""
    from pyspark.sql.types import StringType, StructField, StructType

    started = time.monotonic()
    # a session of its own (temporary views and SQL settings), sharing the context: two runs at once in
    # one worker do not see each other's sources; its jobs form a group, so the timer stops only them
    spark = spark_session(master, task.memory_mb).newSession()
    group = f"pipeline-{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    spark.sparkContext.setJobGroup(group, "pipeline run", interruptOnCancel=True)
    timed_out = threading.Event()
    finished = threading.Event()

    def stop() -> None:
        # a cancel reaches only the jobs running at that moment: keep cancelling until the run gives up,
        # so a job submitted just after the deadline is stopped too
        if finished.wait(task.seconds):
            return
        timed_out.set()
        while not finished.is_set():
            spark.sparkContext.cancelJobGroup(group)
            finished.wait(0.5)

    timer = threading.Thread(target=stop, daemon=True)
    timer.start()
    out = Path(task.out_path).resolve()
    parts = out.parent / (out.name + ".parts")
    views = []
    try:
        rows_in = 0
        for source in task.sources:
            schema = StructType([StructField(c, StringType(), True) for c, _t in source.columns])
            raw = (spark.read.option("header", True).option("multiLine", True).option("escape", '"')
                   .schema(schema).csv(source.path))
            raw_view = f"_raw_{source.name}"
            raw.createOrReplaceTempView(raw_view)
            casts = ", ".join(f"try_cast({_bq(c)} AS {SPARK_TYPES[t]}) AS {_bq(c)}" if t != "VARCHAR" else _bq(c)
                              for c, t in source.columns)
            spark.sql(f"SELECT {casts} FROM {raw_view}").createOrReplaceTempView(source.name)
            views += [raw_view, source.name]
            rows_in += spark.table(source.name).count()
        df = spark.sql(spark_sql(task.sql))
        kept = _kept(list(df.columns), task)
        df = df.select(*[df[_bq(c)] for c in kept]).cache()
        if task.k:
            from pyspark.sql import functions as F

            keys = _k_columns(kept, task)
            smallest = df.groupBy(*[df[_bq(c)] for c in keys]).count().agg(F.min("count")).collect()[0][0]
            failed = _k_failed(smallest, task)
            if failed:
                raise failed
        rows_out = df.count()
        (df.coalesce(1).write.mode("overwrite").option("header", True).option("escape", '"')
         .option("nullValue", None).csv(str(parts)))
        written = sorted(parts.glob("part-*.csv"))
        if not written:
            raise PipelineFailed("pipeline.sql_failed", N_("加工 SQL 执行出错：{detail}"), {"detail": "no output"})
        shutil.move(str(written[0]), out)
        df.unpersist()
    except PipelineFailed:
        raise
    except Exception as exc:  # py4j and Spark analysis errors share no useful base class
        if timed_out.is_set():
            raise PipelineFailed("pipeline.over_time", N_("加工超过时间上限 {seconds} 秒，已停止"),
                                 {"seconds": f"{task.seconds:g}"}) from None
        raise PipelineFailed("pipeline.sql_failed", N_("加工 SQL 执行出错：{detail}"), {"detail": _detail(exc)}) from None
    finally:
        finished.set()
        shutil.rmtree(parts, ignore_errors=True)
        for view in views:
            spark.catalog.dropTempView(view)
    return Result(engine="spark", rows_in=rows_in, rows_out=rows_out, columns=kept, seconds=time.monotonic() - started)
