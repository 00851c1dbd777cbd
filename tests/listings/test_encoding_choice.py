"""Upload → profiling job → the holder is asked for the encoding → chooses → the job profiles with it."""

from __future__ import annotations

import io

import pytest

from factories import login, make_user
from listings.tables import AssetVersion
from market.tables import AuditEvent
from test_encoding import big5_libraries

# a tiny table whose GBK bytes read as Big5 also give everyday characters: no way to know without a person
AMBIGUOUS = "地方,基本,数量\n计划,方法,12\n基地,办法,7\n"


async def _upload(client, csrf, content: bytes, name: str = "表.csv"):
    resp = await client.post("/api/v1/assets", files={"file": (name, io.BytesIO(content), "text/csv")},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201, resp.text
    return resp.json()["id"]


async def _asset(client, job_runtime, asset_id: int) -> dict:
    await job_runtime.drain(timeout=120)
    resp = await client.get(f"/api/v1/assets/{asset_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()


async def _events(action: str) -> int:
    return await AuditEvent.count().where(AuditEvent.action == action)


@pytest.fixture
async def holder(client):
    user = await make_user(["holder"])
    client.csrf = await login(client, user)
    return user


async def test_big5_upload_is_profiled_as_big5(client, holder, job_runtime):
    asset = await _asset(client, job_runtime, await _upload(client, client.csrf, big5_libraries(200).encode("big5")))
    assert asset["profile_status"] == "done", asset.get("error")
    assert asset["encoding"] == "big5" and asset["row_count"] == 200
    assert [c["name"] for c in asset["columns"]] == ["名稱", "縣市", "地址", "電話", "藏書量"]
    city = next(c for c in asset["columns"] if c["name"] == "縣市")
    assert all(value.endswith(("市", "縣")) for value, _ in city["top_values"])
    assert "encoding_choice" not in asset["reading"]  # detected, nobody was asked


async def test_uncertain_encoding_asks_the_holder_who_chooses_and_profiling_continues(client, holder, job_runtime):
    asset_id = await _upload(client, client.csrf, AMBIGUOUS.encode("gbk"))
    asset = await _asset(client, job_runtime, asset_id)
    assert asset["profile_status"] == "encoding" and asset["columns"] == []
    candidates = {c["encoding"]: c["rows"] for c in asset["reading"]["encoding_candidates"]}
    assert set(candidates) == {"gbk", "big5"}
    assert candidates["gbk"][0] == ["地方", "基本", "数量"]
    assert await _events("asset.encoding_asked") == 1

    page = await client.get(f"/my/data/{asset_id}")
    assert page.status_code == 200 and "请确认文件编码" in page.text
    assert 'data-encoding="gbk"' in page.text and 'data-encoding="big5"' in page.text
    assert "地方" in page.text and "華源" in page.text  # the first rows under each candidate, side by side

    resp = await client.post(f"/api/v1/assets/{asset_id}/encoding", json={"encoding": "gbk"},
                             headers={"X-CSRF-Token": client.csrf})
    assert resp.status_code == 200, resp.text
    assert resp.json()["profile_status"] == "pending"
    assert await _events("asset.encoding_chosen") == 1
    asset = await _asset(client, job_runtime, asset_id)
    assert asset["profile_status"] == "done", asset.get("error")
    assert asset["encoding"] == "gbk" and asset["reading"]["encoding_choice"] == "gbk"
    assert [c["name"] for c in asset["columns"]] == ["地方", "基本", "数量"] and asset["row_count"] == 2
    assert next(c for c in asset["columns"] if c["name"] == "数量")["type"] == "integer"


async def test_the_form_on_the_asset_page_chooses(client, holder, job_runtime):
    asset_id = await _upload(client, client.csrf, AMBIGUOUS.encode("gbk"))
    await _asset(client, job_runtime, asset_id)
    resp = await client.post(f"/my/data/{asset_id}/encoding", data={"encoding": "big5", "_csrf": client.csrf},
                             follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"] == f"/my/data/{asset_id}"
    asset = await _asset(client, job_runtime, asset_id)
    assert asset["profile_status"] == "done" and asset["encoding"] == "big5"  # the holder's word, even if odd
    assert asset["columns"][0]["name"] == "華源"


async def test_bad_choices_are_refused_and_change_nothing(client, holder, job_runtime):
    asset_id = await _upload(client, client.csrf, AMBIGUOUS.encode("gbk"))
    await _asset(client, job_runtime, asset_id)
    before = (await AuditEvent.count(), await AssetVersion.select().where(AssetVersion.asset == asset_id).first())
    for body in ({"encoding": "latin-1"}, {"encoding": ""}, {"encoding": "utf-8"}):
        resp = await client.post(f"/api/v1/assets/{asset_id}/encoding", json=body,
                                 headers={"X-CSRF-Token": client.csrf})
        assert resp.status_code == 400 and resp.json()["code"] == "asset.encoding_invalid", resp.text
        assert "gbk" in resp.json()["message"] and "big5" in resp.json()["message"]
    # a version the asset does not have is not found; one outside the id range is refused at the edge
    for number, status, code in ((9, 404, "asset.version_not_found"), (0, 400, "request.invalid"),
                                 (-1, 400, "request.invalid"), (2**63 - 1, 400, "request.invalid")):
        resp = await client.post(f"/api/v1/assets/{asset_id}/encoding", json={"encoding": "gbk", "version": number},
                                 headers={"X-CSRF-Token": client.csrf})
        assert resp.status_code == status and resp.json()["code"] == code, resp.text
    page = await client.post(f"/my/data/{asset_id}/encoding", data={"encoding": "ebcdic", "_csrf": client.csrf})
    assert page.status_code == 400 and "请从列出的编码中选择一种" in page.text and "请确认文件编码" in page.text
    after = (await AuditEvent.count(), await AssetVersion.select().where(AssetVersion.asset == asset_id).first())
    assert after == before

    await client.post(f"/api/v1/assets/{asset_id}/encoding", json={"encoding": "gbk"},
                      headers={"X-CSRF-Token": client.csrf})
    await _asset(client, job_runtime, asset_id)
    resp = await client.post(f"/api/v1/assets/{asset_id}/encoding", json={"encoding": "big5"},
                             headers={"X-CSRF-Token": client.csrf})
    assert resp.status_code == 409 and resp.json()["code"] == "asset.encoding_not_asked"


@pytest.mark.parametrize("role,status,code", [("buyer", 403, "auth.forbidden"), ("admin", 403, "auth.forbidden"),
                                              ("regulator", 403, "auth.forbidden"),
                                              ("holder", 403, "asset.not_yours")])
async def test_only_the_holder_of_the_asset_chooses(client, holder, job_runtime, role, status, code):
    asset_id = await _upload(client, client.csrf, AMBIGUOUS.encode("gbk"))
    await _asset(client, job_runtime, asset_id)
    client.cookies.clear()
    csrf = await login(client, await make_user([role]))  # another organization
    before = await AuditEvent.count()
    resp = await client.post(f"/api/v1/assets/{asset_id}/encoding", json={"encoding": "gbk"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == status and resp.json()["code"] == code, resp.text
    resp = await client.post(f"/my/data/{asset_id}/encoding", data={"encoding": "gbk", "_csrf": csrf},
                             follow_redirects=False)
    assert resp.status_code == status
    version = await AssetVersion.select().where(AssetVersion.asset == asset_id).first()
    assert version["profile_status"] == "encoding" and await AuditEvent.count() == before


async def test_a_redelivered_job_leaves_the_question_alone(client, holder, job_runtime):
    from listings import service
    from market import runtime

    asset_id = await _upload(client, client.csrf, AMBIGUOUS.encode("gbk"))
    await _asset(client, job_runtime, asset_id)
    version = await AssetVersion.select().where(AssetVersion.asset == asset_id).first()
    import asyncio

    await asyncio.to_thread(service.run_profile, version["id"], runtime.storage())
    again = await AssetVersion.select().where(AssetVersion.id == version["id"]).first()
    assert again == version
