"""Alerts of the regulator's desk: computed by a periodic scan over listings and recent orders, and raised
at the moment of an event where that is cheap (revenue above the permitted maximum arrives as an
operators event). Each alert has a key naming its cause, inserted with ON CONFLICT DO NOTHING, so the
scan is idempotent: running it twice, or in two processes at once, stores each cause once.

Kinds (what the desk calls them, and what is checked):
- price_above_cap: a listed plan priced above the listing's current cap (a cap lowered below an active
  price), or an order whose unit price exceeded the cap frozen on it;
- purpose_outside_scope: an order of an operator's product, under an agreement covering its data, for a
  purpose the agreement does not permit;
- delivery_without_contract: an order delivered while its purchase contract is missing or not signed;
- revenue_above_max: the operator's revenue under an agreement passed its permitted maximum (最高准许收入);
- source_outside_scope: an operator's listed product whose sources (its lineage, or the asset itself)
  no longer pass the agreement's scope check (out of scope, not consented, agreement not in force);
- unusual_volume: one buyer placed more orders in a day than `oversight_daily_orders`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from billing.orders.tables import Order, OrderStatus
from billing.oversight.tables import OversightAlert
from contracts.tables import ContractStatus, PurchaseContract
from listings import pricing
from listings import service as listings_service
from listings.tables import Listing, ListingStatus, PriceCap
from market import audit, runtime
from market.errors import DomainError
from market.i18n import N_
from market.money import Money
from operators import service as operators_service

PRICE_ABOVE_CAP = "price_above_cap"
PURPOSE_OUTSIDE_SCOPE = "purpose_outside_scope"
DELIVERY_WITHOUT_CONTRACT = "delivery_without_contract"
REVENUE_ABOVE_MAX = "revenue_above_max"
SOURCE_OUTSIDE_SCOPE = "source_outside_scope"
UNUSUAL_VOLUME = "unusual_volume"
KINDS = {
    PRICE_ABOVE_CAP: N_("价格超过上限收费标准"),
    PURPOSE_OUTSIDE_SCOPE: N_("使用目的超出授权"),
    DELIVERY_WITHOUT_CONTRACT: N_("未签合同即交付"),
    REVENUE_ABOVE_MAX: N_("收入超过最高准许收入"),
    SOURCE_OUTSIDE_SCOPE: N_("数据来源超出授权范围"),
    UNUSUAL_VOLUME: N_("交易量异常"),
}
SCAN_DAYS = 30  # how far back the scan reads orders; older ones were scanned when they were recent
DELIVERED = (OrderStatus.DELIVERED.value, OrderStatus.COMPLETED.value, OrderStatus.DISPUTED.value,
             OrderStatus.REFUNDED.value)


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def raise_alert(*, kind: str, object_type: str, object_id: int | str, key_suffix: str = "",
                      org_id: int | None = None, summary: str, detail: dict, source: str = "scan",
                      created_at: datetime | None = None) -> bool:
    """Store one alert unless its cause is stored already; True when it is new."""
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    key = f"{kind}:{object_type}:{object_id}" + (f":{key_suffix}" if key_suffix else "")
    rows = await OversightAlert.insert(OversightAlert(
        key=key[:120], kind=kind, object_type=object_type, object_id=str(object_id), org=org_id,
        summary=summary[:500], detail=json.dumps(detail, ensure_ascii=False, default=str), source=source,
        created_at=created_at or _now(),
    )).on_conflict(target=OversightAlert.key, action="DO NOTHING").returning(OversightAlert.id)
    if rows:
        await audit.record(action="oversight.alert_raised", object_type=object_type, object_id=str(object_id),
                           after={"kind": kind, "alert_id": rows[0]["id"], "source": source})
    return bool(rows)


# ---- the scan -----------------------------------------------------------------------------------

async def _prices_above_caps() -> int:
    """Listed plans above the listing's current cap, and recent orders above the cap frozen on them."""
    new = 0
    capped = await PriceCap.select(PriceCap.listing).distinct()
    for row in capped:
        listing_id = row["listing"]
        listing = await Listing.select(Listing.id, Listing.title, Listing.holder, Listing.status).where(
            Listing.id == listing_id).first()
        if listing is None or listing["status"] != ListingStatus.LISTED.value:
            continue
        cap = await listings_service.current_cap(listing_id)
        if cap is None:
            continue
        cap_row = await (PriceCap.select(PriceCap.id).where(PriceCap.listing == listing_id)
                         .order_by(PriceCap.id, ascending=False).first())
        for plan in await listings_service.plans_of(listing_id):
            price = pricing.comparable_price(pricing.spec_from_row(plan))
            if price > cap:
                new += await raise_alert(
                    kind=PRICE_ABOVE_CAP, object_type="listing", object_id=listing_id,
                    key_suffix=f"cap{cap_row['id']}:plan{plan['id']}", org_id=listing["holder"],
                    summary=f"《{listing['title']}》方案“{plan['name']}”价格 {Money(price).format()} 超过上限收费标准 "
                            f"{Money(cap).format()}",
                    detail={"listing_id": listing_id, "plan_id": plan["id"], "price_fen": price, "cap_fen": cap})
    return new


async def _recent_orders(since: datetime) -> list[dict]:
    return await (Order.select(Order.id, Order.listing, Order.listing.asset.as_alias("asset"), Order.listing_title,
                               Order.purpose, Order.unit_price_fen, Order.cap_fen, Order.holder_org, Order.buyer_org,
                               Order.buyer_name, Order.status, Order.contract, Order.delivered_at, Order.created_at)
                  .where(Order.created_at >= since).order_by(Order.id))


CLOSED = (OrderStatus.CANCELLED.value, OrderStatus.DECLINED.value, OrderStatus.EXPIRED.value)


async def _orders_above_cap(orders: list[dict]) -> int:
    """Orders priced above a cap: the one frozen on them when they were made, or the cap in force now (a cap
    lowered while orders at the old price are still open or being delivered: the sale goes on above it)."""
    new = 0
    current: dict[int, int | None] = {}
    for o in orders:
        if o["status"] in CLOSED:
            continue
        if o["listing"] not in current:
            current[o["listing"]] = await listings_service.current_cap(o["listing"])
        limits = [c for c in (o["cap_fen"], current[o["listing"]]) if c is not None]
        if not limits or o["unit_price_fen"] <= min(limits):
            continue
        cap = min(limits)
        new += await raise_alert(
            kind=PRICE_ABOVE_CAP, object_type="order", object_id=o["id"], key_suffix=f"cap{cap}",
            org_id=o["holder_org"],
            summary=f"订单 {o['id']}《{o['listing_title']}》单价 {Money(o['unit_price_fen']).format()} 超过上限收费标准 "
                    f"{Money(cap).format()}",
            detail={"order_id": o["id"], "listing_id": o["listing"], "unit_price_fen": o["unit_price_fen"],
                    "cap_fen": cap, "cap_when_ordered_fen": o["cap_fen"], "cap_now_fen": current[o["listing"]]})
    return new


async def sources_of(asset_id: int) -> list[int]:
    """The source assets of a derived product (its newest version's lineage), or the asset itself for
    data that no pipeline made."""
    try:
        lineage = await operators_service.lineage_of(asset_id=asset_id, org_id=None, roles=frozenset({"regulator"}))
    except DomainError:  # no lineage: not a derived product
        return [asset_id]
    return [int(s["asset_id"]) for s in lineage["sources"]] or [asset_id]


class _Agreements:
    """The effective version of every agreement, with its resolved scope, per operator (read once per scan)."""

    def __init__(self) -> None:
        self.by_operator: dict[int, list[dict]] = {}

    async def load(self) -> "_Agreements":
        rows = await operators_service.list_agreements(org_id=None, roles=frozenset({"regulator"}))
        seen: set[str] = set()
        for r in rows:
            if r["number"] in seen or r["status"] in ("draft", "withdrawn"):
                continue
            seen.add(r["number"])
            eff = await operators_service.effective(r["id"])
            detail = await operators_service.get_agreement(agreement_id=eff["id"], org_id=None,
                                                           roles=frozenset({"regulator"}))
            self.by_operator.setdefault(detail["operator_org"], []).append(detail)
        return self

    def covering(self, operator_org: int, asset_ids: list[int]) -> list[dict]:
        return [a for a in self.by_operator.get(operator_org, []) if set(asset_ids) & set(a["asset_ids"])]


async def _purposes_outside_scope(orders: list[dict], agreements: _Agreements) -> int:
    new = 0
    for o in orders:
        if o["holder_org"] not in agreements.by_operator:
            continue
        covering = agreements.covering(o["holder_org"], await sources_of(o["asset"]))
        if not covering:
            continue
        agreement = covering[0]
        # the purpose alone is judged here: a later suspension does not make an earlier sale's purpose wrong
        if o["purpose"] in agreement["purposes"]:
            continue
        new += await raise_alert(
            kind=PURPOSE_OUTSIDE_SCOPE, object_type="order", object_id=o["id"], org_id=o["holder_org"],
            summary=f"订单 {o['id']}《{o['listing_title']}》的使用目的“{pricing.PURPOSES.get(o['purpose'], o['purpose'])}”"
                    f"不在授权运营协议 {agreement['number']} 允许的范围内",
            detail={"order_id": o["id"], "purpose": o["purpose"], "agreement_id": agreement["id"],
                    "permitted": agreement["purposes"]})
    return new


async def _deliveries_without_contract(orders: list[dict]) -> int:
    new = 0
    delivered = [o for o in orders if o["delivered_at"] is not None or o["status"] in DELIVERED]
    contract_ids = [o["contract"] for o in delivered if o["contract"]]
    signed = set()
    if contract_ids:
        rows = await PurchaseContract.select(PurchaseContract.id).where(
            PurchaseContract.id.is_in(contract_ids), PurchaseContract.status == ContractStatus.SIGNED.value)
        signed = {r["id"] for r in rows}
    for o in delivered:
        if o["contract"] in signed:
            continue
        new += await raise_alert(
            kind=DELIVERY_WITHOUT_CONTRACT, object_type="order", object_id=o["id"], org_id=o["holder_org"],
            summary=f"订单 {o['id']}《{o['listing_title']}》已交付，但购买合同{'未签署' if o['contract'] else '不存在'}",
            detail={"order_id": o["id"], "contract_id": o["contract"], "status": o["status"]})
    return new


async def _revenue_above_max() -> int:
    """Copy the operators package's revenue alerts (also raised at once by the event handler)."""
    new = 0
    for a in await operators_service.alerts(kind="revenue_over_max"):
        new += await record_revenue_alert(agreement_id=a["agreement"] or int(a["object_id"]), figures=a["detail"],
                                          created_at=a["created_at"], source="scan")
    return new


async def record_revenue_alert(*, agreement_id: int, figures: dict, created_at: datetime | None = None,
                               source: str = "event") -> bool:
    agreement = await operators_service.effective(agreement_id)
    year = figures.get("year")
    return await raise_alert(
        kind=REVENUE_ABOVE_MAX, object_type="authorization_agreement", object_id=agreement["id"],
        key_suffix=f"{agreement['number']}:{year}", org_id=agreement["operator_org"],
        summary=f"授权运营协议 {agreement['number']} 的运营机构 {year} 年收入 {Money(int(figures.get('revenue_fen', 0))).format()}"
                f" 超过最高准许收入 {Money(int(figures.get('max_fen', 0))).format()}",
        detail={**figures, "number": agreement["number"]}, source=source, created_at=created_at)


async def _sources_outside_scope(agreements: _Agreements) -> int:
    new = 0
    for operator_org, granted in agreements.by_operator.items():
        ever_in_scope = set().union(*(set(a["asset_ids"]) for a in granted))
        listed = await Listing.select(Listing.id, Listing.asset, Listing.title).where(
            Listing.holder == operator_org, Listing.status == ListingStatus.LISTED.value)
        for listing in listed:
            sources = await sources_of(listing["asset"])
            derived = sources != [listing["asset"]]
            # an operator's own data it never put under a mandate is not authorized operation: not checked
            if not derived and not set(sources) & ever_in_scope:
                continue
            try:
                await operators_service.check_sources(operator_org_id=operator_org, asset_ids=sources)
            except DomainError as exc:
                new += await raise_alert(
                    kind=SOURCE_OUTSIDE_SCOPE, object_type="listing", object_id=listing["id"], key_suffix=exc.code,
                    org_id=operator_org,
                    summary=f"运营机构在售产品《{listing['title']}》的数据来源未通过授权范围核验：{exc.message}",
                    detail={"listing_id": listing["id"], "sources": sources, "code": exc.code})
    return new


async def _unusual_volume(now: datetime, daily_orders: int) -> int:
    day_start = now - timedelta(days=1)
    rows = await Order.select(Order.buyer_org, Order.buyer_name).where(Order.created_at >= day_start)
    counts: dict[int, list] = {}
    for r in rows:
        counts.setdefault(r["buyer_org"], []).append(r["buyer_name"])
    new = 0
    for buyer, names in counts.items():
        if len(names) > daily_orders:
            new += await raise_alert(
                kind=UNUSUAL_VOLUME, object_type="organization", object_id=buyer, key_suffix=f"{now:%Y-%m-%d}",
                org_id=buyer, summary=f"{names[0]} 在 24 小时内下单 {len(names)} 笔，超过 {daily_orders} 笔的关注阈值",
                detail={"buyer_org": buyer, "orders": len(names), "threshold": daily_orders,
                        "since": day_start.isoformat()})
    return new


async def scan(*, now: datetime | None = None, days: int = SCAN_DAYS, daily_orders: int | None = None) -> dict:
    """Look for every kind of alert over the listings and the last `days` of orders; store the new ones.
    Idempotent: returns how many new alerts of each kind were stored by this run."""
    now = now or _now()
    daily_orders = runtime.settings().oversight_daily_orders if daily_orders is None else daily_orders
    orders = await _recent_orders(now - timedelta(days=days))
    agreements = await _Agreements().load()
    found = {
        PRICE_ABOVE_CAP: await _prices_above_caps() + await _orders_above_cap(orders),
        PURPOSE_OUTSIDE_SCOPE: await _purposes_outside_scope(orders, agreements),
        DELIVERY_WITHOUT_CONTRACT: await _deliveries_without_contract(orders),
        REVENUE_ABOVE_MAX: await _revenue_above_max(),
        SOURCE_OUTSIDE_SCOPE: await _sources_outside_scope(agreements),
        UNUSUAL_VOLUME: await _unusual_volume(now, daily_orders),
    }
    return found


async def alerts(*, kind: str | None = None, org_id: int | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 500) -> list[dict]:
    """Stored alerts, newest first."""
    query = OversightAlert.select()
    if kind:
        query = query.where(OversightAlert.kind == kind)
    if org_id is not None:
        query = query.where(OversightAlert.org == org_id)
    if since is not None:
        query = query.where(OversightAlert.created_at >= since)
    if until is not None:
        query = query.where(OversightAlert.created_at < until)
    rows = await query.order_by(OversightAlert.created_at, ascending=False).order_by(
        OversightAlert.id, ascending=False).limit(limit)
    return [{**r, "detail": json.loads(r["detail"] or "{}"), "object": f"{r['object_type']}:{r['object_id']}"}
            for r in rows]


async def counts_by_kind() -> dict[str, int]:
    rows = await OversightAlert.select(OversightAlert.kind)
    out = {k: 0 for k in KINDS}
    for r in rows:
        out[r["kind"]] = out.get(r["kind"], 0) + 1
    return out
