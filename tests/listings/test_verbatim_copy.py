"""A clean file that is already exactly the prepared CSV (UTF-8, commas, CRLF line ends, the header as _Writer
writes it) is not copied through Python: the prepared CSV is a link to it. Any line end that differs, anywhere in
the file, gives the row loop's output byte for byte, whichever way the file is cut into blocks."""

from __future__ import annotations

import os

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listings import profiling, reading
from listings.reading import _bytecopy

HEADER = "统一社会信用代码,企业名称,法定代表人,状态"
ROWS = ["91330106MA2CD0TK7B,杭州华信科技有限公司,王伟,存续", "91330105MA27WQ3Q1X,杭州鼎盛商贸有限公司,李娜,在业",
        "92330102MA2H0U6E4P,上城区张记商行,张强,注销"]


def _data(ends: list[str], *, header_end: str = "\r\n") -> bytes:
    lines = [ROWS[i % len(ROWS)] + end for i, end in enumerate(ends)]
    return (HEADER + header_end + "".join(lines)).encode("utf-8")


def _prepare(tmp_path, name: str, data: bytes, *, fast: bool, con=None):
    src = tmp_path / f"{name}.csv"
    src.write_bytes(data)
    table = reading.prepare(src, tmp_path / f"out-{name}", filename="t.csv", fast=fast, con=con)
    linked = os.stat(table.csv_path).st_ino == os.stat(src).st_ino
    fields = {k: v for k, v in vars(table).items() if k not in ("csv_path", "loaded")}
    return fields, table.csv_path.read_bytes(), linked


@pytest.mark.parametrize("shared", [False, True], ids=["own connection", "profiler's connection"])
def test_a_file_already_prepared_is_linked_not_copied(tmp_path, shared):
    data = _data(["\r\n"] * 3000)
    con = profiling.connect() if shared else None
    try:
        fields, out, linked = _prepare(tmp_path, "clean", data, fast=True, con=con)
        if shared:  # loaded for the profiler as well, and the profile reads the linked file like any other
            profile = profiling.profile_csv(tmp_path / "out-clean" / "table.csv", fields["columns"], con=con,
                                            loaded=True)
            assert profile["row_count"] == 3000
    finally:
        if con is not None:
            con.close()
    assert linked and out == data
    assert (fields, out) == _prepare(tmp_path, "loop", data, fast=False)[:2]


@pytest.mark.parametrize("case", ["lf", "one lf late", "no end at the end", "lf header", "cr lf cr", "bom", "title row"])
@pytest.mark.parametrize("chunk", [1, 7, 100, 4 * 1024**2])
def test_any_other_line_end_gives_the_row_loops_bytes(tmp_path, monkeypatch, case, chunk):
    ends = {"lf": ["\n"] * 300, "one lf late": ["\r\n"] * 290 + ["\n"] + ["\r\n"] * 9,
            "no end at the end": ["\r\n"] * 299 + [""], "lf header": ["\r\n"] * 300,
            "cr lf cr": ["\r\n"] * 150 + ["\r\r\n"] + ["\r\n"] * 149}.get(case, ["\r\n"] * 300)
    data = _data(ends, header_end="\n" if case == "lf header" else "\r\n")
    if case == "bom":  # as Excel saves “CSV UTF-8”: the lines after the header are copied by the kernel
        data = b"\xef\xbb\xbf" + data
    if case == "title row":
        data = "2024年企业登记信息\r\n".encode() + data
    monkeypatch.setattr(_bytecopy, "_CHUNK", chunk)
    fast = _prepare(tmp_path, "fast", data, fast=True)
    assert not fast[2]  # a new file, not a link
    assert fast[:2] == _prepare(tmp_path, "loop", data, fast=False)[:2]
    parsed = duckdb.connect().execute("select count(*) from read_csv(?, header=true, all_varchar=true)",
                                      [str(tmp_path / "out-fast" / "table.csv")]).fetchone()[0]
    assert parsed == fast[0]["row_count"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ends=st.lists(st.sampled_from(["\r\n", "\r\n", "\r\n", "\n"]), min_size=210, max_size=260),
       last=st.sampled_from(["\r\n", "\n", ""]), chunk=st.integers(1, 64),
       before=st.sampled_from(["", "\ufeff", "企业登记信息（2024年）\r\n"]))
def test_line_ends_in_any_mix_and_any_blocks(tmp_path_factory, ends, last, chunk, before):
    """Linked exactly when every line ends with CRLF and nothing stands before the header; the row loop's bytes in
    every case."""
    tmp_path = tmp_path_factory.mktemp("mix")
    data = before.encode() + _data(ends + [last])
    old = _bytecopy._CHUNK
    _bytecopy._CHUNK = chunk
    try:
        fast = _prepare(tmp_path, "fast", data, fast=True)
    finally:
        _bytecopy._CHUNK = old
    assert fast[2] == (set(ends) == {"\r\n"} and last == "\r\n" and not before)
    assert fast[:2] == _prepare(tmp_path, "loop", data, fast=False)[:2]


def test_a_later_rewrite_of_the_prepared_csv_leaves_the_upload_alone(tmp_path):
    """The link shares the upload's bytes: what rewrites the prepared CSV afterwards (the 元 columns beside amounts
    written with units) writes a new file, so the upload keeps its bytes."""
    from listings.profiling import amounts

    data = ("名称,注册资本\r\n" + "".join(f"企业{i},{i % 90 + 10}万元\r\n" for i in range(3000))).encode("utf-8")
    src = tmp_path / "amounts.csv"
    src.write_bytes(data)
    table = reading.prepare(src, tmp_path / "out", filename="t.csv", fast=True)
    assert os.stat(table.csv_path).st_ino == os.stat(src).st_ino
    added = amounts.add_normalised_columns(table.csv_path, table.columns)
    assert added and table.csv_path.read_bytes() != data
    assert src.read_bytes() == data
