"""The SQL check: one SELECT over the declared sources, only allowed functions; every forbidden construct
refused with its code, whatever the names involved."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from market.errors import DomainError
from operators.pipelines import engines, functions, sql_check

SCHEMAS = {"visits": {"身份证号": "VARCHAR", "手机号": "VARCHAR", "区划代码": "VARCHAR", "就诊日期": "DATE", "次数": "BIGINT"},
           "clinics": {"区划代码": "VARCHAR", "机构数": "BIGINT"}}
OK = "SELECT region_city(区划代码) AS 地市, count(*) AS n FROM visits GROUP BY 1"


def code_of(sql: str, schemas: dict = SCHEMAS) -> str:
    with pytest.raises(DomainError) as info:
        sql_check.check(sql, schemas)
    return info.value.code


@pytest.mark.parametrize("sql, code", [
    ("INSERT INTO visits VALUES (1)", "pipeline.sql_not_single_select"),
    ("DELETE FROM visits", "pipeline.sql_not_single_select"),
    ("UPDATE visits SET 次数 = 0", "pipeline.sql_not_single_select"),
    ("CREATE TABLE x AS SELECT 1", "pipeline.sql_not_single_select"),
    ("DROP TABLE visits", "pipeline.sql_not_single_select"),
    ("ATTACH '/tmp/x.db' AS x", "pipeline.sql_not_single_select"),
    ("COPY visits TO '/tmp/x.csv'", "pipeline.sql_not_single_select"),
    ("PRAGMA database_list", "pipeline.sql_not_single_select"),
    ("SET enable_external_access = true", "pipeline.sql_not_single_select"),
    ("INSTALL httpfs", "pipeline.sql_not_single_select"),
    (OK + "; " + OK, "pipeline.sql_not_single_select"),
    ("SELECT * FROM read_csv('/etc/passwd')", "pipeline.table_function"),
    ("SELECT * FROM range(10)", "pipeline.table_function"),
    ("SELECT * FROM duckdb_settings()", "pipeline.table_function"),
    ("SELECT * FROM '/etc/passwd'", "pipeline.undeclared_source"),
    ("SELECT count(*) FROM main.visits", "pipeline.undeclared_source"),
    ("SELECT count(*) FROM other", "pipeline.undeclared_source"),
    ("SELECT count(*) AS n INTO x FROM visits", "pipeline.sql_forbidden"),
    ("SELECT count(*) FROM visits, unnest([1, 2])", "pipeline.sql_forbidden"),
    ("SELECT current_setting('threads') AS s, count(*) FROM visits", "pipeline.function_not_allowed"),
    ("SELECT random() AS r, count(*) FROM visits", "pipeline.function_not_allowed"),
    ("SELECT getenv('HOME') AS h, count(*) FROM visits", "pipeline.function_not_allowed"),
    ("SELECT nope, count(*) FROM visits GROUP BY 1", "pipeline.sql_unresolved"),
    ("SELECT * FROM visits", "pipeline.raw_copy"),
    ("SELECT 区划代码, 次数 FROM visits WHERE 次数 > 2", "pipeline.raw_copy"),
    ("WITH c AS (SELECT 区划代码 FROM visits) SELECT * FROM c", "pipeline.raw_copy"),
    ("SELECT * FROM visits UNION ALL SELECT * FROM visits", "pipeline.raw_copy"),
    ("SELEC 1", "pipeline.sql_syntax"),
    ("", "pipeline.sql_empty"),
])
def test_each_forbidden_construct_is_refused_with_its_code(sql, code):
    assert code_of(sql) == code


def test_the_columns_read_are_found_through_aliases_ctes_and_joins():
    checked = sql_check.check(
        "WITH c AS (SELECT 区划代码 AS code, 机构数 FROM clinics) "
        "SELECT region_city(v.区划代码) AS 地市, sum(c.机构数) AS n, count(*) AS m FROM visits v JOIN c ON c.code = v.区划代码 "
        "GROUP BY 1", SCHEMAS)
    assert checked.columns == {"visits": ["区划代码"], "clinics": ["区划代码", "机构数"]}
    star = sql_check.check("SELECT count(*) AS n, mask_id(max(身份证号)) AS m FROM visits", SCHEMAS)
    assert star.columns == {"visits": ["身份证号"]}


def test_direct_identifiers_copied_unchanged_are_found():
    checked = sql_check.check("SELECT 身份证号, mask_phone(手机号) AS 手机号, 次数 + 1 AS k FROM visits", SCHEMAS,
                              {"visits": {"身份证号", "手机号"}})
    assert [c.lower() for c in checked.identifier_outputs] == ["身份证号"]


_names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda n: n not in functions.BUILTINS and n not in ("visits", "clinics"))


@settings(max_examples=60, deadline=None)
@given(name=_names)
def test_any_undeclared_table_is_refused(name):
    assert code_of(f"SELECT count(*) AS n FROM {name}") in ("pipeline.undeclared_source", "pipeline.sql_syntax")


@settings(max_examples=60, deadline=None)
@given(name=_names)
def test_any_function_outside_the_allow_list_is_refused(name):
    import sqlglot

    node = sqlglot.parse_one(f"SELECT {name}(次数) FROM visits", read="duckdb").expressions[0]
    if type(node).__name__ in functions.ALLOWED_FUNCTIONS:
        return  # a plain SQL function the allow-list names (abs, sum …)
    assert code_of(f"SELECT {name}(次数) AS x, count(*) AS n FROM visits GROUP BY 1") in (
        "pipeline.function_not_allowed", "pipeline.sql_syntax")


@settings(max_examples=40, deadline=None)
@given(name=_names, path=st.sampled_from(["/etc/passwd", "/tmp/x.csv", "s3://b/k", "http://x/y"]),
       fn=st.sampled_from(["read_csv", "read_csv_auto", "read_parquet", "read_json", "read_text", "glob", "parquet_scan"]))
def test_table_functions_are_refused_whatever_they_read(name, path, fn):
    assert code_of(f"SELECT count(*) AS n FROM {fn}('{path}') AS {name}") == "pipeline.table_function"


@settings(max_examples=40, deadline=None)
@given(name=st.text(min_size=1, max_size=20))
def test_source_names_are_plain_identifiers(name):
    valid = sql_check.SOURCE_NAME.match(name) and name.lower() not in functions.BUILTINS
    if valid:
        sql_check.check_names([name])
    else:
        with pytest.raises(DomainError):
            sql_check.check_names([name])


def test_the_engine_refuses_what_the_check_would_have_missed(tmp_path):
    """Belt and braces: the locked-down DuckDB itself refuses to read files or change its configuration."""
    src = tmp_path / "v.csv"
    src.write_text("a\n1\n")
    out = tmp_path / "out" / "o.csv"
    out.parent.mkdir()
    task = engines.Task(sources=(engines.Source("v", str(src), (("a", "BIGINT"),)),), sql="SELECT 1", out_path=str(out))
    con = engines.connect_locked(task)
    import duckdb

    for statement in (f"SELECT * FROM read_csv('{src}')", "SET enable_external_access = true",
                      f"COPY v TO '{tmp_path / 'x.csv'}'", "INSTALL httpfs"):
        with pytest.raises(duckdb.Error):
            con.execute(statement)
    assert con.execute("SELECT mask_phone('13512342210')").fetchone()[0] == "135****2210"
    assert con.execute("SELECT region_province('330106'), date_year(DATE '2024-05-17')").fetchone() == ("330000", "2024")


def test_an_engine_error_does_not_hand_back_the_value_it_failed_on(tmp_path):
    src = tmp_path / "v.csv"
    src.write_text("身份证号\n330102199001011234\n", encoding="utf-8")
    out = tmp_path / "out" / "o.csv"
    out.parent.mkdir()
    task = engines.Task(sources=(engines.Source("v", str(src), (("身份证号", "VARCHAR"),)),), out_path=str(out),
                        sql="SELECT CAST(身份证号 AS INTEGER) + 1 AS n FROM v")
    with pytest.raises(engines.PipelineFailed) as info:
        engines.run_duckdb(task)
    assert info.value.code == "pipeline.sql_failed"
    assert "1234" not in info.value.params["detail"] and "'…'" in info.value.params["detail"]


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 4990 + "1" + ")" * 4990 + " AS x FROM visits",
    "SELECT count(*) AS n FROM visits WHERE " + "NOT " * 2400 + "1=1",
])
def test_a_pipeline_nested_too_deep_is_refused_not_a_crash(sql):
    with pytest.raises(DomainError) as exc:
        sql_check.check(sql, {"visits": {"区县": "VARCHAR"}})
    assert exc.value.code == "pipeline.sql_too_deep"
