"""The sandbox's SQL checks and locked engine without a database: every forbidden statement, in any case,
spacing or comment, is refused; the locked DuckDB refuses files, attachments and settings even for SQL
the checks would never pass; a runaway query is interrupted at its time limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from listings.sandbox import checks, engine
from market.errors import DomainError

COLUMNS = ["区县", "身份证号", "人数", "日期"]
PERSONAL = {"身份证号"}
FORBIDDEN = ["ATTACH 'x.db' AS y", "COPY data TO '/tmp/x.csv'", "INSTALL httpfs", "LOAD httpfs", "SET threads = 4",
             "PRAGMA database_list", "EXPORT DATABASE '/tmp/x'", "CALL pragma_version()", "DETACH y",
             "CREATE TABLE t AS SELECT 1", "DROP TABLE data", "DELETE FROM data", "UPDATE data SET 人数 = 1",
             "INSERT INTO data VALUES (1)", "SELECT count(*) FROM data; SELECT 1", "RESET threads",
             "USE memory", "CHECKPOINT", "VACUUM", "DESCRIBE data", "SHOW TABLES", "SUMMARIZE data"]


def _check(sql: str) -> checks.Plan:
    return checks.check(sql, columns=COLUMNS, personal=PERSONAL)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("sandbox") / "t.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("区县,身份证号,人数,日期\n")
        for i in range(2000):
            fh.write(f"区{i % 5},3301{i:014d},{i},2024-01-{i % 28 + 1:02d}\n")
    return str(path)


TYPES = [("区县", "VARCHAR"), ("身份证号", "VARCHAR"), ("人数", "BIGINT"), ("日期", "DATE")]
LIMITS = engine.Limits(seconds=5, memory_mb=256, threads=1, max_rows=1000)


@pytest.mark.parametrize("sql", FORBIDDEN)
def test_statements_other_than_one_select_are_refused(sql):
    with pytest.raises(DomainError) as e:
        _check(sql)
    assert e.value.status_code == 422 and e.value.code.startswith("sandbox.")


_case = st.sampled_from([str.upper, str.lower, str.title])
_space = st.sampled_from([" ", "  ", "\t", "\n", " /* x */ ", "\n-- c\n"])


@hsettings(max_examples=150, deadline=None)
@given(word=st.sampled_from(["attach", "copy", "install", "load", "set", "pragma", "export", "call", "detach"]),
       case=_case, space=_space, lead=st.sampled_from(["", " ", "\n", "/* hi */ "]))
def test_forbidden_statements_in_any_spelling_are_refused(word, case, space, lead):
    rest = {"attach": "'x.db' AS y", "copy": "data TO '/tmp/x.csv'", "install": "httpfs", "load": "httpfs",
            "set": "threads = 4", "pragma": "database_list", "export": "DATABASE '/tmp/x'",
            "call": "pragma_version()", "detach": "y"}[word]
    with pytest.raises(DomainError) as e:
        _check(f"{lead}{case(word)}{space}{rest}")
    assert e.value.code in ("sandbox.select_only", "sandbox.parse_error")


@hsettings(max_examples=150, deadline=None)
@given(name=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True), case=_case, space=_space)
def test_no_table_but_data_is_read(name, case, space):
    if name.lower() == "data":
        return
    with pytest.raises(DomainError) as e:
        _check(f"{case('select')}{space}count(*){space}{case('from')}{space}{name}")
    assert e.value.code in ("sandbox.table_not_allowed", "sandbox.parse_error", "sandbox.syntax_not_allowed")


@hsettings(max_examples=100, deadline=None)
@given(fn=st.sampled_from(["read_csv", "read_text", "read_blob", "read_parquet", "read_json", "glob", "getenv",
                           "current_setting", "duckdb_settings", "duckdb_tables", "pragma_version", "query",
                           "query_table", "list", "string_agg", "array_agg", "first", "arg_max"]),
       case=_case)
def test_functions_outside_the_allow_list_are_refused(fn, case):
    for sql in (f"SELECT {case(fn)}('/etc/passwd') FROM data", f"SELECT count(*) FROM {case(fn)}('/etc/passwd')",
                f"SELECT 区县, {case(fn)}(人数) FROM data GROUP BY 区县"):
        with pytest.raises(DomainError) as e:
            _check(sql)
        assert e.value.code in ("sandbox.function_not_allowed", "sandbox.table_not_allowed", "sandbox.parse_error")


def test_rewritten_query_counts_source_rows_per_group(table):
    plan = _check("SELECT 区县, sum(人数) AS s FROM data WHERE 人数 >= 100 GROUP BY 1 ORDER BY 1")
    out = engine.execute(table, TYPES, plan, LIMITS)
    assert out.columns == ["区县", "s", checks.K_COLUMN]
    assert [r[0] for r in out.rows] == [f"区{i}" for i in range(5)] and sum(r[2] for r in out.rows) == 1900
    assert (out.where_kept, out.where_total) == (1900, 2000)


@pytest.mark.parametrize("sql", ["SELECT count(*) AS __sandbox_k FROM read_csv('/etc/passwd')",
                                 "SELECT count(*) AS __sandbox_k FROM read_text('/etc/passwd')",
                                 "ATTACH '/tmp/sandbox-escape.duckdb' AS y", "COPY data TO '/tmp/sandbox-escape.csv'",
                                 "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true",
                                 "SET lock_configuration = false"])
def test_the_locked_engine_refuses_escapes_even_past_the_checks(table, sql):
    plan = checks.Plan(sql=sql, where_sql=None, fingerprint="", grouped=False)
    with pytest.raises(DomainError) as e:
        engine.execute(table, TYPES, plan, LIMITS)
    assert e.value.code in ("sandbox.forbidden_operation", "sandbox.query_error")


def test_a_heavy_cross_join_is_interrupted_at_its_time_limit(table):
    plan = checks.Plan(sql="SELECT count(*) AS __sandbox_k FROM data a, data b, data c, data d", where_sql=None,
                       fingerprint="", grouped=False)
    started = time.perf_counter()
    with pytest.raises(DomainError) as e:
        engine.execute(table, TYPES, plan, engine.Limits(seconds=0.2, memory_mb=256, threads=1, max_rows=10))
    assert e.value.code == "sandbox.timeout" and time.perf_counter() - started < 5


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 4990 + "1" + ")" * 4990 + " FROM data",  # deeper than the parser can recurse
    "SELECT count(*) FROM data WHERE " + "NOT " * 2400 + "1=1",
    "SELECT " + "(" * 80 + "1" + ")" * 80 + " AS x FROM data",  # parses, but past the depth limit
])
def test_a_query_nested_too_deep_is_refused_not_a_crash(sql):
    with pytest.raises(DomainError) as exc:
        checks.check(sql, columns=["区县"], personal=set())
    assert exc.value.code == "sandbox.too_deep"
