"""The sandbox through the API: an entitlement's buyer runs aggregate SQL over the entitled version; every
escape is refused with a clear code and logged; results leave only as aggregates of at least k rows; a
daily budget; release at once or after the holder's review; the log for the holder and regulators."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from pathlib import Path

import pytest

from factories import login, make_listing, make_user
from listings import pricing
from listings.demo._health import _outpatient
from listings.demo.residents import generate_residents
from listings.sandbox import checks, service
from listings.tables import SandboxQuery
from market import runtime
from market.tables import AuditEvent
from order_steps import buy

ESCAPES = [
    ("SELECT * FROM read_csv('/etc/passwd')", "sandbox.table_not_allowed"),
    ("SELECT read_text('/etc/passwd') FROM data", "sandbox.function_not_allowed"),
    ("ATTACH '/tmp/other.duckdb' AS other", "sandbox.select_only"),
    ("COPY data TO '/tmp/leak.csv'", "sandbox.select_only"),
    ("INSTALL httpfs", "sandbox.select_only"),
    ("LOAD httpfs", "sandbox.select_only"),
    ("SET enable_external_access = true", "sandbox.select_only"),
    ("PRAGMA database_list", "sandbox.select_only"),
    ("SELECT getenv('HOME') FROM data", "sandbox.function_not_allowed"),
    ("SELECT count(*) FROM entitlement_2", "sandbox.table_not_allowed"),
    ("SELECT count(*) FROM information_schema.tables", "sandbox.table_not_allowed"),
    ("SELECT count(*) FROM duckdb_tables()", "sandbox.table_not_allowed"),
    ("SELECT current_setting('threads') FROM data", "sandbox.function_not_allowed"),
    ("SELECT 区县 FROM data", "sandbox.not_aggregate"),
    ("SELECT * FROM data", "sandbox.star"),
    ("SELECT count(*) FROM data a, data b", "sandbox.syntax_not_allowed"),
]


def _outpatient_csv(tmp_path: Path) -> bytes:
    path = tmp_path / "门诊服务情况.csv"
    _outpatient(path)
    return path.read_bytes()


def _residents_csv(tmp_path: Path, n: int = 300) -> bytes:
    path = tmp_path / "居民.csv"
    generate_residents(path, n)
    return path.read_bytes()


async def _sandbox(client, job_runtime, content: bytes, *, tier: str = "raw", title: str = "杭州市门诊服务情况",
                   sharing: str = "unconditional"):
    holder = await make_user(["holder"])
    plans = [pricing.PlanSpec(kind="free", name="免费")]
    data = await make_listing(holder, job_runtime, tier=tier, delivery="sandbox", content=content, title=title,
                              plans=plans, sharing=sharing)
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=data["listing"]["id"],
                      plan_id=data["plans"][0]["id"])
    return holder, buyer, data["listing"], order["entitlement_id"]


async def _as(client, user) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def _run(client, headers, entitlement_id, sql):
    return await client.post(f"/api/v1/sandbox/{entitlement_id}/queries", json={"sql": sql}, headers=headers)


async def test_escape_suite_refused_with_clear_codes_and_logged(client, job_runtime, tmp_path):
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    headers = await _as(client, buyer)
    for sql, code in ESCAPES:
        resp = await _run(client, headers, eid, sql)
        assert resp.status_code == 422, (sql, resp.text)
        body = resp.json()
        assert body["code"] == code, (sql, body)
        assert body["message"]
    log = await SandboxQuery.select().where(SandboxQuery.entitlement == eid).order_by(SandboxQuery.id)
    assert [(r["sql"], r["decision"], r["code"]) for r in log] == [(s, "refused", c) for s, c in ESCAPES]
    assert await AuditEvent.count().where(AuditEvent.action == "sandbox.query") == len(ESCAPES)
    # the holder and a regulator read the log; the buyer sees its own through the entitlement
    items = (await client.get(f"/api/v1/sandbox/{eid}/queries")).json()["items"]
    assert len(items) == len(ESCAPES) and all(i["status"] == "refused" for i in items)
    await _as(client, holder)
    held = (await client.get("/api/v1/sandbox/log")).json()["items"]
    assert {i["code"] for i in held} == {c for _s, c in ESCAPES}
    regulator = await make_user(["regulator"])
    await _as(client, regulator)
    assert len((await client.get("/api/v1/sandbox/log")).json()["items"]) == len(ESCAPES)
    page = await client.get("/my/sandbox")
    assert page.status_code == 200 and "read_csv" in page.text


async def test_aggregates_on_real_data_and_the_k_rule(client, job_runtime, tmp_path):
    content = _outpatient_csv(tmp_path)
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, content)
    expected = defaultdict(lambda: [0, 0])
    for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig"))):
        expected[row["区县"]][0] += 1
        expected[row["区县"]][1] += int(row["诊疗人次"])
    headers = await _as(client, buyer)
    resp = await _run(client, headers, eid,
                      "select 区县, count(*) as 月数, sum(诊疗人次) as 合计 from data group by 区县 order by 区县")
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["status"] == "answered" and body["columns"] == ["区县", "月数", "合计"]
    assert {r[0]: [r[1], r[2]] for r in body["rows"]} == {k: v for k, v in expected.items()}
    assert body["suppressed"] == 0 and body["release"] == "released"
    # one row per district and month: every group stands for one source row, so every one is suppressed
    resp = await _run(client, headers, eid, "SELECT 年月, 区县, sum(住院人次) FROM data GROUP BY 1, 2")
    assert resp.status_code == 201 and resp.json()["rows"] == [], resp.text
    assert resp.json()["suppressed"] == len(content.decode("utf-8-sig").strip().splitlines()) - 1
    # a filter isolating one row, and one leaving out a single row, are refused
    for sql, code in (("SELECT count(*) FROM data WHERE 年月 = '2019-01' AND 区县 = '上城区'", "sandbox.filter_too_narrow"),
                      ("SELECT sum(诊疗人次) FROM data WHERE NOT (年月 = '2019-01' AND 区县 = '上城区')",
                       "sandbox.filter_excludes_few")):
        resp = await _run(client, headers, eid, sql)
        assert (resp.status_code, resp.json()["code"]) == (422, code), resp.text
    # the CSV download of a released result holds the rows shown
    first = (await client.get(f"/api/v1/sandbox/{eid}/queries")).json()["items"][-1]
    got = await client.get(f"/api/v1/sandbox/queries/{first['id']}/result.csv")
    assert got.status_code == 200
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0] == ["区县", "月数", "合计"] and len(rows) == len(expected) + 1


async def test_personal_columns_never_leave(client, job_runtime, tmp_path):
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _residents_csv(tmp_path), tier="product",
                                                 title="居民参保样本", sharing="conditional")
    headers = await _as(client, buyer)
    overview = (await client.get(f"/api/v1/sandbox/{eid}")).json()
    personal = {c["name"] for c in overview["columns"] if c["personal"]}
    assert {"姓名", "身份证号", "手机号"} <= personal
    for sql in ("SELECT 身份证号, count(*) FROM data GROUP BY 身份证号", "SELECT max(手机号) FROM data",
                "SELECT 参保状态, min(姓名) FROM data GROUP BY 参保状态", "SELECT count(*) FROM data GROUP BY 姓名",
                "SELECT substr(身份证号, 1, 6) AS 地区, count(*) FROM data GROUP BY 地区"):
        resp = await _run(client, headers, eid, sql)
        assert (resp.status_code, resp.json()["code"]) == (422, "sandbox.personal_column"), (sql, resp.text)
    one = (await client.get(f"/api/v1/sandbox/{eid}/queries")).json()  # noqa: F841 (log readable meanwhile)
    rid = csv.DictReader(io.StringIO(_residents_csv(tmp_path).decode())).__next__()["身份证号"]
    resp = await _run(client, headers, eid, f"SELECT count(*) FROM data WHERE 身份证号 = '{rid}'")
    assert (resp.status_code, resp.json()["code"]) == (422, "sandbox.filter_too_narrow")
    resp = await _run(client, headers, eid, "SELECT 参保状态, count(DISTINCT 身份证号) AS 人数 FROM data GROUP BY 参保状态")
    assert resp.status_code == 201 and all(r[1] >= 10 for r in resp.json()["rows"])


async def test_budget_per_day_and_near_duplicates(client, job_runtime, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_settings", dataclasses.replace(runtime.settings(), sandbox_daily_queries=3))
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    headers = await _as(client, buyer)
    for year in (2019, 2020, 2021):
        resp = await _run(client, headers, eid, f"SELECT count(*) FROM data WHERE 年月 >= '{year}-01'")
        assert resp.status_code == 201, resp.text
    items = (await client.get(f"/api/v1/sandbox/{eid}/queries")).json()["items"]
    assert [i["near_duplicate"] for i in reversed(items)] == [False, True, True]
    resp = await _run(client, headers, eid, "SELECT count(*) FROM data")
    assert (resp.status_code, resp.json()["code"]) == (422, "sandbox.budget_exhausted")
    assert (await client.get(f"/api/v1/sandbox/{eid}")).json()["budget"] == {"limit": 3, "used": 3, "left": 0}


async def test_release_with_and_without_review(client, job_runtime, tmp_path):
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    sql = "SELECT 区县, avg(住院人次) FROM data GROUP BY 区县"
    headers = await _as(client, holder)
    resp = await client.put(f"/api/v1/sandbox/listings/{listing['id']}/policy", json={"review_required": True},
                            headers=headers)
    assert resp.json() == {"listing_id": listing["id"], "review_required": True}
    headers = await _as(client, buyer)
    first = (await _run(client, headers, eid, sql)).json()
    second = (await _run(client, headers, eid, sql + " ORDER BY 1")).json()
    assert first["release"] == second["release"] == "pending"
    resp = await client.get(f"/api/v1/sandbox/queries/{first['id']}/result.csv")
    assert (resp.status_code, resp.json()["code"]) == (403, "sandbox.not_released")
    headers = await _as(client, holder)
    assert [i["id"] for i in (await client.get("/api/v1/sandbox/log?release=pending")).json()["items"]] == \
        [second["id"], first["id"]]
    ok = await client.post(f"/api/v1/sandbox/queries/{first['id']}/approve", json={"note": "可以"}, headers=headers)
    assert ok.json()["release"] == "released"
    no_note = await client.post(f"/api/v1/sandbox/queries/{second['id']}/reject", json={}, headers=headers)
    assert no_note.status_code == 400
    no = await client.post(f"/api/v1/sandbox/queries/{second['id']}/reject", json={"note": "分组过细"}, headers=headers)
    assert (no.json()["release"], no.json()["review_note"]) == ("rejected", "分组过细")
    again = await client.post(f"/api/v1/sandbox/queries/{first['id']}/reject", json={"note": "改主意"}, headers=headers)
    assert again.status_code == 409  # a released result stays released
    await _as(client, buyer)
    assert (await client.get(f"/api/v1/sandbox/queries/{first['id']}/result.csv")).status_code == 200
    assert (await client.get(f"/api/v1/sandbox/queries/{second['id']}/result.csv")).status_code == 403
    # without review (the policy switched off): released at once
    headers = await _as(client, holder)
    await client.put(f"/api/v1/sandbox/listings/{listing['id']}/policy", json={"review_required": False},
                     headers=headers)
    headers = await _as(client, buyer)
    third = (await _run(client, headers, eid, sql)).json()
    assert third["release"] == "released"
    assert (await client.get(f"/my/sandbox/queries/{third['id']}/result.csv")).status_code == 200


async def test_wrong_roles_are_refused_on_every_route(client, job_runtime, tmp_path):
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    headers = await _as(client, buyer)
    qid = (await _run(client, headers, eid, "SELECT count(*) FROM data")).json()["id"]
    # the buyer may not review, set the policy or read the holder's log
    assert (await client.post(f"/api/v1/sandbox/queries/{qid}/approve", json={}, headers=headers)).status_code == 403
    assert (await client.put(f"/api/v1/sandbox/listings/{listing['id']}/policy", json={"review_required": True},
                             headers=headers)).status_code == 403
    assert (await client.get("/api/v1/sandbox/log")).status_code == 403
    assert (await client.get("/my/sandbox")).status_code == 403
    # another buyer sees nothing of it
    other = await make_user(["buyer"])
    headers = await _as(client, other)
    assert (await _run(client, headers, eid, "SELECT count(*) FROM data")).status_code == 404
    assert (await client.get(f"/api/v1/sandbox/{eid}")).status_code == 404
    assert (await client.get(f"/api/v1/sandbox/queries/{qid}")).status_code == 404
    assert (await client.get(f"/api/v1/sandbox/queries/{qid}/result.csv")).status_code == 404
    assert (await client.get(f"/my/entitlements/{eid}/sandbox")).status_code == 404
    # a regulator reads but runs nothing; the holder reviews but neither runs nor downloads
    regulator = await make_user(["regulator"])
    headers = await _as(client, regulator)
    assert (await _run(client, headers, eid, "SELECT count(*) FROM data")).status_code == 403
    assert (await client.get(f"/api/v1/sandbox/queries/{qid}")).status_code == 200
    assert (await client.get(f"/api/v1/sandbox/queries/{qid}/result.csv")).status_code == 403
    headers = await _as(client, holder)
    assert (await _run(client, headers, eid, "SELECT count(*) FROM data")).status_code == 404
    assert (await client.get(f"/api/v1/sandbox/queries/{qid}/result.csv")).status_code == 404
    other_holder = await make_user(["holder"])
    headers = await _as(client, other_holder)
    assert (await client.post(f"/api/v1/sandbox/queries/{qid}/approve", json={}, headers=headers)).status_code == 404
    assert (await client.put(f"/api/v1/sandbox/listings/{listing['id']}/policy", json={"review_required": True},
                             headers=headers)).status_code == 404
    client.cookies.clear()
    assert (await _run(client, {}, eid, "SELECT count(*) FROM data")).status_code in (401, 403)  # CSRF first
    assert (await client.get("/api/v1/sandbox/log")).status_code == 401


async def test_a_query_past_its_time_limit_is_stopped_and_logged(client, job_runtime, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "_settings", dataclasses.replace(runtime.settings(), sandbox_seconds=0.3))
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    heavy = "SELECT count(*) AS __sandbox_k FROM data a, data b, data c, data d"
    real_check = checks.check

    def lenient(sql, **kw):  # as if the checks let a heavy cross join through: the engine's timer still stops it
        plan = real_check("SELECT count(*) FROM data", **kw)
        return dataclasses.replace(plan, sql=heavy)

    monkeypatch.setattr(checks, "check", lenient)
    headers = await _as(client, buyer)
    resp = await _run(client, headers, eid, "SELECT count(*) FROM data -- heavy")
    assert (resp.status_code, resp.json()["code"]) == (422, "sandbox.timeout"), resp.text
    row = await SandboxQuery.select().where(SandboxQuery.entitlement == eid).first()
    assert row["code"] == "sandbox.timeout" and row["duration_ms"] < 5000
    monkeypatch.setattr(checks, "check", real_check)
    assert (await _run(client, headers, eid, "SELECT count(*) FROM data")).status_code == 201  # the server lives on


async def test_pages_buyer_editor_and_holder_log(client, job_runtime, tmp_path):
    holder, buyer, listing, eid = await _sandbox(client, job_runtime, _outpatient_csv(tmp_path))
    headers = await _as(client, buyer)
    page = await client.get(f"/my/entitlements/{eid}")
    assert 'data-testid="sandbox-form"' in page.text
    page = await client.get(f"/my/entitlements/{eid}/sandbox")
    assert page.status_code == 200 and "诊疗人次" in page.text and 'data-testid="sandbox-budget"' in page.text
    page = await client.post(f"/my/entitlements/{eid}/sandbox", data={"sql": "SELECT 区县, count(*) FROM data GROUP BY 区县",
                                                                       "_csrf": headers["X-CSRF-Token"]})
    assert page.status_code == 200 and 'data-testid="sandbox-result"' in page.text and "上城区" in page.text
    assert 'data-testid="sandbox-download"' in page.text
    page = await client.post(f"/my/entitlements/{eid}/sandbox", data={"sql": "SELECT getenv('HOME') FROM data",
                                                                       "_csrf": headers["X-CSRF-Token"]})
    assert 'data-testid="sandbox-error"' in page.text and "sandbox.function_not_allowed" in page.text
    await _as(client, holder)
    page = await client.get("/my/sandbox")
    assert page.status_code == 200 and "getenv" in page.text and listing["title"] in page.text
