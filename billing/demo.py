"""Demo trade for `market demo`: orders of buyer@demo.cn in every state a person meets, a payout to a
holder and spends of the governance fund, all through the services (never rows written by hand), so
我的订单, 销售, 财务, the holder's statements and 治理基金 have something to show.

Idempotent: each order has a fixed Idempotency-Key (the same key returns the same order) and is moved
on from whatever state it is in to the state it should show; the payout and the fund's spends have
fixed keys and titles. Running `market demo` again changes nothing. The contracts', invoices' and
credit notes' PDFs are rendered by jobs run in this process before the command returns.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from billing import ledger, orders
from billing.disbursements import service as disbursements
from billing.disbursements.tables import DisbursementProposal
from billing.tables import JournalTxn
from listings import service as listings_service
from listings.tables import Listing, PricePlan
from market import jobs
from market.config import Settings
from market.context import Actor, acting_as
from market.tables import Membership

BUYER = "buyer"
FINANCE_LABEL = "admin@demo.cn"


@dataclass(frozen=True)
class DemoOrder:
    key: str  # the Idempotency-Key, fixed: the same order on every run
    title: str  # the listing ordered (a demo listing on sale)
    plan_kind: str
    purpose: str
    note: str
    target: str  # the status the demo leaves it in


ORDERS = [
    DemoOrder("demo-order-completed", "杭州市医疗卫生机构名录（数据产品）", "one_time", "industry",
              "健康险核保时核验就诊机构的资质与等级", "completed"),
    DemoOrder("demo-order-delivered", "杭州市医疗卫生机构名录", "subscription", "industry",
              "按月更新理赔系统中的定点医疗机构清单", "delivered"),
    DemoOrder("demo-order-refunded", "杭州市各区县地区生产总值（数据产品）", "one_time", "industry",
              "区域经济与保费规模的相关分析", "refunded"),
    DemoOrder("demo-order-approval", "杭州市企业登记信息（数据产品）", "one_time", "industry",
              "企业财产险投保人身份与经营状态核验", "awaiting_approval"),
    DemoOrder("demo-order-signature", "杭州市各区县人口主要指标（数据产品）", "one_time", "industry",
              "各区县意外险产品的人口基数测算", "awaiting_signature"),
    DemoOrder("demo-order-payment", "杭州市中小学校名录（数据产品）", "one_time", "industry",
              "学平险的学校名录校验", "awaiting_payment"),
    DemoOrder("demo-order-free", "杭州市医疗卫生机构门诊服务情况（月度）", "subscription", "public_governance",
              "配合卫健委开展基层医疗服务能力评估（公共治理，免费）", "completed"),
    # the operator's derived product (operators.demo builds, co-approves and lists it): a sale under its mandate,
    # so the regulator's desk, the lineage and the revenue against the permitted maximum have one to show
    DemoOrder("demo-order-derived", "杭州市各区县医疗资源与预防接种综合分析（加工产品）", "one_time", "industry",
              "按区县医疗资源与接种情况测算健康险服务网点布局", "completed"),
    # raw public data, free and used only in the sandbox (原始数据不出域): the entitlement data services use
    # a cleaned listing delivered by the metered API, with its call pack: the key and example call of
    # 已获取的数据 work against it (issue 10)
    DemoOrder("demo-order-api", "杭州市环境空气质量日报", "call_pack", "industry",
              "车险出险率与空气质量的关联分析（按调用计费的数据接口）", "completed"),
    DemoOrder("demo-order-sandbox", "杭州市医疗卫生机构门诊服务情况（月度）", "free", "industry",
              "在沙箱内试算门诊量与理赔量的关系", "completed"),
]

# (title, purpose, amount in 分, recipient organization key, paid: the agency approves and the platform pays)
SPENDS = [
    ("公交站点数据清洗悬赏（需求广场）", "cleaning_bounty", 10_000, "operator", True,
     "多位买方在需求广场求购可用的公交站点数据，悬赏清洗原始站点表：统一坐标系、去重、补全线路编号。"),
    ("食品经营许可数据质量评估", "quality", 5_000, "market_supervision", False,
     "评估食品经营许可信息的完整性与时效，修复过期记录，提升质量评分。"),
]
PAYOUT_KEY = "demo:payout:holder"


def _actor(user_id: int | None, org_id: int, label: str) -> Actor:
    return Actor(user_id=user_id, org_id=org_id, label=label)


async def _holder_user(org_id: int) -> int | None:
    row = await (Membership.select(Membership.user).where(Membership.organization == org_id,
                                                           Membership.role.is_in(["holder", "operator"]))
                 .order_by(Membership.user).first())
    return row["user"] if row else None


async def _listing_and_plan(spec: DemoOrder) -> tuple[dict, dict] | None:
    # a table listed at several tiers shares its title between the raw and cleaned listings: the plan decides
    for listing in await (Listing.select().where(Listing.title == spec.title, Listing.status == "listed")
                          .order_by(Listing.id)):
        plan = await (PricePlan.select().where(PricePlan.listing == listing["id"], PricePlan.kind == spec.plan_kind)
                      .order_by(PricePlan.id).first())
        if plan is not None:
            return listing, plan
    return None


async def _get(order_id: int) -> dict:
    return await orders.get_order(order_id=order_id, org_id=None, roles=frozenset({"admin"}))


async def _advance(order: dict, spec: DemoOrder, *, buyer: Actor, holder: Actor, finance: Actor,
                   runtime_jobs: jobs.JobRuntime) -> dict:
    """Move the order one step towards its target; the same order when it is there."""
    status, oid = order["status"], order["id"]
    if status == spec.target:
        return order
    if status == "awaiting_approval":
        with acting_as(holder):
            await orders.approve(order_id=oid, org_id=holder.org_id, note="用途与资质核实无误，同意")
    elif status == "awaiting_signature":
        await runtime_jobs.drain(timeout=600)  # the contract's PDF, and the holder's automatic countersignature
        order = await _get(oid)
        for party, who in (("buyer", buyer), ("holder", holder)):
            if party not in order["contract"]["signed_by"] and order["status"] == "awaiting_signature":
                with acting_as(who):
                    await orders.sign(order_id=oid, org_id=who.org_id, roles=frozenset({party}), user_id=who.user_id,
                                      ip="127.0.0.1")
                order = await _get(oid)
    elif status == "awaiting_payment":
        with acting_as(finance):
            await orders.record_receipt(order_id=oid, amount_fen=order["total_fen"],
                                        reference=f"ICBC-DEMO-{oid:06d}", recorded_by=FINANCE_LABEL)
    elif status == "delivered" and spec.target == "completed":
        with acting_as(buyer):
            if order["delivery_mode"] == "file":
                # the buyer takes its file before accepting (the delivery mark names the order)
                _, chunks = await listings_service.open_download(
                    entitlement_id=order["entitlement_id"], version=order["data_version"], org_id=buyer.org_id,
                    user_id=buyer.user_id)
                b"".join(chunks)
            await orders.confirm(order_id=oid, org_id=buyer.org_id)
    elif status == "delivered" and spec.target == "refunded":
        with acting_as(finance):
            await orders.refund(order_id=oid, amount_fen=order["paid_fen"] - order["refunded_fen"],
                                reason="买方核对后发现所需年份不在本产品范围内，协商全额退款", recorded_by=FINANCE_LABEL)
    else:
        raise RuntimeError(f"demo order {spec.key} is {status}; it cannot reach {spec.target}")
    return await _get(oid)


async def _order(spec: DemoOrder, org_ids: dict[str, int], user_ids: dict[str, int],
                 runtime_jobs: jobs.JobRuntime) -> str | None:
    found = await _listing_and_plan(spec)
    if found is None:
        return f"! demo order {spec.key}: no listing {spec.title} on sale"
    listing, plan = found
    buyer = _actor(user_ids[BUYER], org_ids[BUYER], "buyer@demo.cn")
    holder = _actor(await _holder_user(listing["holder"]), listing["holder"], "demo")
    finance = _actor(user_ids.get("admin"), org_ids["admin"], FINANCE_LABEL)
    with acting_as(buyer):
        order, created = await orders.create_order(
            listing_id=listing["id"], plan_id=plan["id"], purpose=spec.purpose, purpose_note=spec.note,
            buyer_org_id=buyer.org_id, user_id=buyer.user_id, idempotency_key=spec.key)
    order = await _get(order["id"])
    start = order["status"]
    for _ in range(8):  # at most one step per state on the way
        if order["status"] == spec.target:
            break
        order = await _advance(order, spec, buyer=buyer, holder=holder, finance=finance, runtime_jobs=runtime_jobs)
    if order["status"] != spec.target:
        raise RuntimeError(f"demo order {spec.key} stopped at {order['status']}, expected {spec.target}")
    if not created and start == spec.target:
        return None
    return f"order {order['id']} 《{spec.title}》: {order['status']}"


async def _payout(org_ids: dict[str, int]) -> str | None:
    """Pay holder@demo.cn's organization half of what it is owed, once (the key makes it one payment)."""
    holder = org_ids["holder"]
    owed = await ledger.balance(account_code=ledger.payable_code(holder))
    if await JournalTxn.exists().where(JournalTxn.idempotency_key == PAYOUT_KEY):
        return None
    if owed < 2:
        return None
    with acting_as(Actor(org_id=org_ids["admin"], label=FINANCE_LABEL)):
        await ledger.payout(holder_org_id=holder, amount_fen=owed // 2, idempotency_key=PAYOUT_KEY,
                            reference="payout:ICBC-DEMO-PAYOUT-0001")  # the bank serial, as finance records it
    return f"payout of {owed // 2} fen to organization {holder}"


async def _spends(org_ids: dict[str, int]) -> list[str]:
    lines = []
    for title, purpose, amount, recipient, paid, reason in SPENDS:
        row = await DisbursementProposal.select().where(DisbursementProposal.title == title).first()
        if row is None:
            with acting_as(Actor(org_id=org_ids["admin"], label=FINANCE_LABEL)):
                row = await disbursements.propose(purpose=purpose, title=title, reason=reason, amount_fen=amount,
                                                  recipient_org_id=org_ids[recipient])
            lines.append(f"fund proposal: {title}")
        if paid and row["status"] == "proposed":
            with acting_as(Actor(org_id=org_ids["agency"], label="agency@demo.cn")):
                row = await disbursements.approve(proposal_id=row["id"], agency_org_id=org_ids["agency"],
                                                  note="符合基金用途，同意拨付")
        if paid and row["status"] == "approved":
            with acting_as(Actor(org_id=org_ids["admin"], label=FINANCE_LABEL)):
                await disbursements.pay(proposal_id=row["id"])
            lines.append(f"fund spend paid: {title}")
    return lines


async def load_demo(settings: Settings, org_ids: dict[str, int], user_ids: dict[str, int]) -> list[str]:
    """The demo orders, the payout and the fund's spends; PDFs rendered before returning."""
    orders.install()
    runtime_jobs = jobs.JobRuntime(replace(settings, broker_url=""), with_worker=True, with_dispatcher=False)
    await runtime_jobs.start()
    lines: list[str] = []
    try:
        for spec in ORDERS:
            line = await _order(spec, org_ids, user_ids, runtime_jobs)
            if line:
                lines.append(line)
        if (line := await _payout(org_ids)) is not None:
            lines.append(line)
        lines.extend(await _spends(org_ids))
        await runtime_jobs.drain(timeout=600)  # every contract, invoice and credit note rendered
    finally:
        await runtime_jobs.stop()
    return lines
