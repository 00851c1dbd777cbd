"""The demo's generated tables: well-formed, valid identifiers, enough listings per tier, repeatable, fast."""

from __future__ import annotations

import ast
import csv
import io
import time
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc

from listings.demo import tables as demo_module
from listings.demo.tables import DemoTable, demo_tables

HOLDERS = {"holder", "institution", "operator", "agency"}
TIERS = ("raw", "cleaned", "product")
CYCLES = {"realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "other"}
DELIVERIES = {"api", "file", "sandbox", "verification"}


def _read(table: DemoTable, path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a written table, read the way its declaration says."""
    if table.encoding == "xlsx":
        from openpyxl import load_workbook

        ws = load_workbook(path, read_only=True).active
        values = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    else:
        values = list(csv.reader(io.StringIO(path.read_bytes().decode(table.encoding), newline="")))
    header, rows = values[table.preamble_rows], values[table.preamble_rows + 1:]
    return header, [r for r in rows if any(r)]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[dict[str, tuple[Path, int]], float]:
    out = tmp_path_factory.mktemp("demo-tables")
    started = time.perf_counter()
    result = {t.key: (out / t.filename, t.write(out / t.filename)) for t in demo_tables()}
    return result, time.perf_counter() - started


def test_catalogue_shape():
    tables = demo_tables()
    assert len(tables) >= 24
    assert len({t.key for t in tables}) == len(tables)
    assert len({t.filename for t in tables}) == len(tables)
    assert sum(len(t.tiers) for t in tables) >= 55
    per_tier = Counter(tier for t in tables for tier in t.tiers)
    assert all(per_tier[tier] >= 10 for tier in TIERS), per_tier
    for t in tables:
        assert t.holder in HOLDERS, t.key
        assert t.update_cycle in CYCLES, t.key
        assert t.delivery in DELIVERIES, t.key
        assert t.tiers and set(t.tiers) <= set(TIERS) and len(set(t.tiers)) == len(t.tiers), t.key
        assert t.title and t.summary and t.tags and t.category_hint.count(" > ") >= 1, t.key
    assert {t.holder for t in tables} == HOLDERS


def test_personal_data_is_sandboxed_product_only():
    personal = [t for t in demo_tables() if t.key == "health_records_sample"]
    assert len(personal) == 1
    assert personal[0].tiers == ("product",) and personal[0].delivery == "sandbox"
    assert personal[0].holder == "institution"


def test_every_table_writes_its_declared_rows(written):
    files, _elapsed = written
    total = 0
    for t in demo_tables():
        path, count = files[t.key]
        assert path.stat().st_size > 0, t.key
        header, rows = _read(t, path)
        assert len(rows) == count, t.key
        assert 50 <= count <= 5000, (t.key, count)
        assert all(h.strip() for h in header), t.key
        assert all(len(r) == len(header) for r in rows), t.key
        total += count
    assert total <= 60_000


def test_detection_showcases(written):
    files, _elapsed = written
    by_key = {t.key: t for t in demo_tables()}
    gbk = files["individual_businesses"][0].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        gbk.decode("utf-8")
    assert gbk.decode("gbk").startswith("统一社会信用代码,")
    lines = files["population_yearly"][0].read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("杭州市统计局") and lines[1].startswith("单位：万人")
    assert by_key["population_yearly"].preamble_rows == 2
    header, _rows = _read(by_key["gdp_yearly"], files["gdp_yearly"][0])
    assert "地区生产总值(亿元)" in header


def _org_code_check(body: str) -> str:
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, weights))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def test_identifiers_validate(written):
    files, _elapsed = written
    codes = ids = 0
    for t in demo_tables():
        header, rows = _read(t, files[t.key][0])
        if "统一社会信用代码" in header:
            i = header.index("统一社会信用代码")
            for r in rows:
                assert uscc.is_valid(r[i]), (t.key, r[i])
                assert r[i][16] == _org_code_check(r[i][8:16]), (t.key, r[i])  # GB 11714 inside GB 32100
                codes += 1
        if "身份证号" in header:
            i = header.index("身份证号")
            for r in rows:
                assert ric.is_valid(r[i]), (t.key, r[i])
                ids += 1
    assert codes > 10_000 and ids == 2000


def test_region_codes_are_hangzhou(written):
    files, _elapsed = written
    current = {"330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112", "330113", "330114",
               "330122", "330127", "330182"}
    for t in demo_tables():
        header, rows = _read(t, files[t.key][0])
        for column in ("区划代码", "行政区划代码"):
            if column in header:
                i = header.index(column)
                assert {r[i] for r in rows} <= current, t.key


def test_deterministic(written, tmp_path):
    files, _elapsed = written
    for t in demo_tables():
        again = tmp_path / t.filename
        assert t.write(again) == files[t.key][1], t.key
        assert again.read_bytes() == files[t.key][0].read_bytes(), t.key


def test_write_into_a_directory(tmp_path):
    table = next(t for t in demo_tables() if t.key == "gdp_yearly")
    assert table.write(tmp_path) == 130
    assert (tmp_path / table.filename).is_file()


def test_generation_is_fast(written):
    _files, elapsed = written
    assert elapsed < 20, f"generating every demo table took {elapsed:.1f} s"


def test_never_reads_the_real_data():
    # every module of the demo package, less its docstring (which may say where real data lives)
    for path in Path(demo_module.__file__).parent.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(source), clean=False) or ""
        code = source.replace(doc, "")
        assert "realdata" not in code and "shared" not in code, path
