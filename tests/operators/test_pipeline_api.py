"""The pipelines API and pages: the shapes other checks rely on, lineage through the API, refusals as
4xx {code, message} in either language, and every route refusing the wrong roles."""

from __future__ import annotations

import hashlib

from factories import login, make_user
from operators.tables import Pipeline, PipelineRun
from pipeline_factories import AGGREGATE_SQL, pipeline, run, world


async def _as(client, user) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def test_create_run_and_read_lineage_through_the_api(client, job_runtime):
    w = await world(job_runtime)
    h = await _as(client, w["operator"])
    body = {"agreement_id": w["agreement"]["id"], "title": "门诊人次月度统计",
            "sources": {"visits": w["visits"]["id"]}, "sql": AGGREGATE_SQL}
    resp = await client.post("/api/v1/pipelines", json=body, headers=h)
    assert resp.status_code == 201, resp.text
    pid = resp.json()["id"]
    got = (await client.get(f"/api/v1/pipelines/{pid}")).json()
    assert got["sql_sha256"] == hashlib.sha256(AGGREGATE_SQL.encode()).hexdigest()
    schema = got["source_schemas"][0]
    assert schema["asset_id"] == w["visits"]["id"] and {"name": "次数", "type": "BIGINT"} in schema["columns"]
    assert "rows" not in schema and "sample" not in str(got)  # schemas only: the raw data is never shown
    assert [p["id"] for p in (await client.get("/api/v1/pipelines")).json()["items"]] == [pid]
    resp = await client.post(f"/api/v1/pipelines/{pid}/runs", headers=h)
    assert resp.status_code == 202, resp.text
    run_id = resp.json()["id"]
    assert resp.json()["status"] == "queued"
    await job_runtime.drain(timeout=180)
    done = (await client.get(f"/api/v1/pipeline-runs/{run_id}")).json()
    assert done["status"] == "done" and done["error"] is None and done["asset_id"]
    lineage = await client.get(f"/api/v1/assets/{done['asset_id']}/lineage")
    assert lineage.status_code == 200, lineage.text
    data = lineage.json()
    assert data["sources"] == [{"name": "visits", "asset_id": w["visits"]["id"], "version": 1,
                                "holder_id": w["holder"]["org"]["id"]}]
    assert data["pipeline_sha256"] == got["sql_sha256"]
    # the holder of a source and the regulator see it too; an unrelated holder does not
    await _as(client, w["holder"])
    assert (await client.get(f"/api/v1/assets/{done['asset_id']}/lineage")).status_code == 200
    await _as(client, await make_user(["regulator"]))
    assert (await client.get(f"/api/v1/assets/{done['asset_id']}/lineage")).status_code == 200
    await _as(client, await make_user(["holder"]))
    resp = await client.get(f"/api/v1/assets/{done['asset_id']}/lineage")
    assert resp.status_code == 404 and resp.json()["code"] == "lineage.not_found"
    # the operator's pages show the pipeline, its runs and the lineage
    await _as(client, w["operator"])
    page = await client.get(f"/pipelines/{pid}")
    assert page.status_code == 200 and "数据血缘" in page.text and data["pipeline_sha256"] in page.text
    assert "门诊人次月度统计" in (await client.get("/pipelines")).text
    editor = await client.get("/pipelines/new")
    assert editor.status_code == 200 and "mask_id" in editor.text and "身份证号" in editor.text


async def test_refusals_are_4xx_with_a_code_and_a_message_in_either_language(client, job_runtime):
    w = await world(job_runtime)
    h = await _as(client, w["operator"])
    body = {"agreement_id": w["agreement"]["id"], "title": "x", "sources": {"visits": w["visits"]["id"]},
            "sql": "SELECT * FROM read_csv('/etc/passwd')"}
    resp = await client.post("/api/v1/pipelines", json=body, headers=h)
    assert resp.status_code == 422 and resp.json()["code"] == "pipeline.table_function"
    assert "表函数" in resp.json()["message"]
    client.cookies.set("lang", "en")
    resp = await client.post("/api/v1/pipelines", json=body, headers=h)
    assert resp.status_code == 422 and "table function" in resp.json()["message"]
    resp = await client.post("/api/v1/pipelines", json={**body, "sql": AGGREGATE_SQL, "sources": {"visits": 999999}},
                             headers=h)
    assert resp.status_code == 403 and resp.json()["code"] == "agreement.out_of_scope"
    resp = await client.post("/api/v1/pipelines", json={**body, "sql": AGGREGATE_SQL, "agreement_id": 2**31},
                             headers=h)
    assert resp.status_code == 400
    assert not await Pipeline.exists()


async def test_wrong_roles_are_refused_on_every_route(client, job_runtime):
    w = await world(job_runtime)
    p = await pipeline(w)
    done = await run(w, p["id"], job_runtime)
    pid, rid, asset = p["id"], done["id"], done["asset"]
    body = {"agreement_id": w["agreement"]["id"], "title": "x", "sources": {"visits": w["visits"]["id"]},
            "sql": AGGREGATE_SQL}
    routes = [
        ("post", "/api/v1/pipelines", body, {"operator"}),
        ("get", "/api/v1/pipelines", None, {"operator", "regulator", "admin"}),
        ("get", f"/api/v1/pipelines/{pid}", None, {"operator", "regulator", "admin"}),
        ("post", f"/api/v1/pipelines/{pid}/runs", {}, {"operator"}),
        ("get", f"/api/v1/pipeline-runs/{rid}", None, {"operator", "regulator", "admin"}),
        ("get", f"/api/v1/assets/{asset}/lineage", None, {"operator", "holder", "regulator", "admin"}),
        ("get", "/pipelines", None, {"operator", "regulator", "admin"}),
        ("get", "/pipelines/new", None, {"operator"}),
        ("post", "/pipelines", {}, {"operator"}),
        ("get", f"/pipelines/{pid}", None, {"operator", "regulator", "admin"}),
        ("post", f"/pipelines/{pid}/runs", {}, {"operator"}),
    ]
    for role in ("holder", "buyer", "agency", "operator", "regulator", "admin"):
        h = await _as(client, await make_user([role]))
        for method, url, payload, allowed in routes:
            if role in allowed:
                continue
            if url.startswith("/api/"):
                resp = await getattr(client, method)(url, **({"json": payload, "headers": h} if method == "post" else {}))
            else:
                resp = await getattr(client, method)(url, **({"data": {**payload, "_csrf": h["X-CSRF-Token"]}}
                                                            if method == "post" else {}))
            assert resp.status_code == 403, (role, method, url, resp.status_code)
    client.cookies.clear()
    for method, url, payload, _allowed in routes:
        if url.startswith("/api/"):
            resp = await getattr(client, method)(url, **({"json": payload} if method == "post" else {}))
            assert resp.status_code in (401, 403), (method, url)
    # an operator of another organization learns nothing and runs nothing
    h = await _as(client, await make_user(["operator"]))
    for url in (f"/api/v1/pipelines/{pid}", f"/api/v1/pipeline-runs/{rid}", f"/api/v1/assets/{asset}/lineage"):
        assert (await client.get(url)).status_code == 404, url
    assert (await client.post(f"/api/v1/pipelines/{pid}/runs", headers=h)).status_code == 404
    assert (await client.get("/api/v1/pipelines")).json()["items"] == []
    assert await PipelineRun.count() == 1
