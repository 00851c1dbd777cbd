"""Purchase contracts (数据产品购买合同): draft from an order's terms, sign, verify.

The PDF and the signatures are market documents (`market.documents`); this package adds what a
purchase contract means: its two parties, its number, the order of signing, and when it is signed.
Billing drafts a contract for each order and reads its status; contracts never import billing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from contracts import _terms
from contracts.tables import ContractStatus, PurchaseContract
from market import audit, db, documents, identity
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_
from market.tables import DocumentKind, DocumentStatus, Role

KIND = DocumentKind.PURCHASE_CONTRACT.value
PARTIES = ("buyer", "holder")
OVERSEERS = frozenset({Role.ADMIN.value, Role.REGULATOR.value})


def _not_found() -> NotFound:
    return NotFound("contract.not_found", N_("合同不存在"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def _row(contract_id: int) -> dict:
    row = await PurchaseContract.select().where(PurchaseContract.id == contract_id).first()
    if row is None:
        raise _not_found()
    return row


async def draft_purchase_contract(*, terms: dict, auto_countersign: bool = False) -> dict:
    """Freeze an order's terms into a numbered contract and have its PDF rendered (in a job)."""
    from contracts import tasks  # the job told when the PDF is ready

    t = _terms.normalise(terms)
    for role in PARTIES:
        org = await identity.get_organization(t[role]["org_id"])
        if org["verification"] != "verified":
            raise DomainError("contract.party_unverified", "签署方机构尚未通过平台核验：{name}", name=org["name"])
    versions = documents.template_versions(KIND)
    if not versions:
        raise DomainError("document.no_template", "文件模板不存在：{kind} 第 {version} 版", kind=KIND, version=1)
    version = versions[-1]
    today = _now().date()
    async with db.atomic():
        rows = await PurchaseContract.insert(PurchaseContract(
            terms="{}", template_version=version, buyer_org=t["buyer"]["org_id"], holder_org=t["holder"]["org_id"],
            listing_id=t["product"]["listing_id"], total_fen=t["price"]["total_fen"],
            auto_countersign=bool(auto_countersign),
        )).returning(PurchaseContract.id)
        contract_id = rows[0]["id"]
        # the id makes the number unique without a counter to race on; numbers need not be gap-free
        number = f"HT-{today.year}-{contract_id:06d}"
        frozen = {**t, "number": number, "issued_on": today.isoformat(), "issued_on_text": _terms.chinese_date(today)}
        doc = await documents.create_document(
            kind=KIND, context=frozen, title=f"数据产品购买合同 {number}", subject_type="purchase_contract",
            subject_id=contract_id, template_version=version, on_rendered=tasks.contract_rendered,
            parties=[{"role": role, "org_id": t[role]["org_id"], "name": t[role]["name"],
                      "credit_code": t[role]["credit_code"]} for role in PARTIES])
        await PurchaseContract.update({
            PurchaseContract.number: number,
            PurchaseContract.terms: json.dumps(frozen, ensure_ascii=False, sort_keys=True),
            PurchaseContract.document: doc["id"],
        }).where(PurchaseContract.id == contract_id)
        await audit.record(action="contract.drafted", object_type="purchase_contract", object_id=contract_id,
                           after={"number": number, "document": doc["id"], "template_version": version,
                                  "buyer": t["buyer"]["org_id"], "holder": t["holder"]["org_id"],
                                  "total_fen": t["price"]["total_fen"], "auto_countersign": bool(auto_countersign)})
    return await _row(contract_id)


async def _open_for_signing(row: dict) -> dict:
    """A drafted contract whose PDF is rendered may be signed (the job that says so may still be queued)."""
    if row["status"] != ContractStatus.DRAFT.value:
        return row
    doc = await documents.get_document(row["document"])
    if doc["status"] != DocumentStatus.RENDERED.value:
        raise Conflict("contract.not_ready", N_("合同文本正在生成，生成后才能签署，请稍后再试"))
    return await db.transition(PurchaseContract, row["id"], to=ContractStatus.AWAITING_SIGNATURES,
                               action="contract.issued", audit_after={"sha256": doc["sha256"]})


_signed_callbacks: list[Callable[[int], Awaitable[None]]] = []


def on_signed(callback: Callable[[int], Awaitable[None]]) -> None:
    """Be told (with the contract id, inside the signing transaction) when a contract gets its second
    signature, whoever gave it: billing moves the order on at once instead of waiting for a sweep.
    Registering the same callback twice is a no-op."""
    if callback not in _signed_callbacks:
        _signed_callbacks.append(callback)


async def on_document_rendered(*, document_id: int) -> None:
    """The contract's PDF is ready: open it for signing and countersign it if the holder chose to.

    The buyer may have opened and signed it already (the PDF is signable once rendered, before this
    job runs): the automatic countersignature is still due then, or the contract would wait forever."""
    async with db.atomic():
        row = await (PurchaseContract.select().where(PurchaseContract.document == document_id).first())
        if row is None or row["status"] not in (ContractStatus.DRAFT.value, ContractStatus.AWAITING_SIGNATURES.value):
            return  # voided or completed meanwhile: nothing left to do
        await _touch(row["id"])  # the row lock serializes this job with a signer
        row = await _open_for_signing(await _row(row["id"]))
        if row["auto_countersign"] and row["status"] == ContractStatus.AWAITING_SIGNATURES.value:
            signed = {s["party_role"] for s in await documents.signatures(row["document"])}
            if "holder" not in signed:
                await _sign_locked(row, party="holder", org_id=row["holder_org"], user_id=None, ip="",
                                   method="auto", expected_sha256=None)


async def _touch(contract_id: int) -> None:
    changed = await db.rowcount_update(PurchaseContract, {PurchaseContract.updated_at: _now()},
                                       PurchaseContract.id == contract_id)
    if not changed:
        raise _not_found()


async def _sign_locked(row: dict, *, party: str, org_id: int, user_id: int | None, ip: str, method: str,
                       expected_sha256: str | None) -> dict:
    signature = await documents.sign(document_id=row["document"], party_role=party, org_id=org_id,
                                     user_id=user_id, ip=ip, method=method, expected_sha256=expected_sha256)
    signed = {s["party_role"] for s in await documents.signatures(row["document"])}
    if signed.issuperset(PARTIES):
        await db.transition(PurchaseContract, row["id"], to=ContractStatus.SIGNED, action="contract.signed",
                            extra={PurchaseContract.signed_at: _now()}, audit_after={"sha256": signature["sha256"]})
        row = await _row(row["id"])
        for callback in _signed_callbacks:
            await callback(row["id"])
    return {"contract": row, "signature": signature}


async def sign(*, contract_id: int, party: str, org_id: int, user_id: int | None, ip: str = "",
               expected_sha256: str | None = None) -> dict:
    """One party (buyer or holder) signs the issued PDF; the second signature completes the contract."""
    if party not in PARTIES:
        raise DomainError("contract.bad_party", "签署方应为买方（buyer）或数据持有方（holder）")
    async with db.atomic():
        # the row lock (PostgreSQL) serializes the two parties, so the second sees the first's signature
        await _touch(contract_id)
        row = await _row(contract_id)
        if org_id not in (row["buyer_org"], row["holder_org"]):
            raise _not_found()  # a stranger learns nothing about the contract
        if org_id != row[f"{party}_org"]:
            raise Forbidden("contract.not_party", N_("您的机构不是本合同的该签署方"))
        if row["status"] in (ContractStatus.SIGNED.value, ContractStatus.VOID.value):
            if row["status"] == ContractStatus.SIGNED.value:
                raise Conflict("document.already_signed", N_("该签署方已签署过此文件"))
            raise Conflict("contract.void", N_("合同已作废，不能签署"))
        row = await _open_for_signing(row)
        return await _sign_locked(row, party=party, org_id=org_id, user_id=user_id, ip=ip, method="in_app",
                                  expected_sha256=expected_sha256)


SIGNING_ROLES = {"buyer": frozenset({Role.BUYER.value}), "holder": frozenset({Role.HOLDER.value, Role.OPERATOR.value})}


async def sign_as(*, contract_id: int, org_id: int, roles: frozenset[str], user_id: int, ip: str = "",
                  party: str | None = None, expected_sha256: str | None = None) -> dict:
    """A user signs for its organization: the side follows from its organization and roles (a buyer
    signs as buyer, a holder or operator as holder); `party` picks one when both would fit."""
    row = await _row(contract_id)
    if org_id not in (row["buyer_org"], row["holder_org"]):
        raise _not_found()
    sides = [p for p in PARTIES if row[f"{p}_org"] == org_id and roles.intersection(SIGNING_ROLES[p])]
    if party is not None:
        if party not in PARTIES:
            raise DomainError("contract.bad_party", "签署方应为买方（buyer）或数据持有方（holder）")
        if party not in sides:
            raise Forbidden("contract.not_party", N_("您的机构不是本合同的该签署方"))
        sides = [party]
    if not sides:
        raise Forbidden("contract.not_party", N_("您的机构不是本合同的该签署方"))
    return await sign(contract_id=contract_id, party=sides[0], org_id=org_id, user_id=user_id, ip=ip,
                      expected_sha256=expected_sha256)


async def void(*, contract_id: int, reason: str) -> dict:
    """Withdraw a contract that is not yet signed by both (the order was cancelled, declined or expired)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("contract.reason_required", "请填写作废原因")
    return await db.transition(PurchaseContract, contract_id, to=ContractStatus.VOID, action="contract.voided",
                               extra={PurchaseContract.void_reason: reason[:500]}, audit_after={"reason": reason})


# ---- reading ---------------------------------------------------------------------------------


async def _visible(contract_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    row = await _row(contract_id)
    if roles.intersection(OVERSEERS):
        return row
    if org_id is None or org_id not in (row["buyer_org"], row["holder_org"]):
        raise _not_found()
    return row


async def get_contract(*, contract_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    """A contract with its terms, PDF digest and signatures, for its parties and overseers only."""
    row = await _visible(contract_id, org_id, roles)
    doc = await documents.get_document(row["document"])
    sigs = await documents.signatures(doc["id"])
    return {**row, "terms": json.loads(row["terms"]), "document": doc, "signatures": sigs}


async def contract_pdf(*, contract_id: int, org_id: int | None, roles: frozenset[str]) -> tuple[str, bytes]:
    """(file name, the exact PDF bytes issued) for a party or an overseer."""
    row = await _visible(contract_id, org_id, roles)
    data = await documents.pdf_bytes(row["document"])
    return f"数据产品购买合同-{row['number']}.pdf", data


async def list_contracts(*, org_id: int | None, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """The contracts an organization is a party to (as buyer or holder), newest first, with the PDF digest."""
    mine = (PurchaseContract.buyer_org == (org_id or 0)) | (PurchaseContract.holder_org == (org_id or 0))
    rows = await (PurchaseContract.select(
        PurchaseContract.id, PurchaseContract.number, PurchaseContract.status, PurchaseContract.buyer_org,
        PurchaseContract.holder_org, PurchaseContract.total_fen, PurchaseContract.terms, PurchaseContract.created_at,
        PurchaseContract.signed_at, PurchaseContract.document.sha256.as_alias("sha256"),
    ).where(mine).order_by(PurchaseContract.id, ascending=False).limit(page_size).offset((page - 1) * page_size))
    out = []
    for row in rows:
        terms = json.loads(row.pop("terms") or "{}")
        out.append({**row, "buyer_name": terms.get("buyer", {}).get("name", ""),
                    "holder_name": terms.get("holder", {}).get("name", ""),
                    "title": terms.get("product", {}).get("title", ""), "sha256": row["sha256"] or None})
    return out, await PurchaseContract.count().where(mine)


async def find_by_document(document_id: int) -> dict | None:
    return await PurchaseContract.select().where(PurchaseContract.document == document_id).first()


async def verify_digest(sha256: str) -> dict:
    """Whether the platform issued a PDF with this digest; for a purchase contract, its number and status."""
    result = await documents.verify_digest(sha256)
    if result["issued"] and result["document"]["kind"] == KIND:
        row = await find_by_document(result["document"]["id"])
        if row is not None:
            result["contract"] = {"id": row["id"], "number": row["number"], "status": row["status"],
                                  "signed_at": row["signed_at"]}
    return result


async def verify(pdf_bytes: bytes) -> dict:
    """verify_digest for a PDF held in memory."""
    import hashlib

    return await verify_digest(hashlib.sha256(pdf_bytes).hexdigest())


async def verify_stream(read) -> dict:
    """verify_digest for an upload read in chunks (bounded, never held whole)."""
    sha256, _size = await documents.digest_stream(read)
    return await verify_digest(sha256)
