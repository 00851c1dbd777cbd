"""Steps of the data API tests: a listing delivered as api (or verification) bought through the order API,
a key made for the entitlement from the buyer's session, and the Authorization header of a key."""

from __future__ import annotations

from factories import login, make_listing, make_user
from listings import pricing
from order_steps import buy

CONTENT = ("区划代码,区县,常住人口,面积,联系人,联系电话\n"
           "330102,上城区,135,26.1,张三丰,13512342210\n"
           "330105,拱墅区,118,69.3,李四,13600001111\n"
           "330106,西湖区,113,312.4,王五,13700002222\n"
           "330108,滨江区,54,72.0,赵六,13800003333\n"
           "330109,萧山区,211,931.2,钱七,13900004444\n").encode()


async def api_entitlement(client, job_runtime, *, plan: pricing.PlanSpec | None = None, quantity: int | None = None,
                          content: bytes = CONTENT, delivery: str = "api"):
    holder = await make_user(["holder"])
    plan = plan or pricing.PlanSpec(kind="call_pack", name="调用包", price_fen=1_000, calls=5)
    data = await make_listing(holder, job_runtime, delivery=delivery, content=content, plans=[plan],
                              title="区县人口与联系人")
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=data["listing"]["id"],
                      plan_id=data["plans"][0]["id"], quantity=quantity)
    return holder, buyer, data["listing"], order["entitlement_id"]


async def key_for(client, buyer, entitlement_id: int) -> str:
    client.cookies.clear()
    csrf = await login(client, buyer)
    resp = await client.post(f"/api/v1/entitlements/{entitlement_id}/keys", json={"name": "测试"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201, resp.text
    client.cookies.clear()
    assert resp.json()["scope"] == f"entitlement:{entitlement_id}"
    return resp.json()["secret"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}
