"""Verification (核验): the holder declares which columns are asked and what is answered; the buyer's key
gets {"match"} or {"match", "answer"} and never the row; metered like the API, capped per day, and the
holder is told once when the misses look like enumeration. Wrong roles and keys are refused."""

from __future__ import annotations

from data_api_steps import api_entitlement, bearer, key_for
from factories import login, make_user
from listings import pricing
from listings.dataapi import service as dataapi
from listings.dataapi.tables import ApiCall, ApiMeter, UsageAlert
from market.tables import Notification

PEOPLE = ("统一社会信用代码,企业名称,参保状态,参保人数\n"
          "91330100MA27X0011A,杭州甲科技有限公司,正常参保,35\n"
          "91330100MA27X0022B,杭州乙贸易有限公司,暂停参保,0\n"
          "91330100MA27X0033C,杭州丙餐饮有限公司,正常参保,12\n").encode()
PACK = pricing.PlanSpec(kind="call_pack", name="核验次数包", price_fen=1_000, calls=200)


async def _verification(client, job_runtime, *, answer: str = "参保状态", cap: int = 1000):
    holder, buyer, listing, eid = await api_entitlement(client, job_runtime, plan=PACK, content=PEOPLE,
                                                        delivery="verification")
    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.put(f"/api/v1/listings/{listing['id']}/verification-rule", headers={"X-CSRF-Token": csrf},
                            json={"ask_columns": ["统一社会信用代码", "企业名称"], "answer_column": answer,
                                  "daily_cap": cap})
    assert resp.status_code == 200, resp.text
    client.cookies.clear()
    return holder, buyer, listing, eid, await key_for(client, buyer, eid)


async def test_answers_are_right_and_reveal_nothing_else(client, job_runtime):
    _holder, _buyer, _listing, eid, secret = await _verification(client, job_runtime)
    url = f"/api/v1/verify/{eid}"
    ask = {"统一社会信用代码": "91330100MA27X0022B", "企业名称": "杭州乙贸易有限公司"}
    resp = await client.post(url, headers=bearer(secret), json={"values": ask})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"match": True, "answer": "暂停参保"}  # the declared answer, nothing of the row
    assert resp.headers["X-Quota-Limit"] == "200" and resp.headers["X-Quota-Remaining"] == "199"
    resp = await client.post(url, headers=bearer(secret), json={"values": {**ask, "企业名称": "杭州丙餐饮有限公司"}})
    assert resp.json() == {"match": False, "answer": None}  # a right code with another name does not match
    resp = await client.post(url, headers=bearer(secret), json={"values": {**ask, "统一社会信用代码": " 91330100MA27X0011A ",
                                                                              "企业名称": "杭州甲科技有限公司"}})
    assert resp.json() == {"match": True, "answer": "正常参保"}
    # the request must carry exactly the declared columns: not fewer, not others
    for values in ({"统一社会信用代码": "91330100MA27X0011A"}, {**ask, "参保人数": "35"}, {"参保状态": "正常参保"}):
        resp = await client.post(url, headers=bearer(secret), json={"values": values})
        assert resp.status_code == 400 and resp.json()["code"] == "verify.values_invalid"
    meter = await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first()
    assert meter["used"] == 3
    calls = await ApiCall.select(ApiCall.matched, ApiCall.query).where(ApiCall.entitlement == eid).order_by(ApiCall.id)
    assert [c["matched"] for c in calls] == [True, False, True]
    assert all("91330100" not in c["query"] for c in calls)  # the trace keeps the columns asked, not the values
    # the rows API does not serve a verification listing, even with its key
    assert (await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))).status_code == 409


async def test_match_only_rule(client, job_runtime):
    _holder, _buyer, _listing, eid, secret = await _verification(client, job_runtime, answer="")
    resp = await client.post(f"/api/v1/verify/{eid}", headers=bearer(secret),
                             json={"values": {"统一社会信用代码": "91330100MA27X0033C", "企业名称": "杭州丙餐饮有限公司"}})
    assert resp.json() == {"match": True}


async def test_daily_cap_and_the_enumeration_alert(client, job_runtime, monkeypatch):
    holder, _buyer, _listing, eid, secret = await _verification(client, job_runtime, cap=60)
    monkeypatch.setattr(dataapi, "ALERT_MIN_CALLS", 20)
    for i in range(60):
        resp = await client.post(f"/api/v1/verify/{eid}", headers=bearer(secret),
                                 json={"values": {"统一社会信用代码": f"9133010000000{i:05d}", "企业名称": "猜测"}})
        assert resp.status_code == 200 and resp.json()["match"] is False
    resp = await client.post(f"/api/v1/verify/{eid}", headers=bearer(secret),
                             json={"values": {"统一社会信用代码": "91330100MA27X0011A", "企业名称": "杭州甲科技有限公司"}})
    assert resp.status_code == 429 and resp.json()["code"] == "verify.daily_cap" and int(resp.headers["Retry-After"]) > 0
    assert (await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first())["used"] == 60
    assert await UsageAlert.count().where(UsageAlert.entitlement == eid) == 1  # once a day, not every 10 calls
    assert await Notification.count().where((Notification.kind == "verify.unusual")
                                            & (Notification.organization == holder["org"]["id"])) == 1


async def test_rule_is_the_holders_and_keys_are_refused_elsewhere(client, job_runtime):
    holder, buyer, listing, eid, secret = await _verification(client, job_runtime)
    body = {"ask_columns": ["企业名称"], "answer_column": ""}
    for user, status in ((buyer, 403), (await make_user(["holder"]), 404), (await make_user(["regulator"]), 403)):
        client.cookies.clear()
        csrf = await login(client, user)
        resp = await client.put(f"/api/v1/listings/{listing['id']}/verification-rule", json=body,
                                headers={"X-CSRF-Token": csrf})
        assert resp.status_code == status, (user["email"], resp.text)
    client.cookies.clear()
    csrf = await login(client, holder)
    for bad in ({"ask_columns": []}, {"ask_columns": ["没有这列"]},
                {"ask_columns": ["企业名称"], "answer_column": "企业名称"}):
        resp = await client.put(f"/api/v1/listings/{listing['id']}/verification-rule", json=bad,
                                headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 400, resp.text
    form = await client.get(f"/listings/{listing['id']}/verification-rule")
    assert form.status_code == 200 and "统一社会信用代码" in form.text
    # verification with no key, a session, or another entitlement's key
    client.cookies.clear()
    values = {"values": {"统一社会信用代码": "x", "企业名称": "y"}}
    assert (await client.post(f"/api/v1/verify/{eid}", json=values)).status_code == 401
    csrf = await login(client, buyer)
    assert (await client.post(f"/api/v1/verify/{eid}", json=values, headers={"X-CSRF-Token": csrf})).status_code == 403
    client.cookies.clear()
    _h, buyer2, _l, eid2 = await api_entitlement(client, job_runtime)
    other = await key_for(client, buyer2, eid2)
    assert (await client.post(f"/api/v1/verify/{eid}", json=values, headers=bearer(other))).status_code == 403
    assert (await client.post(f"/api/v1/verify/{eid}", json=values, headers=bearer(secret))).status_code == 200
