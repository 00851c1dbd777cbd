"""Hostile files through the real upload API and profiling job: each gets a clear refusal (a stable code, a
Chinese reason on the version, the upload removed) or a correct profile, and the server answers afterwards.

Every file is made here. Issue 7: a 38 KB CSV of 5,000 columns grew `market serve` past 23 GB until the
kernel killed it; reading and profiling now run in a bounded child process behind input limits.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path

import pytest

from factories import login, make_user
from listings import reading
from listings.reading._layout import dedupe
from listings.tables import AssetVersion
from market import runtime
from market.i18n import translations

WIDE = 5000


def _wide_csv(columns: int = WIDE) -> bytes:
    header = ",".join(f"列{i}" for i in range(columns))
    row = ",".join(str(i % 10) for i in range(columns))
    return f"{header}\n{row}\n".encode()


def _xlsx(tmp_path: Path, replace: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None,
          level: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A small real workbook (openpyxl), with some parts replaced or added."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["名称", "数量"])
    ws.append(["甲", 1])
    ws.append(["乙", 2])
    base = tmp_path / "base.xlsx"
    wb.save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(out, "w", level) as dst:
        for info in src.infolist():
            data = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


def _sheet_with_string(tmp_path: Path, xml: bytes) -> bytes:
    """A workbook whose first cell reads shared string 0 from `xml` (a sharedStrings part)."""
    sheet = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             b'<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>b</t></is></c></row>'
             b'<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c><c r="B2"><v>1</v></c></row>'
             b'</sheetData></worksheet>')
    types = _xlsx(tmp_path)
    with zipfile.ZipFile(io.BytesIO(types)) as zf:
        content_types = zf.read("[Content_Types].xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    if b"sharedStrings" not in content_types:
        content_types = content_types.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                              b'"application/vnd.openxmlformats-officedocument.spreadsheetml.'
                                              b'sharedStrings+xml"/></Types>')
        rels = rels.replace(b"</Relationships>", b'<Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/'
                            b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                            b"</Relationships>")
    return _xlsx(tmp_path, replace={"xl/worksheets/sheet1.xml": sheet, "[Content_Types].xml": content_types,
                                    "xl/_rels/workbook.xml.rels": rels, "xl/sharedStrings.xml": xml},
                 extra={} if b"sharedStrings" in types else {"xl/sharedStrings.xml": xml})


_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'

EXTERNAL_ENTITY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
                   + _SST + b"<si><t>&xxe;</t></si></sst>")
BILLION_LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
                             for i in range(1, 10))
                  + b"]>\n" + _SST + b"<si><t>&lol9;</t></si></sst>")


def _zip_bomb(tmp_path: Path) -> bytes:
    """A workbook whose sheet unpacks to 64 MB from ~64 KB (a ratio of ~1000; real sheets stay far below 200)."""
    row = b'<row><c t="inlineStr"><is><t>0</t></is></c></row>'
    body = row * (64 * 1024**2 // len(row))
    sheet = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             b'spreadsheetml/2006/main"><sheetData>' + body + b"</sheetData></worksheet>")
    return _xlsx(tmp_path, replace={"xl/worksheets/sheet1.xml": sheet})


def _deep_json(depth: int) -> bytes:
    return b'[{"a": 1, "b": ' + b"[" * depth + b"]" * depth + b"}]"


HOSTILE = {  # name → (file, code of the refusal under the default limits)
    "wide.csv": (lambda tmp: _wide_csv(), "read.too_many_columns"),
    "repeated_header.csv": (lambda tmp: (",".join(["名称"] * 10_000) + "\n" + ",".join(["1"] * 10_000) + "\n").encode(),
                            "read.too_many_columns"),
    "zip_bomb.xlsx": (_zip_bomb, "read.xlsx_bomb"),
    "external_entity.xlsx": (lambda tmp: _sheet_with_string(tmp, EXTERNAL_ENTITY), "read.xlsx_unsafe"),
    "billion_laughs.xlsx": (lambda tmp: _sheet_with_string(tmp, BILLION_LAUGHS), "read.xlsx_unsafe"),
    "deep.json": (lambda tmp: _deep_json(100_000), "read.json_too_deep"),
    "deepish.json": (lambda tmp: _deep_json(40), "read.json_too_deep"),
}


@pytest.fixture
async def holder(client):
    user = await make_user(["holder"])
    client.csrf = await login(client, user)
    return client


async def _upload(client, name: str, body: bytes) -> dict:
    resp = await client.post("/api/v1/assets", files={"file": (name, io.BytesIO(body), "application/octet-stream")},
                             headers={"X-CSRF-Token": client.csrf})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def _after_job(client, job_runtime, asset_id: int) -> dict:
    await job_runtime.drain(timeout=240)
    resp = await client.get(f"/api/v1/assets/{asset_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _assert_refused(client, asset: dict, code: str) -> None:
    """A clear refusal, nothing half-made: failed with its code and Chinese reason, no file kept, no table."""
    assert asset["profile_status"] == "failed", asset
    assert asset["error_code"] == code
    assert asset["error"] and any("\u4e00" <= ch <= "\u9fff" for ch in asset["error"])
    assert "{" not in asset["error"]  # every placeholder filled in
    version = await AssetVersion.select().where(AssetVersion.id == asset["version_id"]).first()
    store = runtime.storage()
    assert not store.exists(version["object_key"])  # the refused upload is not kept
    assert version["prepared_key"] == "" and not version["row_count"] and asset["columns"] == []
    err = json.loads(version["error"])
    assert translations("en").gettext(err["message"]) != err["message"]  # and it has its English
    health = await client.get("/api/v1/health")
    assert health.status_code == 200


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_file_is_refused_clearly(holder, job_runtime, tmp_path, name):
    make, code = HOSTILE[name]
    up = await _upload(holder, name, make(tmp_path))
    await _assert_refused(holder, await _after_job(holder, job_runtime, up["id"]), code)


async def test_enormous_line_is_refused_before_it_is_read_whole(holder, job_runtime, monkeypatch, settings):
    # 3 MB on one line under a 1 MB limit (the default 32 MB works the same way, with a bigger file)
    monkeypatch.setattr(runtime, "_settings", dataclasses.replace(settings, upload_max_line_chars=1024**2))
    body = b"a,b\n1,2\n" + b"9," * (1536 * 1024) + b"9\n3,4\n"
    up = await _upload(holder, "one_line.csv", body)
    asset = await _after_job(holder, job_runtime, up["id"])
    await _assert_refused(holder, asset, "read.line_too_long")
    assert "第 3 行" in asset["error"]


async def test_wide_file_under_a_raised_limit_gets_a_correct_profile(holder, job_runtime, monkeypatch, settings):
    monkeypatch.setattr(runtime, "_settings", dataclasses.replace(settings, upload_max_columns=WIDE))
    body = _wide_csv()
    assert len(body) < 64 * 1024  # a tiny file, like the 38 KB
    up = await _upload(holder, "wide.csv", body)
    asset = await _after_job(holder, job_runtime, up["id"])
    assert asset["profile_status"] == "done", asset.get("error")
    assert asset["row_count"] == 1 and len(asset["columns"]) == WIDE
    for i in (0, 1, 2345, WIDE - 1):
        col = asset["columns"][i]
        assert col["name"] == f"列{i}" and col["null_count"] == 0 and col["distinct_count"] == 1
        assert col["min"] == col["max"] == str(i % 10) and col["type"] == "integer"
    assert (await holder.get("/api/v1/health")).status_code == 200


async def test_over_the_memory_budget_the_child_dies_alone(holder, job_runtime, monkeypatch, settings):
    """A child that genuinely outgrows its budget is stopped; this process (the server) records why."""
    # 64 MB: less than the child's own interpreter with DuckDB loaded, so any real file goes over it
    monkeypatch.setattr(runtime, "_settings", dataclasses.replace(settings, profile_memory_mb=64))
    up = await _upload(holder, "人口.csv", "区县,人口\n上城区,1000\n拱墅区,2000\n".encode())
    asset = await _after_job(holder, job_runtime, up["id"])
    await _assert_refused(holder, asset, "profile.over_memory")
    assert "64.0 MB" in asset["error"]
    # and the next upload, within the budget, is profiled as usual
    monkeypatch.setattr(runtime, "_settings", settings)
    up = await _upload(holder, "人口.csv", "区县,人口\n上城区,1000\n拱墅区,2000\n".encode())
    asset = await _after_job(holder, job_runtime, up["id"])
    assert asset["profile_status"] == "done" and asset["row_count"] == 2


# --- the limits one by one, on reading.prepare ---------------------------------------------------------------------

def _refused(tmp_path: Path, name: str, body: bytes, **limits) -> reading.ReadError:
    src = tmp_path / name
    src.write_bytes(body)
    work = tmp_path / f"w-{name}"
    with pytest.raises(reading.ReadError) as info:
        reading.prepare(src, work, filename=name, limits=reading.ReadLimits(**limits))
    assert not work.exists() or list(work.iterdir()) == []
    return info.value


def test_column_limit_counts_filled_cells_only(tmp_path):
    # trailing delimiters (an export's empty columns) are not columns
    body = ("a,b,c" + "," * 50 + "\n1,2,3" + "," * 50 + "\n").encode()
    src = tmp_path / "t.csv"
    src.write_bytes(body)
    table = reading.prepare(src, tmp_path / "w", filename="t.csv", limits=reading.ReadLimits(max_columns=10))
    assert table.columns == ["a", "b", "c"]
    err = _refused(tmp_path, "t2.csv", b"a,b,c,d\n1,2,3,4\n", max_columns=3)
    assert err.code == "read.too_many_columns" and err.params == {"columns": "4", "limit": "3"}


def test_json_keys_count_as_columns(tmp_path):
    body = json.dumps([{f"k{i}": i for i in range(20)}]).encode()
    assert _refused(tmp_path, "r.json", body, max_columns=10).code == "read.too_many_columns"
    lines = b"\n".join(json.dumps({f"k{i}": i, "n": n}).encode() for n in range(3) for i in [n * 10])
    assert _refused(tmp_path, "r.jsonl.json", lines + b"\n" + lines, max_columns=2).code == "read.too_many_columns"


def test_long_cell_is_refused(tmp_path):
    body = b"a,b\n1," + b"x" * 5000 + b"\n2,3\n"
    err = _refused(tmp_path, "c.csv", body, max_cell_chars=1000)
    assert err.code == "read.cell_too_long" and err.params["line"] == "2"
    quoted = b'a,b\n1,"' + b"y\n" * 3000 + b'"\n2,3\n'  # one cell over many lines
    assert _refused(tmp_path, "q.csv", quoted, max_cell_chars=1000).code == "read.cell_too_long"


def test_xlsx_limits(tmp_path):
    book = _xlsx(tmp_path)
    assert _refused(tmp_path, "s.xlsx", book, max_sheets=0).code == "read.too_many_sheets"
    assert _refused(tmp_path, "u.xlsx", book, max_unzipped_bytes=1000).code == "read.xlsx_bomb"
    long_cell = _sheet_with_string(tmp_path, _SST + b"<si><t>" + b"z" * 3000 + b"</t></si></sst>")
    assert _refused(tmp_path, "l.xlsx", long_cell, max_cell_chars=1000).code == "read.cell_too_long"


def test_entity_beyond_the_prolog_check_is_refused_by_defusedxml(tmp_path):
    """The prolog check reads 4 KB of each part; a DTD pushed further by a comment still meets defusedxml, which
    openpyxl uses once installed (a pinned dependency)."""
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML
    padded = EXTERNAL_ENTITY.replace(b"<!DOCTYPE", b"<!--" + b" " * 8000 + b"-->\n<!DOCTYPE", 1)
    assert _refused(tmp_path, "p.xlsx", _sheet_with_string(tmp_path, padded)).code == "read.xlsx_unsafe"


def test_json_depth_limit_is_the_setting(tmp_path):
    src = tmp_path / "ok.json"
    src.write_bytes(_deep_json(5))
    table = reading.prepare(src, tmp_path / "w", filename="ok.json", limits=reading.ReadLimits(max_json_depth=8))
    assert table.columns == ["a", "b"]
    err = _refused(tmp_path, "deep.json", _deep_json(7), max_json_depth=8)
    assert err.code == "read.json_too_deep" and err.params == {"limit": "8"}
    geo = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"p": [[[[1]]]]}}]}
    assert _refused(tmp_path, "g.geojson", json.dumps(geo).encode(), max_json_depth=4).code == "read.json_too_deep"


def test_dedupe_of_one_name_repeated():
    names = dedupe(["名称"] * 10_000 + ["名称_3", "x", "名称"])
    assert len(set(names)) == len(names) == 10_003
    assert names[:3] == ["名称", "名称_2", "名称_3"] and names[-3:] == ["名称_3_2", "x", "名称_10001"]


# --- a real server: `market serve` (with its in-process worker, or beside `market worker` with a broker) -------------

async def test_served_marketplace_survives_a_job_over_budget(settings):
    """The process that serves the site runs the job that goes over budget (embedded worker), or a separate
    `market worker` does (broker): either way the site answers, and the reason is on the version."""
    import asyncio
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    root = Path(__file__).resolve().parents[2]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MARKET_VAR_DIR": str(settings.var_dir), "MARKET_DATABASE_URL": settings.database_url,
           "MARKET_SECRET_KEY": settings.secret_key, "MARKET_PASSWORD_PROFILE": "cheapest", "PYTHONPATH": str(root),
           "MARKET_PROFILE_MEMORY_MB": "64", "MARKET_OUTBOX_POLL_SECONDS": "0.1", "MARKET_LOG_LEVEL": "WARNING"}
    if not settings.broker_url:
        env.pop("MARKET_BROKER_URL", None)
    user = await make_user(["holder"])
    commands = [["serve", "--port", str(port)]] + ([["worker"]] if settings.broker_url else [])
    procs = [subprocess.Popen([sys.executable, "-m", "market.cli", *cmd], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for cmd in commands]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await http.get("/api/v1/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline and procs[0].poll() is None, "the server did not start"
                await asyncio.sleep(0.2)
            resp = await http.post("/api/v1/session", json={"email": user["email"], "password": user["password"]})
            csrf = resp.json()["csrf_token"]
            body = "区县,人口\n上城区,1000\n拱墅区,2000\n".encode()
            resp = await http.post("/api/v1/assets", files={"file": ("人口.csv", io.BytesIO(body), "text/csv")},
                                   headers={"X-CSRF-Token": csrf})
            assert resp.status_code == 201, resp.text
            asset_id = resp.json()["id"]
            deadline = time.monotonic() + 120
            while True:
                asset = (await http.get(f"/api/v1/assets/{asset_id}")).json()
                if asset["profile_status"] in ("failed", "done"):
                    break
                assert time.monotonic() < deadline, asset
                await asyncio.sleep(0.2)
            assert asset["profile_status"] == "failed" and asset["error_code"] == "profile.over_memory"
            assert (await http.get("/api/v1/health")).status_code == 200
            assert all(p.poll() is None for p in procs)  # no process went down with the job
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.communicate(timeout=30)
