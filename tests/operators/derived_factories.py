"""A derived product on sale and its purchase, for the tests of what billing does with a mandate:
sales under it, revenue shares along its lineage, and what a suspension freezes."""

from __future__ import annotations

import itertools

from billing import orders
from factories import make_listing, make_user
from market.context import Actor, acting_as
from operators.tables import Lineage
from pipeline_factories import pipeline, run, world

_keys = itertools.count(1)
ADMIN = frozenset({"admin"})


def as_user(user: dict):
    return acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"]))


async def derived_listing(job_runtime) -> dict:
    """The world of the pipeline tests, a pipeline run, and a listed product whose asset carries that
    run's lineage (the listing path of a derived asset is the ordinary one; only the lineage differs)."""
    w = await world(job_runtime)
    done = await run(w, (await pipeline(w))["id"], job_runtime)
    assert done["status"] == "done", done["error"]
    listed = await make_listing(w["operator"], job_runtime, price_fen=100_000, delivery="file")
    await Lineage.update({Lineage.asset: listed["listing"]["asset"]}).where(Lineage.asset == done["asset"])
    return {**w, "listing": listed["listing"], "plan": listed["plans"][0], "buyer": await make_user(["buyer"])}


async def order(w: dict, purpose: str = "industry") -> dict:
    b = w["buyer"]
    with as_user(b):
        row, _ = await orders.create_order(listing_id=w["listing"]["id"], plan_id=w["plan"]["id"], purpose=purpose,
                                           buyer_org_id=b["org"]["id"], user_id=b["id"],
                                           idempotency_key=f"derived-{next(_keys)}")
    return row


async def signed(w: dict, order_id: int, job_runtime) -> dict:
    """The contract rendered, signed by the buyer and (unless it countersigned itself) the operator."""
    await job_runtime.drain(timeout=120)
    for user, roles in ((w["buyer"], {"buyer"}), (w["operator"], {"holder"})):
        current = await orders.get_order(order_id=order_id, org_id=None, roles=ADMIN)
        if user is w["operator"] and "holder" in current["contract"]["signed_by"]:
            continue
        with as_user(user):
            await orders.sign(order_id=order_id, org_id=user["org"]["id"], roles=frozenset(roles), user_id=user["id"])
    return await orders.get_order(order_id=order_id, org_id=None, roles=ADMIN)


async def paid(w: dict, order_id: int, job_runtime) -> dict:
    """Signed, then paid in full by bank transfer (delivered); returns the order as it waited for payment."""
    waiting = await signed(w, order_id, job_runtime)
    await orders.record_receipt(order_id=order_id, amount_fen=waiting["total_fen"],
                                reference=waiting["payment_reference"], recorded_by="finance")
    return waiting
