"""The regulator's desk: an alert of each kind raised from a situation set up through the services, the
scan idempotent, the audit chain verified on the desk, the annual report as PDF and public page, and
every route refusing the wrong roles."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest

from billing import orders as billing_orders
from billing.oversight import service
from billing.oversight.tables import OversightAlert
from contracts.tables import PurchaseContract
from desk_factories import active, parties
from factories import login, make_listing, make_org, make_user
from listings import service as listings_service
from listings.registration.tables import Registration
from market.context import Actor, acting_as
from market.tables import AuditEvent
from operators import service as operators_service
from order_steps import buy

_keys = itertools.count(1)


async def _order(buyer: dict, listing: dict, purpose: str = "industry") -> dict:
    with acting_as(Actor(user_id=buyer["id"], org_id=buyer["org"]["id"], label="buyer")):
        order, _ = await billing_orders.create_order(
            listing_id=listing["listing"]["id"], plan_id=listing["plans"][0]["id"], purpose=purpose,
            purpose_note="用于区域分析", buyer_org_id=buyer["org"]["id"], user_id=buyer["id"],
            idempotency_key=f"desk-{next(_keys)}")
    return order


async def _operator_with_product(job_runtime) -> dict:
    """An operator selling a product of an asset its active agreement covers (purposes: industry, welfare)."""
    p = await parties()
    listing = await make_listing(p["operator"], job_runtime, price_fen=80_000, title="就医需求预测")
    asset_id = listing["listing"]["asset"]
    p["agreement"] = await active(p, job_runtime, scope={"asset_ids": [asset_id], "categories": []},
                                  max_revenue_fen=100_000)
    p["listing"] = listing
    return p


def _pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode("utf-8")


async def test_an_alert_of_each_kind_and_the_scan_is_idempotent(client, job_runtime):
    p = await _operator_with_product(job_runtime)
    buyer = await make_user(["buyer"])
    # price above cap: the agency lowers the cap of a public-data listing below an open order's price
    gov = await make_user(["holder", "agency"], org=await make_org(kind="government"))
    public = await make_listing(gov, job_runtime, price_fen=50_000, cap_fen=60_000, title="门诊人次统计")
    above = await _order(buyer, public)
    await listings_service.set_cap(listing_id=public["listing"]["id"], agency_org_id=gov["org"]["id"],
                                   cap_fen=40_000, basis="降低上限的测试依据")
    # purpose outside scope: the agreement permits industry and welfare, not sector development
    outside = await _order(buyer, p["listing"], purpose="sector")
    # a delivered order whose contract is then voided outside the services (what the scan exists to catch)
    delivered = await buy(client, job_runtime, buyer=buyer, holder=p["operator"], listing_id=p["listing"]["listing"]["id"],
                          plan_id=p["listing"]["plans"][0]["id"])
    first = await service.scan(daily_orders=100)
    assert first == {"price_above_cap": 1, "purpose_outside_scope": 1, "delivery_without_contract": 0,
                     "revenue_above_max": 0, "source_outside_scope": 0, "unusual_volume": 0}, first
    await PurchaseContract.update({PurchaseContract.status: "void"}).where(
        PurchaseContract.id == delivered["contract"]["id"])
    # revenue above the permitted maximum: raised at once by the operators event, not waiting for a scan
    with acting_as(Actor(label="billing")):
        await operators_service.record_revenue(agreement_id=p["agreement"]["id"], amount_fen=150_000,
                                               ref="desk-revenue-1")
    await job_runtime.drain(timeout=60)
    event_alerts = await service.alerts(kind="revenue_above_max")
    assert len(event_alerts) == 1 and event_alerts[0]["source"] == "event"
    assert event_alerts[0]["object"] == f"authorization_agreement:{p['agreement']['id']}"
    # a source used outside scope: the agreement is suspended while its product stays on sale
    agency = p["agency"]
    with acting_as(Actor(user_id=agency["id"], org_id=agency["org"]["id"], label="agency")):
        await operators_service.suspend(agreement_id=p["agreement"]["id"], org_id=agency["org"]["id"],
                                        roles=frozenset({"agency"}), reason="安全检查")

    found = await service.scan(daily_orders=2)  # the buyer placed 3 orders today
    assert found == {"price_above_cap": 0, "purpose_outside_scope": 0, "delivery_without_contract": 1,
                     "revenue_above_max": 0, "source_outside_scope": 1, "unusual_volume": 1}, found
    by_kind = {a["kind"]: a for a in await service.alerts()}
    assert by_kind["price_above_cap"]["object"] == f"order:{above['id']}"
    assert by_kind["price_above_cap"]["detail"]["cap_now_fen"] == 40_000
    assert by_kind["purpose_outside_scope"]["object"] == f"order:{outside['id']}"
    assert by_kind["delivery_without_contract"]["object"] == f"order:{delivered['id']}"
    assert by_kind["source_outside_scope"]["object"] == f"listing:{p['listing']['listing']['id']}"
    assert by_kind["unusual_volume"]["object"] == f"organization:{buyer['org']['id']}"
    # running it again stores nothing new
    before = await OversightAlert.count()
    assert set((await service.scan(daily_orders=2)).values()) == {0}
    assert await OversightAlert.count() == before == 6
    # the API lists them with kind, object and time, for regulators
    await login(client, await make_user(["regulator"]))
    items = (await client.get("/api/v1/regulator/alerts")).json()["items"]
    assert {i["kind"] for i in items} == set(service.KINDS)
    assert all(i["object"] and i["created_at"] for i in items)
    only = (await client.get("/api/v1/regulator/alerts", params={"kind": "price_above_cap"})).json()["items"]
    assert [i["kind"] for i in only] == ["price_above_cap"]
    assert (await client.get("/api/v1/regulator/alerts", params={"kind": "nonsense"})).status_code == 400
    page = await client.get("/regulator")
    assert page.status_code == 200 and "价格超过上限收费标准" in page.text and "尚无加工产品" in page.text
    caps = (await client.get("/api/v1/regulator/caps")).json()["items"]
    assert [c["above"] for c in caps if c["id"] == public["listing"]["id"]] == [True]
    assert (await client.get("/regulator/trade")).status_code == 200


async def test_a_cap_above_every_price_raises_nothing(job_runtime):
    gov = await make_user(["holder", "agency"], org=await make_org(kind="government"))
    public = await make_listing(gov, job_runtime, price_fen=50_000, cap_fen=60_000)
    await _order(await make_user(["buyer"]), public)
    assert set((await service.scan()).values()) == {0}


async def test_the_desk_verifies_the_audit_chain_and_shows_a_break(client, job_runtime):
    await make_listing(await make_user(["holder"]), job_runtime)
    token = await login(client, await make_user(["regulator"]))
    resp = await client.post("/regulator/audit", data={"_csrf": token})
    assert resp.status_code == 200 and 'data-ok="true"' in resp.text
    events = await AuditEvent.count()
    api = (await client.post("/api/v1/regulator/audit/verify", headers={"X-CSRF-Token": token})).json()
    assert api["ok"] and api["events"] >= events
    # an event edited in place breaks the chain, and the desk says where
    victim = await AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq).limit(1).offset(2).first()
    await AuditEvent.update({AuditEvent.action: "listing.tampered"}).where(AuditEvent.seq == victim["seq"])
    resp = await client.post("/regulator/audit", data={"_csrf": token})
    assert 'data-ok="false"' in resp.text
    api = (await client.post("/api/v1/regulator/audit/verify", headers={"X-CSRF-Token": token})).json()
    assert not api["ok"] and api["first_bad_seq"] == victim["seq"]


async def test_annual_report_pdf_names_the_operator_and_its_figures(client, job_runtime, tmp_path: Path):
    p = await _operator_with_product(job_runtime)
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=p["operator"], listing_id=p["listing"]["listing"]["id"],
                      plan_id=p["listing"]["plans"][0]["id"])
    org_id, year = p["operator"]["org"]["id"], order["created_at"][:4]
    # the code on the order (and so on its contract and invoice) is the one the register gave the product
    registered = await Registration.select(Registration.code).where(
        Registration.listing == p["listing"]["listing"]["id"]).first()
    assert order["registration_code"] == registered["code"] != ""
    await login(client, buyer)
    contract = await client.get(f"/api/v1/orders/{order['id']}/contract.pdf")
    assert registered["code"] in "".join(_pdftotext(contract.content).split())
    client.cookies.clear()
    report = await service.annual_report(operator_org_id=org_id, year=int(year))
    assert report["sales"]["orders"] == 1 and report["sales"]["amount_fen"] == 80_000
    assert [a["number"] for a in report["agreements"]] == [p["agreement"]["number"]]
    token = await login(client, await make_user(["regulator"]))
    body = {"kind": "annual_report", "org_id": org_id, "year": int(year)}
    first = await client.post("/api/v1/regulator/reports", json=body, headers={"X-CSRF-Token": token})
    assert first.status_code == 201, first.text
    await job_runtime.drain(timeout=120)
    again = await client.post("/api/v1/regulator/reports", json=body, headers={"X-CSRF-Token": token})
    assert again.json() == {**first.json(), "status": "rendered"}  # the same figures: the same document
    resp = await client.get(f"/api/v1/reports/annual_report/{org_id}/pdf?year={year}")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    text = "".join(_pdftotext(resp.content).split())
    assert p["operator"]["org"]["name"] in text and "年度经营情况报告" in text
    assert p["agreement"]["number"] in text and "¥800.00" in text and "就医需求预测" in text
    path = tmp_path / "report.pdf"
    path.write_bytes(resp.content)
    fonts = [line.split() for line in subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                                                     check=True).stdout.splitlines()[2:]]
    cjk = [f for f in fonts if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" for f in cjk), fonts  # embedded
    # the public pages: anyone reads the report and the disclosures, and downloads the PDF
    client.cookies.clear()
    page = await client.get(f"/disclosures/annual_report/{org_id}?year={year}")
    assert page.status_code == 200 and p["operator"]["org"]["name"] in page.text and "下载 PDF" in page.text
    assert (await client.get(f"/disclosures/annual_report/{org_id}/{year}/pdf")).content == resp.content
    agency_page = await client.get(f"/disclosures/agency_disclosure/{p['agency']['org']['id']}?year={year}")
    assert p["agreement"]["number"] in agency_page.text and "就医需求预测接口" in agency_page.text
    operator_page = await client.get(f"/disclosures/operator_disclosure/{org_id}?year={year}")
    assert "¥800.00" in operator_page.text
    assert p["operator"]["org"]["name"] in (await client.get("/disclosures")).text
    data = (await client.get(f"/api/v1/reports/operator_disclosure/{org_id}?year={year}")).json()
    assert data["fees"][0]["orders"] == 1


async def test_an_operator_issues_its_own_report_and_no_one_elses(client, job_runtime):
    p = await _operator_with_product(job_runtime)
    token = await login(client, p["operator"])
    own = {"kind": "operator_disclosure", "org_id": p["operator"]["org"]["id"], "year": 2026}
    assert (await client.post("/api/v1/regulator/reports", json=own, headers={"X-CSRF-Token": token})).status_code == 201
    other = {**own, "org_id": p["holder"]["org"]["id"]}
    assert (await client.post("/api/v1/regulator/reports", json=other, headers={"X-CSRF-Token": token})).status_code == 403
    agency = {**own, "kind": "agency_disclosure"}
    assert (await client.post("/api/v1/regulator/reports", json=agency, headers={"X-CSRF-Token": token})).status_code == 403


@pytest.mark.parametrize("role", ["holder", "buyer", "agency", "operator"])
async def test_wrong_roles_are_refused_on_every_desk_route(client, role):
    desk_only = [("get", "/api/v1/regulator/alerts", None), ("post", "/api/v1/regulator/alerts/scan", {}),
                 ("get", "/api/v1/regulator/caps", None), ("post", "/api/v1/regulator/audit/verify", {}),
                 ("get", "/regulator", None), ("post", "/regulator/scan", {}), ("post", "/regulator/audit", {}),
                 ("get", "/regulator/trade", None), ("get", "/regulator/reports", None)]
    issuers = [("post", "/api/v1/regulator/reports", {"kind": "annual_report", "org_id": 1, "year": 2026}),
               ("post", "/regulator/reports", {"kind": "annual_report", "org_id": "1", "year": "2026"})]
    token = await login(client, await make_user([role]))
    for method, url, payload in desk_only + (issuers if role in ("holder", "buyer") else []):
        if url.startswith("/api/"):
            kw = {"json": payload, "headers": {"X-CSRF-Token": token}} if method == "post" else {}
        else:
            kw = {"data": {**payload, "_csrf": token}} if method == "post" else {}
        resp = await getattr(client, method)(url, **kw)
        assert resp.status_code == 403, (role, method, url, resp.status_code)
    client.cookies.clear()
    for method, url, payload in desk_only + issuers:
        if url.startswith("/api/"):
            resp = await getattr(client, method)(url, **({"json": payload} if method == "post" else {}))
            assert resp.status_code in (401, 403), (method, url)
