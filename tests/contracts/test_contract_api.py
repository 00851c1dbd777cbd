"""The contracts API and the public 验证合同 page: who may read and sign, what verification says."""

from __future__ import annotations

import hashlib

from contract_factories import terms_for
from contracts import service
from factories import login, make_org, make_user
from market import documents
from market.tables import Signature


async def _contract(job_runtime, *, render: bool = True):
    buyer_org, holder_org = await make_org(), await make_org(kind="government")
    buyer = await make_user(["buyer"], org=buyer_org)
    holder = await make_user(["holder"], org=holder_org)
    c = await service.draft_purchase_contract(terms=terms_for(buyer_org, holder_org))
    if render:
        await job_runtime.drain(timeout=120)
    return buyer, holder, c


async def test_parties_and_overseers_read_the_contract_and_its_pdf_others_are_refused(client, job_runtime):
    buyer, holder, c = await _contract(job_runtime)
    doc = await documents.get_document(c["document"])
    regulator = await make_user(["regulator"])
    admin = await make_user(["admin"])
    for who in (buyer, holder, regulator, admin):
        client.cookies.clear()
        await login(client, who)
        resp = await client.get(f"/api/v1/contracts/{c['id']}")
        assert resp.status_code == 200, (who["email"], resp.text)
        body = resp.json()
        assert body["number"] == c["number"] and body["document"]["sha256"] == doc["sha256"]
        resp = await client.get(f"/api/v1/contracts/{c['id']}/contract.pdf")
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(resp.content).hexdigest() == doc["sha256"]

    # another buyer, another holder, an agency: the contract does not exist for them
    for roles in (["buyer"], ["holder"], ["agency"], ["operator"]):
        client.cookies.clear()
        await login(client, await make_user(roles))
        for url in (f"/api/v1/contracts/{c['id']}", f"/api/v1/contracts/{c['id']}/contract.pdf"):
            resp = await client.get(url)
            assert resp.status_code == 404 and resp.json()["code"] == "contract.not_found", (roles, url)
    client.cookies.clear()
    assert (await client.get(f"/api/v1/contracts/{c['id']}")).status_code == 401
    assert (await client.get(f"/api/v1/contracts/{c['id']}/contract.pdf")).status_code == 401


async def test_signing_through_the_api_records_the_callers_address(client, job_runtime):
    buyer, holder, c = await _contract(job_runtime)
    doc = await documents.get_document(c["document"])

    # a user of the buyer's organization without the buyer role cannot sign for it
    clerk = await make_user(["agency"], org=buyer["org"])
    csrf = await login(client, clerk)
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403

    client.cookies.clear()
    csrf = await login(client, buyer)
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={"party": "holder"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403 and resp.json()["code"] == "contract.not_party"
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={"sha256": doc["sha256"]},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "awaiting_signatures"
    [sig] = body["signatures"]
    assert sig["party_role"] == "buyer" and sig["user_id"] == buyer["id"] and sig["sha256"] == doc["sha256"]
    assert sig["ip"]  # the test client's address
    again = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["code"] == "document.already_signed"
    assert "已签署" in again.json()["message"]

    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.json()["status"] == "signed"
    assert await Signature.count().where(Signature.document == c["document"]) == 2


async def test_signing_before_the_pdf_exists_is_refused_in_the_callers_language(client, job_runtime):
    buyer, _holder, c = await _contract(job_runtime, render=False)
    csrf = await login(client, buyer)
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 409 and resp.json()["code"] == "contract.not_ready"
    assert "正在生成" in resp.json()["message"]
    client.cookies.set("lang", "en")
    resp = await client.post(f"/api/v1/contracts/{c['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 409 and "being generated" in resp.json()["message"]
    assert await Signature.count() == 0


async def test_verify_api_and_page_tell_an_issued_pdf_from_a_tampered_or_foreign_one(client, job_runtime):
    buyer, holder, c = await _contract(job_runtime)
    data = await documents.pdf_bytes(c["document"])
    await service.sign(contract_id=c["id"], party="buyer", org_id=buyer["org"]["id"], user_id=buyer["id"],
                       ip="192.0.2.10")
    tampered = bytearray(data)
    tampered[len(data) // 3] ^= 0x20

    resp = await client.post("/api/v1/contracts/verify", files={"file": ("c.pdf", data, "application/pdf")})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["issued"] is True and body["contract"]["number"] == c["number"]
    assert {p["name"] for p in body["parties"]} == {buyer["org"]["name"], holder["org"]["name"]}
    assert [s["party_role"] for s in body["signatures"]] == ["buyer"] and "ip" not in body["signatures"][0]
    for other in (bytes(tampered), b"%PDF-1.7\n%%EOF\n", "随便一段文字".encode()):
        resp = await client.post("/api/v1/contracts/verify", files={"file": ("x.pdf", other, "application/pdf")})
        assert resp.status_code == 200 and resp.json() == {"issued": False,
                                                           "sha256": hashlib.sha256(other).hexdigest()}
    resp = await client.post("/api/v1/contracts/verify", files={"other": ("x.txt", b"x", "text/plain")})
    assert resp.status_code == 400 and resp.json()["code"] == "upload.no_file"

    page = await client.get("/contracts/verify")
    assert page.status_code == 200 and "验证合同" in page.text
    page = await client.post("/contracts/verify", files={"file": ("c.pdf", data, "application/pdf")})
    assert page.status_code == 200 and "平台签发的原件，未被改动" in page.text
    assert c["number"] in page.text and buyer["org"]["name"] in page.text and "192.0.2.10" not in page.text
    page = await client.post("/contracts/verify", files={"file": ("c.pdf", bytes(tampered), "application/pdf")})
    assert page.status_code == 200 and "不是平台签发的文件" in page.text
    client.cookies.set("lang", "en")
    page = await client.post("/contracts/verify", files={"file": ("c.pdf", bytes(tampered), "application/pdf")})
    assert "Not a document issued by the platform" in page.text
