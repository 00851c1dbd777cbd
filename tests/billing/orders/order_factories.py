"""Orders as the app makes them: listings through the real publication path, orders through services."""

from __future__ import annotations

import itertools

from billing import orders
from factories import make_listing, make_org, make_user
from market.context import Actor, acting_as

_keys = itertools.count(1)


async def market(job_runtime, *, sharing: str = "unconditional", price_fen: int = 50_000, delivery: str = "file",
                 holder_kind: str = "enterprise", **listing_kw) -> dict:
    """A holder with a listed product, a buyer, platform finance (admin) and a regulator."""
    holder = await make_user(["holder"], org=await make_org(kind=holder_kind))
    buyer = await make_user(["buyer"])
    listing = await make_listing(holder, job_runtime, price_fen=price_fen, delivery=delivery, sharing=sharing,
                                 **listing_kw)
    return {"holder": holder, "buyer": buyer, "admin": await make_user(["admin"]),
            "regulator": await make_user(["regulator"]), "listing": listing["listing"],
            "plan": listing["plans"][0]}


def actor(user: dict) -> Actor:
    return Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])


async def order(m: dict, *, purpose: str = "industry", key: str | None = None, **kw) -> dict:
    with acting_as(actor(m["buyer"])):
        row, _ = await orders.create_order(
            listing_id=m["listing"]["id"], plan_id=m["plan"]["id"], purpose=purpose, purpose_note="保险精算定价",
            buyer_org_id=m["buyer"]["org"]["id"], user_id=m["buyer"]["id"],
            idempotency_key=key or f"key-{next(_keys)}", **kw)
    return row


async def sign_both(m: dict, order_id: int, job_runtime) -> dict:
    """Render the contract (job), then buyer and holder sign; returns the order."""
    await job_runtime.drain(timeout=120)
    row = await orders.get_order(order_id=order_id, org_id=None, roles=frozenset({"admin"}))
    for party in ("buyer", "holder"):
        if party in row["contract"]["signed_by"]:
            continue
        user = m[party]
        with acting_as(actor(user)):
            await orders.sign(order_id=order_id, org_id=user["org"]["id"], roles=frozenset({party}),
                              user_id=user["id"], ip="127.0.0.1")
        row = await orders.get_order(order_id=order_id, org_id=None, roles=frozenset({"admin"}))
    return await orders.get_order(order_id=order_id, org_id=None, roles=frozenset({"admin"}))
