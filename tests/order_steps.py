"""Buying through the order API, as a buyer and a holder do it: the one path from a listing to data.

`buy` orders a plan (free plans and free-by-purpose prices too), lets the holder approve when the order
waits for it, has both parties sign the contract once the job has rendered it, has platform finance
record the bank transfer when there is something to pay, and returns the entitlement the order
delivered. The client's cookies are put back as they were, so a test logged in stays logged in.
"""

from __future__ import annotations

import itertools

import httpx

from factories import login, make_user

_keys = itertools.count(1)


async def _as(client, user: dict) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def _ok(resp: httpx.Response) -> dict:
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


async def buy(client, job_runtime, *, buyer: dict, holder: dict, listing_id: int, plan_id: int,
              purpose: str = "industry", purpose_note: str = "用于区域人口分析报告", quantity: int | None = None,
              finance: dict | None = None) -> dict:
    """Order, approve if needed, sign both, pay if needed; returns the delivered order (with
    `entitlement_id`) and leaves the client's session as it found it."""
    saved = httpx.Cookies(client.cookies)
    try:
        headers = await _as(client, buyer)
        body = {"listing_id": listing_id, "plan_id": plan_id, "purpose": purpose, "purpose_note": purpose_note}
        if quantity is not None:
            body["quantity"] = quantity
        order = await _ok(await client.post("/api/v1/orders", json=body,
                                            headers={**headers, "Idempotency-Key": f"buy-{next(_keys)}"}))
        oid = order["id"]
        if "approval" in order["status"]:
            headers = await _as(client, holder)
            order = await _ok(await client.post(f"/api/v1/orders/{oid}/approve", json={"note": "用途属实"},
                                                headers=headers))
        await job_runtime.drain(timeout=120)  # the contract's PDF (and an automatic countersignature)
        for side, party in (("buyer", buyer), ("holder", holder)):
            headers = await _as(client, party)
            order = await _ok(await client.get(f"/api/v1/orders/{oid}"))
            if "signature" not in order["status"]:
                break
            if side not in order["contract"]["signed_by"]:  # the holder may have countersigned automatically
                order = await _ok(await client.post(f"/api/v1/orders/{oid}/sign", json={}, headers=headers))
        if "payment" in order["status"]:
            headers = await _as(client, finance or await make_user(["admin"]))
            order = await _ok(await client.post(
                f"/api/v1/orders/{oid}/payments", json={"amount_fen": order["total_fen"], "reference": f"BANK-{oid}"},
                headers={**headers, "Idempotency-Key": f"pay-{oid}"}))
        await job_runtime.drain(timeout=120)
        assert order["status"] == "delivered" and order["entitlement_id"], order
        return order
    finally:
        client.cookies.clear()
        client.cookies.update(saved)
