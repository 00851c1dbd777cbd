"""Upstream co-approval (item 6 of 27号's operation rules as the issue puts them): before a derived
product is submitted for listing, the holder of every source it was built from approves it, unless the
agreement it was built under pre-approves products of its type.

listings cannot import operators, so this module registers `guard` with listings' publication: the
operator's first submission asks each holder (one row per listing and holder, a notification) and is
refused until all have approved; a holder's decline refuses it for good. A periodic job reminds holders
of what still waits, at most once a day per request.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from listings.publication.service import register_submit_guard
from market import audit, db, notifications
from market.errors import Conflict, DomainError, NotFound
from market.tables import Organization
from operators._agreements import effective, today
from operators.tables import Coapproval, CoapprovalStatus, Lineage

OVERSEERS = frozenset({"regulator", "admin"})


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _latest_lineage(asset_id: int) -> dict | None:
    return await (Lineage.select().where(Lineage.asset == asset_id)
                  .order_by(Lineage.version, ascending=False).first())


def _holders(lineage: dict) -> dict[int, list[int]]:
    """{holder org: [its source assets]} of a lineage, leaving out the operator's own tables."""
    out: dict[int, list[int]] = {}
    for s in json.loads(lineage["sources"]):
        if s["holder_id"] != lineage["operator_org"]:
            out.setdefault(s["holder_id"], []).append(s["asset_id"])
    return out


async def _names(org_ids) -> dict[int, str]:
    org_ids = list(set(org_ids))
    if not org_ids:
        return {}
    rows = await Organization.select(Organization.id, Organization.name).where(Organization.id.is_in(org_ids))
    return {r["id"]: r["name"] for r in rows}


async def guard(listing: dict) -> None:
    """Refuse to submit a derived product its source holders have not all approved (asking them the
    first time); pass products that are not derived, and those of a pre-approved type."""
    lineage = await _latest_lineage(listing["asset"])
    if lineage is None:
        return  # not made by a pipeline: a holder's own data needs nobody's approval
    holders = _holders(lineage)
    if not holders:
        return  # built only from the operator's own tables
    agreement = await effective(lineage["agreement"])
    preapproved = listing["delivery_mode"] in agreement["preapproved_product_types"]
    await _ask(listing, lineage, agreement, holders, preapproved=preapproved)
    if preapproved:
        return
    rows = await Coapproval.select().where(Coapproval.listing == listing["id"])
    declined = [r for r in rows if r["status"] == CoapprovalStatus.DECLINED.value]
    names = await _names(r["holder_org"] for r in rows)
    if declined:
        r = declined[0]
        raise Conflict("coapproval.declined", "来源数据持有方 {holder} 不同意上架该加工产品：{note}",
                       holder=names.get(r["holder_org"], ""), note=r["note"])
    waiting = [r for r in rows if r["status"] == CoapprovalStatus.PENDING.value]
    if waiting:
        raise Conflict("coapproval.pending", "加工产品须经来源数据持有方同意后才能提交上架，正在等待：{holders}",
                       holders="、".join(names.get(r["holder_org"], "") for r in waiting))


async def _ask(listing: dict, lineage: dict, agreement: dict, holders: dict[int, list[int]], *,
               preapproved: bool) -> None:
    """One row per holder not yet asked (idempotent by key); a new request notifies the holder."""
    status = CoapprovalStatus.PREAPPROVED if preapproved else CoapprovalStatus.PENDING
    for holder_org, assets in sorted(holders.items()):
        async with db.atomic():
            rows = await Coapproval.insert(Coapproval(
                key=f"{listing['id']}:{holder_org}", listing=listing["id"], asset=listing["asset"],
                operator_org=lineage["operator_org"], holder_org=holder_org, agreement=agreement["id"],
                source_asset_ids=json.dumps(sorted(assets)), status=status.value,
                # the request itself tells the holder today: reminders start tomorrow
                reminded_on=today(), decided_at=_now() if preapproved else None,
            )).on_conflict(target=Coapproval.key, action="DO NOTHING").returning(Coapproval.id)
            if not rows:
                continue
            await audit.record(action=f"coapproval.{'preapproved' if preapproved else 'requested'}",
                               object_type="derived_coapproval", object_id=rows[0]["id"],
                               after={"listing_id": listing["id"], "holder_org_id": holder_org, "sources": assets,
                                      "agreement": agreement["number"], "product_type": listing["delivery_mode"]})
            if not preapproved:
                await notifications.notify(
                    kind="coapproval.requested", organization_id=holder_org,
                    subject=f"加工产品《{listing['title']}》使用了贵单位的数据，上架前需要贵单位同意",
                    link="/coapprovals")


def _json(row: dict, names: dict[int, str] | None = None) -> dict:
    names = names or {}
    return {"id": row["id"], "listing_id": row["listing"], "asset_id": row["asset"], "status": row["status"],
            "operator_org_id": row["operator_org"], "operator_name": names.get(row["operator_org"], ""),
            "holder_org_id": row["holder_org"], "holder_name": names.get(row["holder_org"], ""),
            "agreement_id": row["agreement"], "source_asset_ids": json.loads(row["source_asset_ids"]),
            "note": row["note"], "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
            "created_at": row["created_at"].isoformat() if row["created_at"] else None,
            "listing_title": row.get("listing.title", "")}


async def list_coapprovals(*, org_id: int | None, roles: frozenset[str], status: str | None = None) -> list[dict]:
    """Requests the caller is party to (as the holder asked or the operator asking); all for overseers."""
    query = Coapproval.select(Coapproval.all_columns(), Coapproval.listing.title)
    if not roles & OVERSEERS:
        query = query.where((Coapproval.holder_org == org_id) | (Coapproval.operator_org == org_id))
    if status:
        query = query.where(Coapproval.status == status)
    rows = await query.order_by(Coapproval.id, ascending=False)
    names = await _names({r["holder_org"] for r in rows} | {r["operator_org"] for r in rows})
    return [_json(r, names) for r in rows]


async def decide(*, coapproval_id: int, org_id: int, user_id: int, approve: bool, note: str) -> dict:
    """The holder asked approves or declines, with a note (required when declining)."""
    note = (note or "").strip()[:1000]
    row = await Coapproval.select(Coapproval.all_columns(), Coapproval.listing.title).where(
        Coapproval.id == coapproval_id).first()
    if row is None or row["holder_org"] != org_id:
        raise NotFound("coapproval.not_found", "审批请求不存在")
    if not approve and len(note) < 2:
        raise DomainError("coapproval.note_required", "不同意时请说明理由")
    if row["status"] != CoapprovalStatus.PENDING.value:
        raise Conflict("coapproval.decided", "该请求已处理，不能再次审批")
    to = CoapprovalStatus.APPROVED if approve else CoapprovalStatus.DECLINED
    async with db.atomic():
        await db.transition(Coapproval, coapproval_id, to=to, action=f"coapproval.{to.value}",
                            extra={Coapproval.note: note, Coapproval.decided_by: user_id,
                                   Coapproval.decided_at: _now()},
                            audit_after={"note": note, "listing_id": row["listing"]})
        word = "同意" if approve else "不同意"
        await notifications.notify(kind=f"coapproval.{to.value}", organization_id=row["operator_org"],
                                   subject=f"来源数据持有方{word}上架《{row['listing.title']}》" + (f"：{note}" if note else ""),
                                   link=f"/listings/{row['listing']}")
    got = await Coapproval.select(Coapproval.all_columns(), Coapproval.listing.title).where(
        Coapproval.id == coapproval_id).first()
    return _json(got, await _names({got["holder_org"], got["operator_org"]}))


async def remind_pending(*, on: date | None = None) -> list[int]:
    """Remind each holder of every request still waiting, at most once a day per request: the day is
    claimed by a compare-and-set on `reminded_on`, so overlapping runs send one reminder."""
    on = on or today()
    sent = []
    rows = await Coapproval.select(Coapproval.all_columns(), Coapproval.listing.title).where(
        Coapproval.status == CoapprovalStatus.PENDING.value)
    for row in rows:
        if row["reminded_on"] is not None and row["reminded_on"] >= on:
            continue
        async with db.atomic():
            claimed = await Coapproval.update({Coapproval.reminded_on: on}).where(
                (Coapproval.id == row["id"]) & (Coapproval.status == CoapprovalStatus.PENDING.value)
                & (Coapproval.reminded_on.is_null() | (Coapproval.reminded_on < on))).returning(Coapproval.id)
            if not claimed:
                continue
            await notifications.notify(kind="coapproval.reminder", organization_id=row["holder_org"],
                                       subject=f"提醒：加工产品《{row['listing.title']}》仍在等待贵单位同意上架",
                                       link="/coapprovals")
        sent.append(row["id"])
    return sent


register_submit_guard(guard)
