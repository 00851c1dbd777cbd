"""The same pipelines on DuckDB and on Apache Spark (local) give identical rows: sources read with the
same explicit schema from their profiles, the built-ins expanded and the SQL transpiled by sqlglot, the
outputs written to the same object store as new versions of the same derived asset."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import pytest

from listings.tables import AssetVersion
from market import runtime
from operators.pipelines import engines
from operators.tables import Lineage
from pipeline_factories import MASKING_SQL, pipeline, run, world

JOIN_SQL = ("WITH per_district AS (SELECT 区划代码, date_month(就诊日期) AS 月份, count(*) AS 人次, sum(次数) AS 次数 "
            "FROM visits GROUP BY ALL) "
            "SELECT region_city(p.区划代码) AS 地市, p.月份, sum(p.人次) AS 人次, sum(p.次数) AS 次数, "
            "sum(c.机构数) AS 机构数, max(mask_id(p.区划代码 || '0000000000')) AS 样例 "
            "FROM per_district p LEFT JOIN clinics c ON c.区划代码 = p.区划代码 GROUP BY ALL ORDER BY ALL")


@pytest.fixture(scope="module", autouse=True)
def one_spark_session():
    """Spark takes seconds to start: one session for the module, stopped at its end."""
    yield
    engines.stop_spark()


async def _rows(asset_id: int, number: int) -> list[list[str]]:
    version = await AssetVersion.select(AssetVersion.object_key).where(
        (AssetVersion.asset == asset_id) & (AssetVersion.number == number)).first()
    text = b"".join(runtime.storage().open(version["object_key"])).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


async def test_duckdb_and_spark_give_identical_rows(job_runtime, settings):
    w = await world(job_runtime)
    sources = {"visits": w["visits"]["id"], "clinics": w["clinics"]["id"]}
    joined = await pipeline(w, sql=JOIN_SQL, sources=sources, title="各地市门诊与机构")
    masked = await pipeline(w, sql=MASKING_SQL + " ORDER BY ALL", title="门诊明细脱敏", k=12, k_columns=["地市", "月份"])
    for p in (joined, masked):
        on_duckdb = await run(w, p["id"], job_runtime)
        assert on_duckdb["status"] == "done" and on_duckdb["engine"] == "duckdb", on_duckdb["error"]
        runtime.configure(replace(settings, pipeline_engine="spark", spark_master="local[2]"))
        try:
            on_spark = await run(w, p["id"], job_runtime)
        finally:
            runtime.configure(settings)
        assert on_spark["status"] == "done" and on_spark["engine"] == "spark", on_spark["error"]
        assert on_spark["asset"] == on_duckdb["asset"] and on_spark["asset_version"] == 2
        assert (on_spark["rows_in"], on_spark["rows_out"]) == (on_duckdb["rows_in"], on_duckdb["rows_out"])
        duck, spark = await _rows(on_duckdb["asset"], 1), await _rows(on_duckdb["asset"], 2)
        assert len(duck) == on_duckdb["rows_out"] + 1 and len(duck) > 2
        assert duck == spark  # header and every row, in order
        engines_used = [r["engine"] for r in await Lineage.select(Lineage.engine).where(
            Lineage.asset == on_duckdb["asset"]).order_by(Lineage.version)]
        assert engines_used == ["duckdb", "spark"]


async def test_spark_fails_a_run_below_k_like_duckdb(job_runtime, settings):
    w = await world(job_runtime)
    p = await pipeline(w, sql=MASKING_SQL, k=13, k_columns=["地市", "月份"])
    runtime.configure(replace(settings, pipeline_engine="spark"))
    try:
        failed = await run(w, p["id"], job_runtime)
    finally:
        runtime.configure(settings)
    assert failed["status"] == "failed" and failed["error_code"] == "pipeline.k_anonymity"
    assert failed["error"]["params"]["n"] == 12


def test_the_spark_sql_is_the_duckdb_sql_transpiled_with_the_builtins_expanded():
    sql = engines.spark_sql("SELECT mask_phone(手机号) AS p, date_month(d) AS m FROM visits")
    assert "mask_phone" not in sql.lower() and "`手机号`" in sql and "SUBSTRING" in sql.upper()


def test_a_spark_run_over_its_time_is_cancelled_and_the_session_lives_on(tmp_path):
    from pipeline_factories import VISITS

    src = tmp_path / "visits.csv"
    src.write_bytes(VISITS)
    columns = tuple((c, "VARCHAR") for c in VISITS.decode().splitlines()[0].split(","))
    source = engines.Source("visits", str(src), columns)
    slow = engines.Task(sources=(source,), out_path=str(tmp_path / "slow.csv"), seconds=3,
                        sql="SELECT sum(length(concat(a.身份证号, f.手机号))) AS n "
                            "FROM visits a, visits b, visits c, visits d, visits e, visits f, visits g")
    with pytest.raises(engines.PipelineFailed) as info:
        engines.run_spark(slow)
    assert info.value.code == "pipeline.over_time"
    fine = engines.run_spark(engines.Task(sources=(source,), out_path=str(tmp_path / "ok.csv"),
                                          sql="SELECT region_city(区划代码) AS c, count(*) AS n FROM visits GROUP BY 1"))
    assert fine.rows_out == 1 and (tmp_path / "ok.csv").read_text(encoding="utf-8").splitlines() == ["c,n", "330100,24"]
