"""Reading and profiling on one DuckDB connection (the profiling job's way): a big clean text file is parsed
once, while it is checked, and the prepared CSV and the profile are exactly those of the two separate passes."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listings import profiling, reading

HEADER = "统一社会信用代码,企业名称,法定代表人,注册资本(万元),成立日期,状态"
ROWS = [
    "91330106MA2CD0TK7B,杭州华信科技有限公司,王伟,100,2015-03-02,存续",
    "91330105MA27WQ3Q1X,杭州鼎盛商贸有限公司,李娜,50.5,2018-11-20,在业",
    "92330102MA2H0U6E4P,上城区张记商行,张强,10,2020-01-07,注销",
]
ODD = {  # lines the row loop changes: each must send the file down the old path, with the same result
    "quote": '91330106MA2CD0TK7B,"杭州,华信",王伟,100,2015-03-02,存续',
    "marker": "91330106MA2CD0TK7B,杭州华信科技有限公司,N/A,100,2015-03-02,存续",
    "space": "91330106MA2CD0TK7B, 杭州华信科技有限公司,王伟,100,2015-03-02,存续",
    "ideographic space": "91330106MA2CD0TK7B,杭州华信科技有限公司\u3000,王伟,100,2015-03-02,存续",
    # the last code point is read as c[-1]: a space after a character of two code points (a flag) still counts
    "space after a flag": "91330106MA2CD0TK7B,杭州华信科技有限公司🇨🇳\u2003,王伟,100,2015-03-02,存续",
    "short": "91330106MA2CD0TK7B,杭州华信科技有限公司",
    "long": "91330106MA2CD0TK7B,杭州华信科技有限公司,王伟,100,2015-03-02,存续,多余",
    "empty": ",,,,,",
    "first only": "注：数据来源于市场监管局,,,,,",
    "header again": HEADER,
    "semicolon": "91330106MA2CD0TK7B,杭州华信;科技,王伟,100,2015-03-02,存续",
}


def _file(tmp_path, odd: str | None, *, rows: int = 3000, newline: str = "\n", encoding: str = "utf-8"):
    rng = random.Random(7)
    lines = [HEADER] + [rng.choice(ROWS) for _ in range(rows)]
    if odd is not None:
        lines.insert(rows // 2, ODD[odd])
    path = tmp_path / f"t-{odd}.csv"
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def _both(tmp_path, path):
    plain = reading.prepare(path, tmp_path / "plain", filename="t.csv", fast=True)
    plain_profile = profiling.profile_csv(plain.csv_path, plain.columns)
    con = profiling.connect()
    try:
        once = reading.prepare(path, tmp_path / "once", filename="t.csv", fast=True, con=con)
        once_profile = profiling.profile_csv(once.csv_path, once.columns, con=con, loaded=once.loaded)
    finally:
        con.close()
    assert once.csv_path.read_bytes() == plain.csv_path.read_bytes()
    assert once_profile == plain_profile
    assert {k: v for k, v in vars(once).items() if k not in ("csv_path", "loaded")} == \
        {k: v for k, v in vars(plain).items() if k not in ("csv_path", "loaded")}
    return once


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_clean_file_is_loaded_once(tmp_path, newline):
    assert _both(tmp_path, _file(tmp_path, None, newline=newline)).loaded


def test_gbk_file_is_loaded_once(tmp_path):
    assert _both(tmp_path, _file(tmp_path, None, encoding="gbk")).loaded


@pytest.mark.parametrize("odd", sorted(ODD))
def test_a_line_to_change_takes_the_old_path(tmp_path, odd):
    assert not _both(tmp_path, _file(tmp_path, odd)).loaded


def test_mostly_unique_columns_count_exactly(tmp_path):
    """Over 50,000 rows, a mostly-unique column is grouped by hash first: distinct counts and top values stay
    exact, with few repeated values and with many (where the values are grouped at once)."""
    from collections import Counter

    rng = random.Random(11)
    rows = 60_000
    few = [f"A{i:07d}" for i in range(rows)]
    for i in rng.sample(range(rows), 300):
        few[i] = f"A{rng.randrange(50):07d}"  # a few values repeat
    many = [f"B{rng.randrange(rows // 3):07d}" for _ in range(rows)]  # most rows hold a repeated value
    path = tmp_path / "u.csv"
    path.write_text("编号甲,编号乙\n" + "".join(f"{a},{b}\n" for a, b in zip(few, many)), encoding="utf-8")
    profile = profiling.profile_csv(path, ["编号甲", "编号乙"])
    for col, values in zip(profile["columns"], (few, many)):
        counts = Counter(values)
        assert col["distinct_count"] == len(counts)
        repeated = sorted(((v, n) for v, n in counts.items() if n > 1), key=lambda vn: (-vn[1], vn[0]))
        assert [tuple(t) for t in col["top_values"][:len(repeated[:10])]] == repeated[:10]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(60, 400), repeat_share=st.sampled_from([0.0, 0.01, 0.1, 0.3, 0.45]),
       pool=st.integers(1, 30), nulls=st.sampled_from([0.0, 0.05]), seed=st.integers(0, 10**6))
def test_mostly_unique_grouping_is_exact_for_any_column(tmp_path_factory, monkeypatch, rows, repeat_share, pool,
                                                        nulls, seed):
    """Whichever way a mostly-unique column is grouped (hashes first where few values repeat, the values at once
    otherwise): the distinct count is exact, the repeated values lead the top values in order, and the values
    padding them occur once."""
    from collections import Counter

    from listings.profiling import _rules

    monkeypatch.setattr(_rules, "MOSTLY_UNIQUE_ROWS", 0)  # the path of a million rows, on a few hundred
    rng = random.Random(seed)
    values = []
    for i in range(rows):
        r = rng.random()
        values.append("" if r < nulls else f"R{rng.randrange(pool):03d}" if r < nulls + repeat_share else f"U{i:05d}")
    path = tmp_path_factory.mktemp("unique") / "u.csv"
    path.write_text("编号,序\n" + "".join(f"{v},{i}\n" for i, v in enumerate(values)), encoding="utf-8")
    col = profiling.profile_csv(path, ["编号", "序"])["columns"][0]
    counts = Counter(v for v in values if v)
    assert col["distinct_count"] == len(counts)
    repeated = sorted(((v, n) for v, n in counts.items() if n > 1), key=lambda vn: (-vn[1], vn[0]))[:10]
    top = [tuple(t) for t in col["top_values"]]
    assert top[:len(repeated)] == repeated
    assert all(counts[v] == n == 1 for v, n in top[len(repeated):])
    assert len(top) == min(10, len(counts)) and len(set(v for v, _n in top)) == len(top)
