"""Revenue along lineage in the ledger (issue 9 item 7): when a derived product's sale is released to
its seller, the shares operators computes over the product's lineage (operators.service.shares_of_sale,
MARKET_LINEAGE_SHARE_BPS of the seller's net) go from the seller's payable to each source holder's:

  lineage_share   Dr payable:<seller> s / Cr payable:<source holder> s     one transaction per recipient

posted in the release's transaction, once per order and recipient (the idempotency key names both).
A refund after the release takes the shares back in the proportion of the release it reverses, in
one transaction per refund posted just before the refund itself, so the seller has its shares back
before its own leg is reversed; when everything went back, every share went back too, to the 分.
"""

from __future__ import annotations

from piccolo.query.functions.aggregate import Sum

from billing import ledger
from billing._accounts import BANK, ESCROW, payable_code
from billing.tables import JournalTxn, Posting, TxnKind
from listings.tables import Listing
from market import runtime
from market.money import Money
from operators import service as operators_service

KIND = TxnKind.LINEAGE_SHARE.value


def _key(order_ref: str, org_id: int) -> str:
    return f"lineage_share:{order_ref}:{org_id}"


def _refund_key(order_ref: str, refund_id: int) -> str:
    return f"lineage_share:{order_ref}:refund:{refund_id}"


async def _release(order_ref: str) -> dict | None:
    return await (JournalTxn.select(JournalTxn.id, JournalTxn.holder)
                  .where(JournalTxn.reference == order_ref, JournalTxn.kind == TxnKind.RELEASE.value).first())


async def _leg(txn_id: int, code: str) -> int:
    row = await (Posting.select(Sum(Posting.amount_fen).as_alias("total"))
                 .where(Posting.txn == txn_id, Posting.account.code == code).first())
    return int(row["total"] or 0)


async def post_release(order: dict, *, order_ref: str) -> dict[int, int]:
    """Post the shares of a released sale of a derived product ({recipient org: 分}; empty for data no
    pipeline made). Call in the release's transaction, after ledger.release."""
    release = await _release(order_ref)
    if release is None:
        return {}
    seller = order["holder_org"]
    net = -await _leg(release["id"], payable_code(seller))
    asset = await Listing.select(Listing.asset).where(Listing.id == order["listing"]).first()
    shares = await operators_service.shares_of_sale(asset_id=asset["asset"], seller_org=seller, amount_fen=net,
                                                    bps=runtime.settings().lineage_share_bps)
    for org, fen in shares.items():
        await ledger.post(kind=KIND, reference=order_ref, idempotency_key=_key(order_ref, org),
                          lines=[(payable_code(seller), fen), (payable_code(org), -fen)],
                          memo=f"订单 {order['id']}《{order['listing_title']}》来源分成")
    return shares


async def _standing(order_ref: str, seller: int) -> tuple[dict[int, int], dict[int, int]]:
    """({recipient: 分 first shared}, {recipient: 分 still standing}) of an order's lineage shares."""
    txns = await (JournalTxn.select(JournalTxn.id, JournalTxn.idempotency_key)
                  .where(JournalTxn.reference == order_ref, JournalTxn.kind == KIND))
    if not txns:
        return {}, {}
    first_ids = {t["id"] for t in txns if ":refund:" not in t["idempotency_key"]}
    rows = await (Posting.select(Posting.txn, Posting.amount_fen, Posting.account.owner.as_alias("owner"))
                  .where(Posting.txn.is_in([t["id"] for t in txns])))
    original: dict[int, int] = {}
    standing: dict[int, int] = {}
    for r in rows:
        if r["owner"] is None or r["owner"] == seller:
            continue
        standing[r["owner"]] = standing.get(r["owner"], 0) - r["amount_fen"]
        if r["txn"] in first_ids:
            original[r["owner"]] = original.get(r["owner"], 0) - r["amount_fen"]
    return original, standing


async def refund_lines(*, order_ref: str, amount_fen: int) -> list[tuple[str, int]]:
    """The postings that take back the shares of a refund of `amount_fen` about to be posted (empty
    before the release or for data no pipeline made)."""
    release = await _release(order_ref)
    if release is None:
        return []
    seller = release["holder"]
    original, standing = await _standing(order_ref, seller)
    if not original:
        return []
    released = await _leg(release["id"], ESCROW)  # what the release took from escrow: its whole amount
    # refunds after the release came from its legs (escrow is empty by then): all but escrow and bank
    refunds = await (JournalTxn.select(JournalTxn.id)
                     .where(JournalTxn.reference == order_ref, JournalTxn.kind == TxnKind.REFUND.value))
    reversed_ = 0
    if refunds:
        rows = await (Posting.select(Posting.amount_fen, Posting.account.code.as_alias("code"))
                      .where(Posting.txn.is_in([r["id"] for r in refunds]), Posting.amount_fen > 0))
        reversed_ = sum(r["amount_fen"] for r in rows if r["code"] not in (ESCROW, BANK))
    left = max(released - reversed_ - amount_fen, 0)
    orgs = sorted(original)
    target_total = sum(original.values()) * left // released
    targets = [p.amount for p in Money(target_total).allocate([original[o] for o in orgs])]
    lines: list[tuple[str, int]] = []
    for org, target in zip(orgs, targets):
        back = standing.get(org, 0) - target
        if back:
            lines += [(payable_code(org), back), (payable_code(seller), -back)]
    return lines


async def post_refund(*, order_ref: str, refund_id: int, amount_fen: int) -> None:
    """Take back the shares of one refund, before the ledger posts the refund (same transaction).
    Replayed callbacks find the refund's reversal posted and do nothing."""
    key = _refund_key(order_ref, refund_id)
    if await JournalTxn.exists().where(JournalTxn.idempotency_key == key):
        return
    lines = await refund_lines(order_ref=order_ref, amount_fen=amount_fen)
    if lines:
        await ledger.post(kind=KIND, reference=order_ref, idempotency_key=key, lines=lines,
                          memo=f"退款冲回来源分成（退款 {refund_id}）")


__all__ = ["post_release", "post_refund", "refund_lines"]
