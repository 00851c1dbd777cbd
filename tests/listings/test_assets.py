"""Upload → profile job → asset API, end to end on the real files of ../shared/realdata."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from factories import login, make_user
from market.tables import AuditEvent

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"


async def _upload(client, csrf, path: Path | None = None, *, name: str | None = None, content: bytes | None = None,
                  asset_id: int | None = None):
    body = content if content is not None else path.read_bytes()
    url = "/api/v1/assets" if asset_id is None else f"/api/v1/assets/{asset_id}/versions"
    return await client.post(url, files={"file": (name or path.name, io.BytesIO(body), "application/octet-stream")},
                             headers={"X-CSRF-Token": csrf})


async def _profiled(client, job_runtime, asset_id: int) -> dict:
    await job_runtime.drain(timeout=120)
    resp = await client.get(f"/api/v1/assets/{asset_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


def _rows(path: Path) -> list[dict]:
    import csv

    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _col(asset: dict, name: str) -> dict:
    for col in asset["columns"]:
        if col["name"] == name:
            return col
    raise AssertionError(f"no column {name!r} in {[c['name'] for c in asset['columns']]}")


@pytest.fixture
async def holder_client(client):
    holder = await make_user(["holder"])
    csrf = await login(client, holder)
    client.csrf = csrf
    return client


async def test_cnemc_gbk_sites(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "cnemc_national_monitoring_sites.csv")
    assert resp.status_code == 201, resp.text
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "done", asset.get("error")
    assert asset["encoding"] in ("gbk", "gb18030") and asset["header_row"] == 0 and asset["row_count"] == 2026
    assert [c["name"] for c in asset["columns"]][:3] == ["监测点编码", "监测点名称", "城市"]
    assert _col(asset, "经度")["semantic_type"] == "longitude" and _col(asset, "经度")["type"] == "decimal"
    assert _col(asset, "纬度")["semantic_type"] == "latitude"
    assert _col(asset, "经度")["null_count"] == 10
    assert _col(asset, "对照点")["type"] == "boolean"
    assert asset["quality"]["score"] > 0 and asset["grade"] == "general" and asset["personal"] is False


async def test_covid_region_codes(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "covid19_nhc_daily_by_region_2020-02-05.csv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "done"
    assert asset["encoding"] == "utf-8" and asset["row_count"] == 431 and len(asset["columns"]) == 11
    assert _col(asset, "provinceCode")["semantic_type"] == "region_code"
    assert _col(asset, "cityCode")["semantic_type"] == "region_code"
    assert _col(asset, "confirmed")["type"] == "integer"


async def test_gb2260_tsv(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "gb2260_mca_201904.tsv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["delimiter"] == "\t" and asset["row_count"] == 3219
    assert [c["name"] for c in asset["columns"]] == ["Source", "Revision", "Code", "Name"]
    code = _col(asset, "Code")
    assert code["semantic_type"] == "region_code" and code["validity"] >= 0.95


async def test_headerless_bus_stops(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "hangzhou_bus_stops_hzbus.csv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["delimiter"] == ";" and asset["header_row"] is None and asset["row_count"] == 5589
    assert len(asset["columns"]) == 7
    semantic = [c["semantic_type"] for c in asset["columns"]]
    assert semantic[2] == "longitude" and semantic[3] == "latitude"


@pytest.mark.parametrize("name", ["nbs_health_outpatient_services_1978-2014.csv", "nbs_gdp_1978-2014.csv"])
async def test_nbs_year_tables(holder_client, job_runtime, name):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / name)
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["row_count"] == 37 and asset["header_row"] == 0
    first = asset["columns"][0]
    assert first["name"] == "年份" and first["semantic_type"] == "year"
    assert all(c["type"] == "decimal" or c["type"] == "integer" for c in asset["columns"][1:]), asset["columns"]
    if "outpatient" in name:
        assert sum(c["null_count"] for c in asset["columns"][1:]) == 225
        assert any(r["code"] == "quality.nulls" for r in asset["quality"]["reasons"])


async def test_moe_legacy_xls(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "moe_higher_education_institutions_list.xls")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "done", asset.get("error")
    assert asset["format"] == "xls" and asset["header_row"] == 2
    names = [c["name"] for c in asset["columns"]]
    assert names[:7] == ["序号", "学校名称", "学校标识码", "主管部门", "所在地", "办学层次", "备注"]
    code = _col(asset, "学校标识码")
    assert code["type"] == "text" and code["min"].isdigit() and len(code["min"]) == 10


async def test_id_vectors_file(holder_client, job_runtime):
    resp = await _upload(holder_client, holder_client.csrf, REALDATA / "cn_id_checkdigit_test_vectors.csv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "done" and asset["row_count"] == 218 and len(asset["columns"]) == 5


async def test_residents_flagged_personal_and_masked(holder_client, job_runtime, tmp_path):
    from listings.demo.residents import generate_residents

    path = tmp_path / "residents.csv"
    generate_residents(path, 500)
    resp = await _upload(holder_client, holder_client.csrf, path, name="社区居民名册.csv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["personal"] is True and asset["grade"] in ("important", "core")
    ident = _col(asset, "身份证号")
    assert ident["semantic_type"] == "resident_id" and ident["personal"] and ident["validity"] == 1.0
    assert _col(asset, "手机号")["semantic_type"] == "mobile"
    assert _col(asset, "姓名")["semantic_type"] == "person_name"
    assert any("身份证号" in r["text"] for r in asset["classification"]["reasons"])
    page = await holder_client.get(f"/my/data/{asset['id']}")
    # personal columns are masked: no ID number from the file appears on the page
    raw_ids = [row["身份证号"] for row in _rows(path)[:50]]
    assert not any(i in page.text for i in raw_ids)


async def test_unreadable_file_fails_with_a_clear_message(holder_client, job_runtime, settings):
    resp = await _upload(holder_client, holder_client.csrf, content=b"\x00\x01\x02garbage" * 100, name="坏文件.csv")
    assert resp.status_code == 201
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "failed" and asset["error_code"].startswith("read.")
    assert asset["error"] and asset["columns"] == []
    from listings.tables import AssetVersion
    from market import runtime

    version = await AssetVersion.select().where(AssetVersion.id == asset["version_id"]).first()
    assert not runtime.storage().exists(version["object_key"])  # the unreadable upload is not kept


async def test_upload_refusals_change_nothing(holder_client):
    before = await AuditEvent.count()
    resp = await _upload(holder_client, holder_client.csrf, content=b"", name="empty.csv")
    assert resp.status_code == 400 and resp.json()["code"] == "upload.empty"
    resp = await _upload(holder_client, holder_client.csrf, content=b"MZ\x90\x00", name="virus.exe")
    assert resp.status_code == 400 and resp.json()["code"] == "upload.unsupported_type"
    assert await AuditEvent.count() == before


async def test_new_version_has_schema_diff_and_buyers_cannot_upload(client, job_runtime):
    holder = await make_user(["holder"])
    csrf = await login(client, holder)
    v1 = "区划代码,名称,人口\n330102,上城区,1000\n330105,拱墅区,2000\n".encode()
    v2 = "区划代码,名称,人口,面积\n330102,上城区,1000,26.1\n330105,拱墅区,2000,69.2\n".encode()
    resp = await _upload(client, csrf, content=v1, name="区县人口.csv")
    asset_id = resp.json()["id"]
    await job_runtime.drain(timeout=120)
    resp = await _upload(client, csrf, content=v2, name="区县人口.csv", asset_id=asset_id)
    assert resp.json()["version"] == 2
    asset = await _profiled(client, job_runtime, asset_id)
    assert asset["version"] == 2 and len(asset["versions"]) == 2
    assert asset["schema_diff"]["added"] == ["面积"] and asset["schema_diff"]["compatible"] is True
    client.cookies.clear()
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await _upload(client, csrf, content=v1, name="x.csv")
    assert resp.status_code == 403
    assert (await client.get(f"/api/v1/assets/{asset_id}")).status_code == 403


async def test_grade_correction_needs_reason_and_is_audited(holder_client, job_runtime):
    content = "年份,数量\n2020,1\n2021,2\n".encode()
    asset_id = (await _upload(holder_client, holder_client.csrf, content=content, name="统计.csv")).json()["id"]
    await _profiled(holder_client, job_runtime, asset_id)
    resp = await holder_client.post(f"/api/v1/assets/{asset_id}/grade", json={"grade": "important", "reason": ""},
                                    headers={"X-CSRF-Token": holder_client.csrf})
    assert resp.status_code == 400 and resp.json()["code"] == "asset.grade_reason_required"
    resp = await holder_client.post(f"/api/v1/assets/{asset_id}/grade",
                                    json={"grade": "important", "reason": "涉及未公开的统计口径"},
                                    headers={"X-CSRF-Token": holder_client.csrf})
    assert resp.status_code == 200 and resp.json()["grade"] == "important" and resp.json()["grade_source"] == "holder"
    event = await AuditEvent.select().where(AuditEvent.action == "asset.grade_corrected").first()
    assert "涉及未公开的统计口径" in event["after"]


async def test_other_holder_cannot_see_asset(client, job_runtime):
    owner = await make_user(["holder"])
    csrf = await login(client, owner)
    asset_id = (await _upload(client, csrf, content="a,b\n1,2\n".encode(), name="t.csv")).json()["id"]
    client.cookies.clear()
    other = await make_user(["holder"])
    await login(client, other)
    assert (await client.get(f"/api/v1/assets/{asset_id}")).status_code == 404
    client.cookies.clear()
    regulator = await make_user(["regulator"])
    await login(client, regulator)
    assert (await client.get(f"/api/v1/assets/{asset_id}")).status_code == 200


async def test_api_masks_personal_values(holder_client, job_runtime, tmp_path):
    from listings.demo.residents import generate_residents

    path = tmp_path / "residents.csv"
    generate_residents(path, 300)
    asset_id = (await _upload(holder_client, holder_client.csrf, path, name="居民.csv")).json()["id"]
    await job_runtime.drain(timeout=120)
    body = (await holder_client.get(f"/api/v1/assets/{asset_id}")).text
    rows = _rows(path)
    ids = [r["身份证号"] for r in rows if r["身份证号"]]
    phones = [r["手机号"] for r in rows if r["手机号"]]
    assert not any(i in body for i in ids) and not any(p in body for p in phones)
