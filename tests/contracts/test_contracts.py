"""Purchase contracts through the services: drafted from terms, rendered by the real job path,
signed by both parties (or countersigned automatically), verified, voided; bad moves refused."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from contract_factories import flat, pdffonts, pdftotext, terms_for
from contracts import _terms, service
from contracts.tables import PurchaseContract
from factories import make_org
from market import documents, pdf
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.tables import AuditEvent, Document, OutboxMessage, Signature

ADMIN = frozenset({"admin"})


async def _drafted(job_runtime, *, render: bool = True, auto: bool = False, **overrides):
    buyer, holder = await make_org(), await make_org(kind="government")
    contract = await service.draft_purchase_contract(terms=terms_for(buyer, holder, **overrides),
                                                     auto_countersign=auto)
    if render:
        await job_runtime.drain(timeout=120)
    return buyer, holder, await service.get_contract(contract_id=contract["id"], org_id=None, roles=ADMIN)


async def test_contract_renders_through_the_job_with_its_chinese_text_and_font(job_runtime, tmp_path):
    buyer, holder, c = await _drafted(job_runtime)
    assert c["status"] == "awaiting_signatures" and c["number"].startswith("HT-")
    assert c["template_version"] == 2 and c["document"]["status"] == "rendered"
    _name, data = await service.contract_pdf(contract_id=c["id"], org_id=buyer["id"], roles=frozenset({"buyer"}))
    assert hashlib.sha256(data).hexdigest() == c["document"]["sha256"]
    text = flat(pdftotext(data))
    for needle in (buyer["name"], holder["name"], buyer["credit_code"], "ZJ-HZ-2026-000123", c["number"],
                   "杭州市区县常住人口", "产业发展", "保险精算定价", "自2026年1月1日起至2026年12月31日止",
                   "¥12,345.67", "¥13,086.41", "人民币壹万叁仟零捌拾陆元肆角壹分", "禁止转售", "禁止重新识别",
                   "交付文件含不可见的数字水印，可追溯泄露来源", "文件下载", "可获取自合同生效时的版本"):
        assert needle in text, needle
    cjk = [f for f in pdffonts(data, tmp_path) if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" and f[-4] == "yes" for f in cjk), cjk  # embedded, subset

    # the frozen context and the stored template version render the same bytes again
    doc = await documents.get_document(c["document"]["id"])
    html = documents.render_html(doc["template"], json.loads(doc["context"]))
    again = await asyncio.to_thread(pdf.render_pdf, html, str(documents.TEMPLATES))
    assert hashlib.sha256(again).hexdigest() == doc["sha256"]


async def test_both_parties_sign_the_same_bytes_with_ip_and_audit(job_runtime):
    buyer, holder, c = await _drafted(job_runtime)
    sha = c["document"]["sha256"]
    first = await service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None,
                               ip="203.0.113.7", expected_sha256=sha)
    assert first["contract"]["status"] == "awaiting_signatures"
    assert (first["signature"]["sha256"], first["signature"]["ip"]) == (sha, "203.0.113.7")
    second = await service.sign(contract_id=c["id"], party="holder", org_id=holder["id"], user_id=None,
                                ip="198.51.100.2")
    assert second["contract"]["status"] == "signed" and second["contract"]["signed_at"] is not None
    events = await (AuditEvent.select(AuditEvent.action, AuditEvent.after)
                    .where(AuditEvent.action.is_in(["document.signed", "contract.signed"])).order_by(AuditEvent.seq))
    assert [e["action"] for e in events] == ["document.signed", "document.signed", "contract.signed"]
    assert "203.0.113.7" in events[0]["after"] and sha in events[0]["after"] and "198.51.100.2" in events[1]["after"]

    result = await service.verify(await documents.pdf_bytes(c["document"]["id"]))
    assert result["issued"] and result["contract"]["number"] == c["number"] and result["contract"]["status"] == "signed"
    assert sorted(s["party_role"] for s in result["signatures"]) == ["buyer", "holder"]
    assert all(s["sha256_matches"] for s in result["signatures"])


async def _state(contract_id: int) -> tuple:
    row = await PurchaseContract.select().where(PurchaseContract.id == contract_id).first()
    return (row["status"], row["updated_at"], await Signature.count(), await AuditEvent.count())


async def test_bad_signatures_are_refused_and_change_nothing(job_runtime):
    buyer, holder, pending = await _drafted(job_runtime, render=False)
    stranger = await make_org()

    # before the PDF is rendered
    before = await _state(pending["id"])
    with pytest.raises(Conflict) as err:
        await service.sign(contract_id=pending["id"], party="buyer", org_id=buyer["id"], user_id=None)
    assert err.value.code == "contract.not_ready"
    assert await _state(pending["id"]) == before

    await job_runtime.drain(timeout=120)
    await service.sign(contract_id=pending["id"], party="buyer", org_id=buyer["id"], user_id=None, ip="10.1.1.1")
    before = await _state(pending["id"])
    cases = [
        (dict(party="buyer", org_id=buyer["id"]), Conflict, "document.already_signed"),  # twice
        (dict(party="holder", org_id=buyer["id"]), Forbidden, "contract.not_party"),  # the other side
        (dict(party="buyer", org_id=stranger["id"]), NotFound, "contract.not_found"),  # not a party
        (dict(party="agency", org_id=holder["id"]), DomainError, "contract.bad_party"),
        (dict(party="holder", org_id=holder["id"], expected_sha256="f" * 64), Conflict, "document.hash_mismatch"),
    ]
    for kwargs, exc, code in cases:
        with pytest.raises(exc) as err:
            await service.sign(contract_id=pending["id"], user_id=None, ip="10.9.9.9", **kwargs)
        assert err.value.code == code, kwargs
        assert await _state(pending["id"]) == before, kwargs
    with pytest.raises(NotFound):
        await service.sign(contract_id=999_999, party="buyer", org_id=buyer["id"], user_id=None)


async def test_holder_may_countersign_automatically(job_runtime):
    buyer, holder, c = await _drafted(job_runtime, auto=True)
    assert [(s["party_role"], s["method"], s["user"]) for s in c["signatures"]] == [("holder", "auto", None)]
    assert c["status"] == "awaiting_signatures"
    done = await service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None, ip="10.0.0.3")
    assert done["contract"]["status"] == "signed"
    # the job told of the rendering runs again (at-least-once delivery): still exactly two signatures
    from contracts import tasks
    from market import jobs

    await jobs.enqueue(tasks.contract_rendered, document_id=c["document"]["id"])
    await job_runtime.drain(timeout=60)
    assert await Signature.count().where(Signature.document == c["document"]["id"]) == 2


async def test_countersigning_still_happens_when_the_buyer_signed_first(job_runtime):
    """The PDF is signable once rendered, before the job that countersigns runs: a quick buyer must not
    leave the contract waiting for a holder signature that never comes (the checkout bench found it)."""
    told: list[int] = []

    async def tell(contract_id: int) -> None:
        told.append(contract_id)

    service.on_signed(tell)
    try:
        buyer, holder, c = await _drafted(job_runtime, auto=False)
        await service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None)
        # the state the race leaves: rendered, opened and signed by the buyer, countersign job still queued
        await PurchaseContract.update({PurchaseContract.auto_countersign: True}).where(PurchaseContract.id == c["id"])
        assert told == []
        await service.on_document_rendered(document_id=c["document"]["id"])
        done = await service.get_contract(contract_id=c["id"], org_id=None, roles=ADMIN)
        assert done["status"] == "signed"
        assert sorted((s["party_role"], s["method"]) for s in done["signatures"]) == [
            ("buyer", "in_app"), ("holder", "auto")]
        assert told == [c["id"]]  # the order side hears of the second signature at once, exactly once
        await service.on_document_rendered(document_id=c["document"]["id"])  # delivered again: no change
        assert await Signature.count().where(Signature.document == c["document"]["id"]) == 2
        assert told == [c["id"]]
    finally:
        service._signed_callbacks.remove(tell)


async def test_void_before_signing_and_signing_a_void_contract_is_refused(job_runtime):
    buyer, _holder, c = await _drafted(job_runtime)
    with pytest.raises(DomainError) as err:
        await service.void(contract_id=c["id"], reason=" ")
    assert err.value.code == "contract.reason_required"
    voided = await service.void(contract_id=c["id"], reason="订单已取消")
    assert voided["status"] == "void"
    with pytest.raises(Conflict) as err:
        await service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None)
    assert err.value.code == "contract.void"


async def test_bad_terms_are_refused_and_nothing_is_kept(job_runtime):
    buyer, holder = await make_org(), await make_org()
    bad = [
        ({"purpose": "resale"}, "contract.bad_terms"),
        ({"price": {"amount_fen": 100, "tax_fen": 6, "total_fen": 107}}, "contract.price_mismatch"),
        ({"price": {"amount_fen": -1, "tax_fen": 0, "total_fen": -1}}, "contract.bad_terms"),
        ({"term": {"start": "2026-12-31", "end": "2026-01-01"}}, "contract.bad_terms"),
        ({"product": {"title": "x"}}, "contract.bad_terms"),
        ({"holder": {"org_id": buyer["id"], "name": buyer["name"], "credit_code": buyer["credit_code"]}},
         "contract.same_party"),
    ]
    for override, code in bad:
        with pytest.raises(DomainError) as err:
            await service.draft_purchase_contract(terms=terms_for(buyer, holder, **override))
        assert err.value.code == code, override
    assert await PurchaseContract.count() == 0 and await Document.count() == 0
    assert await OutboxMessage.count().where(OutboxMessage.actor_name == "market.render_document") == 0


async def test_a_one_time_free_contract_says_so(job_runtime):
    buyer, holder, c = await _drafted(job_runtime, purpose="public_welfare", term={"one_time": True},
                                      price={"amount_fen": 0, "tax_fen": 0, "total_fen": 0})
    text = flat(pdftotext(await documents.pdf_bytes(c["document"]["id"])))
    assert "公益事业" in text and "一次性交付" in text and "人民币零元整" in text


# ---- the rendering property ---------------------------------------------------------------------

_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_NAME = st.text(_CJK, min_size=2, max_size=24).map(lambda s: s + "有限公司")


@hsettings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(buyer=_NAME, holder=_NAME, amount=st.integers(0, 10**11), tax=st.integers(0, 10**9))
def test_every_rendering_names_both_parties_and_the_amount_in_words(buyer, holder, amount, tax):
    """For any parties and price, the current template prints both names and the total in 大写."""
    terms = terms_for({"id": 1, "name": buyer, "credit_code": "91330100MA27XL6Y7K"},
                      {"id": 2, "name": holder, "credit_code": "11330100002493067N"},
                      price={"amount_fen": amount, "tax_fen": tax, "total_fen": amount + tax, "tax_rate_bps": 600})
    t = _terms.normalise(terms)
    version = documents.template_versions("purchase_contract")[-1]
    context = {**t, "number": "HT-2026-000001", "issued_on": "2026-01-01", "issued_on_text": "2026年1月1日"}
    html = documents.render_html(documents.template_name("purchase_contract", version), context)
    text = flat(pdftotext(pdf.render_pdf(html)))
    assert buyer in text and holder in text
    assert "人民币" + t["price"]["total_upper"] in text


async def test_concurrent_signatures_complete_the_contract_exactly_once(job_runtime):
    buyer, holder, c = await _drafted(job_runtime)
    results = await asyncio.gather(
        service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None, ip="10.0.0.1"),
        service.sign(contract_id=c["id"], party="holder", org_id=holder["id"], user_id=None, ip="10.0.0.2"),
        service.sign(contract_id=c["id"], party="buyer", org_id=buyer["id"], user_id=None, ip="10.0.0.3"),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert [getattr(r, "code", repr(r)) for r in refused] == ["document.already_signed"]
    row = await service.get_contract(contract_id=c["id"], org_id=None, roles=ADMIN)
    assert row["status"] == "signed" and len(row["signatures"]) == 2
    assert await AuditEvent.count().where(AuditEvent.action == "contract.signed") == 1
