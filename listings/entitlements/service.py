"""Entitlements: a buyer's right to receive a listing's data, and the versions it reaches.

Every entitlement comes from an order (billing calls `grant` when it delivers one, at any price, zero
included): there is one path from a listing to data. The holder's vetting of a buyer and purpose
(`needs_approval`: conditionally shared or important data, free-by-purpose use of a paid plan) happens
on the order. Entitlements taken by the free claims of earlier releases (`source` "claim") stay valid:
they are read, downloaded and revoked like any other.

Revision access: an active entitlement reaches the versions published on the listing, from the one
on sale when it began (`from_start`) or all earlier ones too (`all`, the plan's choice); one-time
purchases stop at the version bought, subscriptions end at `ends_at`. Every new version is
delivered (recorded and announced) to the entitlements that reach it, by a job sent after commit.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Iterator
from datetime import datetime, timezone

from market import audit, db, identity, jobs, notifications, runtime
from market.errors import DomainError, Forbidden, NotFound
from listings import pricing
from listings.entitlements import marks
from listings.publication import service as _listings  # imports this module first: use its attributes at call time only
from listings.tables import (
    AssetVersion,
    DataAsset,
    DeliveryMark,
    Entitlement,
    EntitlementStatus,
    Listing,
    ListingStatus,
    PlanKind,
    PricePlan,
    ProfileStatus,
    RevisionAccess,
    VersionDelivery,
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add_months(when: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month = when.month - 1 + months
    year, month = when.year + month // 12, month % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


async def _get(entitlement_id: int) -> dict:
    row = await Entitlement.select().where(Entitlement.id == entitlement_id).first()
    if row is None:
        raise NotFound("entitlement.not_found", "授权使用记录不存在")
    return row


async def _listing(listing_id: int) -> dict:
    return await _listings._listing(listing_id)


def needs_approval(listing: dict, plan: dict) -> bool:
    """Free plans of unconditionally shared, ordinary data go out at once. Everything else waits for
    the holder: conditional sharing means the holder checks the use (有条件共享), and a paid plan
    reached here only because the declared purpose made it free, which the holder must believe."""
    if plan["kind"] != PlanKind.FREE.value:
        return True
    return listing["sharing_type"] != "unconditional" or listing["grade"] != "general"


# plan kinds an order may buy several of: periods of a subscription, packs of calls (a one-time purchase is
# the version on sale, and a free plan or a base fee with usage has nothing to multiply)
MULTIPLE_KINDS = frozenset({PlanKind.SUBSCRIPTION.value, PlanKind.CALL_PACK.value})
MAX_QUANTITY = 120  # ten years of monthly periods: more is a typing mistake, not an order


def check_quantity(plan: dict, quantity: int | None) -> int:
    """How many of the plan's unit may be bought at once (1 when not given); refuses the rest clearly."""
    if quantity is None:
        return 1
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise DomainError("price.quantity_invalid", "购买数量必须是正整数")
    if quantity > 1 and plan["kind"] not in MULTIPLE_KINDS:
        raise DomainError("price.quantity_unsupported", "该方案（{kind}）每笔订单只能购买 1 份；订阅可购买多期，"
                          "调用次数包可购买多包", kind=plan["kind"])
    if quantity > MAX_QUANTITY:
        raise DomainError("price.quantity_too_large", "一笔订单最多购买 {n} 份", n=MAX_QUANTITY)
    return quantity


async def _activate(entitlement: dict, listing: dict, *, action: str, note: str = "") -> dict:
    """PENDING → ACTIVE in the caller's transaction: fix the term and deliver the version on sale."""
    now = _now()
    extra = {Entitlement.start_version: listing["data_version"], Entitlement.starts_at: now,
             Entitlement.updated_at: now, Entitlement.decision_note: note}
    plan = await PricePlan.select(PricePlan.months).where(PricePlan.id == entitlement["plan"]).first()
    ends = add_months(now, plan["months"] * (entitlement["quantity"] or 1)) \
        if entitlement["kind"] == PlanKind.SUBSCRIPTION.value else None
    extra[Entitlement.ends_at] = ends
    row = await db.transition(Entitlement, entitlement["id"], to=EntitlementStatus.ACTIVE, action=action,
                              extra=extra, audit_after={"start_version": listing["data_version"],
                                                        "ends_at": ends.isoformat() if ends else None})
    await _deliver(entitlement["id"], listing["data_version"])
    await notifications.notify(kind="entitlement.active", organization_id=entitlement["buyer"],
                               subject=f"《{listing['title']}》已可使用", link=f"/my/entitlements/{entitlement['id']}")
    return await _get(row["id"])


async def _deliver(entitlement_id: int, version: int) -> bool:
    """Record that a version reached an entitlement; False when it already had (idempotent)."""
    key = f"{entitlement_id}:{version}"
    if await VersionDelivery.exists().where(VersionDelivery.key == key):
        return False
    await VersionDelivery.insert(VersionDelivery(entitlement=entitlement_id, version=version, key=key))
    return True


async def _check_request(listing: dict, plan: dict | None, org_id: int) -> None:
    if listing["status"] != ListingStatus.LISTED.value:
        raise DomainError("entitlement.not_on_sale", "该数据目前不在售，不能申请")
    if plan is None or not plan["active"]:
        raise NotFound("price.plan_not_found", "价格方案不存在或已停售")
    if listing["holder"] == org_id:
        raise DomainError("entitlement.own_data", "这是本机构的数据，无需申请")


async def grant(*, listing_id: int, plan_id: int, buyer_org_id: int, user_id: int, purpose: str, purpose_note: str,
                amount_fen: int, source_ref: str, quantity: int = 1) -> dict:
    """The entitlement of an order (billing calls this in the transaction that delivers it), free or paid.
    `quantity` periods of a subscription make one term of months × quantity; `quantity` packs of calls
    one quota of calls × quantity; a one-time purchase is one version, bought once."""
    listing = await _listing(listing_id)
    plan = await PricePlan.select().where((PricePlan.id == plan_id) & (PricePlan.listing == listing_id)).first()
    await _check_request(listing, plan, buyer_org_id)
    if purpose not in pricing.PURPOSES:
        raise DomainError("price.purpose_invalid", "请选择用途：公共治理、公益事业、产业发展或行业发展")
    quantity = check_quantity(plan, quantity)
    async with db.atomic():
        rows = await Entitlement.insert(Entitlement(
            listing=listing_id, plan=plan_id, buyer=buyer_org_id, user=user_id, kind=plan["kind"], purpose=purpose,
            purpose_note=(purpose_note or "").strip(), amount_fen=amount_fen, source="order", source_ref=source_ref,
            revision_access=plan["revision_access"], quantity=quantity, calls=(plan["calls"] or 0) * quantity,
        )).returning(*Entitlement.all_columns())
        await audit.record(action="entitlement.ordered", object_type="entitlement", object_id=rows[0]["id"],
                           after={"listing_id": listing_id, "plan_id": plan_id, "order": source_ref,
                                  "quantity": quantity})
        return await _activate(rows[0], listing, action="entitlement.granted")


async def revoke(*, entitlement_id: int, reason: str, org_id: int | None = None) -> dict:
    """Withdraw an active entitlement: the platform for any, a holder only for free claims on its data
    (a paid one is a contract, ended through billing)."""
    entitlement = await _get(entitlement_id)
    listing = await _listing(entitlement["listing"])
    if org_id is not None and (listing["holder"] != org_id or entitlement["source"] != "claim"):
        raise Forbidden("entitlement.not_your_listing", "只有数据持有方可以审核该申请")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    async with db.atomic():
        row = await db.transition(Entitlement, entitlement_id, to=EntitlementStatus.REVOKED,
                                  action="entitlement.revoked",
                                  extra={Entitlement.decision_note: reason, Entitlement.updated_at: _now()},
                                  audit_after={"reason": reason})
        await notifications.notify(kind="entitlement.revoked", organization_id=entitlement["buyer"],
                                   subject=f"《{listing['title']}》的使用权已终止：{reason}",
                                   link=f"/my/entitlements/{entitlement_id}")
        return row


async def suspend(*, entitlement_id: int, reason: str) -> dict:
    """Freeze an active entitlement (the platform, e.g. while the mandate behind the data is suspended):
    no download or API call reaches data until `resume`; every read checks for `active`."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    entitlement = await _get(entitlement_id)
    listing = await _listing(entitlement["listing"])
    async with db.atomic():
        row = await db.transition(Entitlement, entitlement_id, to=EntitlementStatus.SUSPENDED,
                                  action="entitlement.suspended",
                                  extra={Entitlement.decision_note: reason, Entitlement.updated_at: _now()},
                                  audit_after={"reason": reason})
        await notifications.notify(kind="entitlement.suspended", organization_id=entitlement["buyer"],
                                   subject=f"《{listing['title']}》的使用权已暂停：{reason}",
                                   link=f"/my/entitlements/{entitlement_id}")
        return row


async def resume(*, entitlement_id: int, reason: str) -> dict:
    """Lift a suspension: the entitlement is active again, with the term it had."""
    entitlement = await _get(entitlement_id)
    listing = await _listing(entitlement["listing"])
    async with db.atomic():
        row = await db.transition(Entitlement, entitlement_id, to=EntitlementStatus.ACTIVE,
                                  action="entitlement.resumed",
                                  extra={Entitlement.decision_note: "", Entitlement.updated_at: _now()},
                                  audit_after={"reason": (reason or "").strip()})
        await notifications.notify(kind="entitlement.resumed", organization_id=entitlement["buyer"],
                                   subject=f"《{listing['title']}》的使用权已恢复",
                                   link=f"/my/entitlements/{entitlement_id}")
        return row


async def tell_buyers(*, listing: dict, kind: str, subject: str) -> int:
    """Notify every organization holding an active entitlement on a listing (caller's transaction)."""
    rows = await Entitlement.select(Entitlement.id, Entitlement.buyer).where(
        (Entitlement.listing == listing["id"]) & (Entitlement.status == EntitlementStatus.ACTIVE.value))
    for row in rows:
        await notifications.notify(kind=kind, organization_id=row["buyer"], subject=subject,
                                   link=f"/my/entitlements/{row['id']}")
    return len(rows)


async def expire_due(*, now: datetime | None = None) -> list[int]:
    """End subscriptions whose term is over (periodic; a second run finds nothing to do)."""
    now = now or _now()
    due = await Entitlement.select(Entitlement.id, Entitlement.buyer, Entitlement.listing).where(
        (Entitlement.status == EntitlementStatus.ACTIVE.value) & Entitlement.ends_at.is_not_null()
        & (Entitlement.ends_at <= now))
    done = []
    for row in due:
        async with db.atomic():
            await db.transition(Entitlement, row["id"], to=EntitlementStatus.EXPIRED, action="entitlement.expired",
                                extra={Entitlement.updated_at: now})
            await notifications.notify(kind="entitlement.expired", organization_id=row["buyer"],
                                       subject="订阅已到期，续订后可继续获得新版本",
                                       link=f"/listings/{row['listing']}")
        done.append(row["id"])
    return done


def reaches(entitlement: dict, version: int, published: int, now: datetime | None = None) -> bool:
    """Whether an entitlement reaches version `version` of a listing whose version on sale is `published`."""
    now = now or _now()
    if entitlement["status"] != EntitlementStatus.ACTIVE.value:
        return False
    if entitlement["ends_at"] is not None and now >= entitlement["ends_at"]:
        return False
    if version < 1 or version > published:
        return False  # not published on this listing (yet, or an incompatible change under review)
    if entitlement["kind"] == PlanKind.ONE_TIME.value and version > entitlement["start_version"]:
        return False  # a one-time purchase is the version bought
    if entitlement["revision_access"] == RevisionAccess.FROM_START.value and version < entitlement["start_version"]:
        return False
    return True


async def deliver_version(*, listing_id: int, version: int) -> list[int]:
    """A version went on sale: deliver it to every entitlement that reaches it and tell the buyers."""
    listing = await _listing(listing_id)
    if version > listing["data_version"]:
        return []
    rows = await Entitlement.select().where((Entitlement.listing == listing_id)
                                            & (Entitlement.status == EntitlementStatus.ACTIVE.value))
    delivered = []
    for entitlement in rows:
        if not reaches(entitlement, version, listing["data_version"]):
            continue
        async with db.atomic():
            if not await _deliver(entitlement["id"], version):
                continue
            await notifications.notify(kind="entitlement.new_version", organization_id=entitlement["buyer"],
                                       subject=f"《{listing['title']}》发布了第 {version} 版数据",
                                       link=f"/my/entitlements/{entitlement['id']}")
        delivered.append(entitlement["id"])
    return delivered


async def version_published(*, listing_id: int, version: int) -> None:
    """Called in the transaction that puts a new version on sale: delivery runs after commit."""
    await jobs.enqueue("listings.deliver_version", listing_id=listing_id, version=version)


async def _visible_entitlement(entitlement_id: int, org_id: int, roles: frozenset[str]) -> tuple[dict, dict]:
    entitlement = await _get(entitlement_id)
    listing = await _listing(entitlement["listing"])
    if entitlement["buyer"] != org_id and listing["holder"] != org_id and not roles & {"admin", "regulator"}:
        raise NotFound("entitlement.not_found", "授权使用记录不存在")
    return entitlement, listing


async def detail(*, entitlement_id: int, org_id: int, roles: frozenset[str] = frozenset()) -> dict:
    """An entitlement with its listing, plan and the versions it reaches (with their deliveries)."""
    entitlement, listing = await _visible_entitlement(entitlement_id, org_id, roles)
    plan = await PricePlan.select().where(PricePlan.id == entitlement["plan"]).first()
    versions = await AssetVersion.select(
        AssetVersion.number, AssetVersion.row_count, AssetVersion.created_at, AssetVersion.schema_diff).where(
        (AssetVersion.asset == listing["asset"]) & (AssetVersion.profile_status == ProfileStatus.DONE.value)
    ).order_by(AssetVersion.number, ascending=False)
    deliveries = {d["version"]: d for d in await VersionDelivery.select().where(
        VersionDelivery.entitlement == entitlement_id)}
    now = _now()
    reachable = [{"number": v["number"], "row_count": v["row_count"], "created_at": v["created_at"],
                  "delivered_at": deliveries[v["number"]]["created_at"] if v["number"] in deliveries else None,
                  "downloads": deliveries[v["number"]]["downloads"] if v["number"] in deliveries else 0}
                 for v in versions if reaches(entitlement, v["number"], listing["data_version"], now)]
    asset = await DataAsset.select(DataAsset.grade, DataAsset.personal).where(DataAsset.id == listing["asset"]).first()
    return {"entitlement": entitlement, "listing": listing, "plan": plan, "versions": reachable,
            "downloadable": _file_refusal(listing, asset) is None}


async def of_buyer(*, org_id: int) -> list[dict]:
    return await Entitlement.select(
        *Entitlement.all_columns(), Entitlement.listing.title.as_alias("listing_title"),
        Entitlement.listing.tier.as_alias("listing_tier"),
        Entitlement.plan.name.as_alias("plan_name"),
    ).where(Entitlement.buyer == org_id).order_by(Entitlement.id, ascending=False)


async def of_holder(*, org_id: int, statuses: tuple[str, ...] = ("active",)) -> list[dict]:
    """Entitlements on the holder's listings (who uses its data), oldest first."""
    return await Entitlement.select(
        *Entitlement.all_columns(), Entitlement.listing.title.as_alias("listing_title"),
        Entitlement.buyer.name.as_alias("buyer_name"), Entitlement.buyer.credit_code.as_alias("buyer_credit_code"),
        Entitlement.plan.name.as_alias("plan_name"),
    ).where((Entitlement.listing.holder == org_id) & Entitlement.status.is_in(list(statuses))).order_by(Entitlement.id)


def _file_refusal(listing: dict, asset: dict) -> DomainError | None:
    """Why this listing's data may not leave as a file, or None."""
    if listing["delivery_mode"] != "file":
        return DomainError("delivery.not_file", "该数据以 {mode} 方式交付，不提供文件下载",
                           mode=listing["delivery_mode"])
    if listing["grade"] != "general" or asset["grade"] != "general" or asset["personal"]:
        # regraded since listing, or personal data: 重要数据 and personal information leave only as
        # aggregates, models or verification results
        return DomainError("delivery.grade_forbids_file", "重要数据或个人信息不以文件形式交付")
    return None


async def file_refusal(listing_id: int) -> DomainError | None:
    """Why the listing's data could not be delivered as a file today, or None; orders ask before
    anything is charged, with the same rule a download applies."""
    listing = await _listing(listing_id)
    asset = await DataAsset.select().where(DataAsset.id == listing["asset"]).first()
    return _file_refusal(listing, asset)


async def open_download(*, entitlement_id: int, version: int, org_id: int, user_id: int) -> tuple[str, Iterator[bytes]]:
    """The buyer's file of one version, with a fresh delivery mark; records the download."""
    entitlement = await _get(entitlement_id)
    if entitlement["buyer"] != org_id:
        raise NotFound("entitlement.not_found", "授权使用记录不存在")
    listing = await _listing(entitlement["listing"])
    asset = await DataAsset.select().where(DataAsset.id == listing["asset"]).first()
    refusal = _file_refusal(listing, asset)
    if refusal is not None:
        raise refusal
    if not reaches(entitlement, version, listing["data_version"]):
        raise Forbidden("entitlement.version_out_of_reach", "该版本不在您的使用权范围内")
    row = await AssetVersion.select(AssetVersion.prepared_key).where(
        (AssetVersion.asset == listing["asset"]) & (AssetVersion.number == version)
        & (AssetVersion.profile_status == ProfileStatus.DONE.value)).first()
    if row is None or not row["prepared_key"]:
        raise NotFound("delivery.version_missing", "该版本的数据文件不存在")
    buyer = await identity.get_organization(org_id)
    now = _now()
    async with db.atomic():
        mark_rows = await DeliveryMark.insert(DeliveryMark(
            entitlement=entitlement_id, version=version, recipient=org_id,
            recipient_credit_code=buyer["credit_code"], user=user_id, purpose=entitlement["purpose"],
            source_ref=entitlement["source_ref"] or f"claim-{entitlement_id}")).returning(DeliveryMark.id)
        mark_id = mark_rows[0]["id"]
        await _deliver(entitlement_id, version)
        await VersionDelivery.update({VersionDelivery.downloads: VersionDelivery.downloads + 1,
                                      VersionDelivery.last_download_at: now}).where(
            VersionDelivery.key == f"{entitlement_id}:{version}")
        await audit.record(action="delivery.downloaded", object_type="entitlement", object_id=entitlement_id,
                           after={"version": version, "mark": mark_id})
    secret = runtime.settings().secret_key.encode()
    # opened after commit: a storage failure leaves a recorded attempt, never an unrecorded file
    chunks = runtime.storage().open(row["prepared_key"])
    filename = f"{listing['title']}-v{version}.csv"
    return filename, marks.mark_csv(chunks, marks.stamp(mark_id, secret), rows=marks.row_marker(mark_id, secret))


async def trace(*, read) -> dict:
    """Who received the file being read (`read(n)` → bytes, b"" at the end): every verified mark in it,
    from the header or from the rows (an excerpt without the header), with how many rows support each,
    and how many marked rows name nobody (too few rows, or rows of several files). The file is scanned
    in chunks, never held whole."""
    scanner = marks.Scanner(runtime.settings().secret_key.encode())
    while chunk := await read(1 << 20):
        await asyncio.to_thread(scanner.feed, chunk)  # some 20 ms of scanning a MB: not on the event loop
    found = scanner.finish()
    evidence = scanner.evidence()
    out = []
    for mark_id in found:
        row = await DeliveryMark.select(
            *DeliveryMark.all_columns(), DeliveryMark.recipient.name.as_alias("recipient_name"),
            DeliveryMark.entitlement.listing.title.as_alias("listing_title"),
            DeliveryMark.entitlement.listing.id.as_alias("listing_id"),
        ).where(DeliveryMark.id == mark_id).first()
        if row is not None:
            out.append({**row, "in_header": mark_id in evidence["header"],
                        "rows_supporting": evidence["rows"].get(mark_id, 0)})
    return {"marks": out, "rows_examined": evidence["rows_examined"], "marked_rows": evidence["marked_rows"],
            "unattributed_rows": evidence["unattributed_rows"], "rows_capped": evidence["rows_capped"]}
