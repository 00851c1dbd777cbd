"""The API's edge: ids out of range are not found (never a database error), integers in queries and bodies
are bounded, and the OpenAPI document describes the errors as they are served."""

from __future__ import annotations

import re

import jsonschema
import pytest
from litestar.routes import HTTPRoute

from factories import make_listing, make_user
from order_steps import buy
from market import identity
from market.api_contract import ID_MAX
from market.tables import Role

HUGE = str(-458003757248363741839360)  # the id the fuzzer found: it used to reach the database and fail there
BAD_IDS = [HUGE, str(2**63 - 1), str(ID_MAX + 1), "0", "-1", "+1", "01", "1_0", "%D9%A1", "abc", "1.5"]
ALL_ROLES = [r.value for r in Role]


async def _bearer() -> dict:
    """An API key of a user holding every role: access rules let it through, so the id is what is judged
    (and API keys need no CSRF token, pages included)."""
    user = await make_user(ALL_ROLES)
    _, secret = await identity.create_api_key(user_id=user["id"], organization_id=user["org"]["id"], name="k")
    return {"Authorization": f"Bearer {secret}"}


def _id_routes(app):
    for route in app.routes:
        if isinstance(route, HTTPRoute) and ":int}" in route.path:
            for method in sorted(set(route.methods) - {"HEAD", "OPTIONS"}):
                yield route.path, method


async def test_an_id_out_of_range_or_not_plain_is_not_found_on_every_route(app, client):
    headers = await _bearer()
    seen = []
    for path, method in _id_routes(app):
        for bad in BAD_IDS:
            url = re.sub(r"\{[^}]+:int\}", bad, path)
            resp = await client.request(method, url, headers=headers, follow_redirects=False,
                                        **({"json": {}} if path.startswith("/api/") and method != "GET" else {}))
            seen.append(path)
            assert resp.status_code == 404, f"{method} {url} -> {resp.status_code} {resp.text[:200]}"
            if path.startswith("/api/"):
                assert resp.json()["code"] == "not_found", url
    assert len(set(seen)) > 30  # API and page routes alike


async def test_the_largest_id_is_looked_up_and_simply_not_found(client):
    headers = await _bearer()
    for url in [f"/api/v1/assets/{ID_MAX}", f"/api/v1/listings/{ID_MAX}", f"/api/v1/demands/{ID_MAX}",
                f"/api/v1/entitlements/{ID_MAX}", f"/my/data/{ID_MAX}"]:
        assert (await client.get(url, headers=headers)).status_code == 404, url


async def test_not_found_speaks_the_callers_language(client):
    headers = await _bearer()
    client.cookies.set("lang", "en")
    body = (await client.get(f"/api/v1/listings/{HUGE}/quote?plan_id=1&purpose=industry", headers=headers)).json()
    assert body == {"code": "not_found", "message": "Not found"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _integer(schema: dict) -> dict | None:
    """The integer schema of a parameter (`int` or `int | None`), with the bounds declared on either level."""
    for branch in [schema, *schema.get("oneOf", [])]:
        if branch.get("type") == "integer":
            return {**branch, **{k: schema[k] for k in ("minimum", "maximum") if k in schema}}
    return None


async def test_every_integer_query_parameter_is_bounded(client):
    headers = await _bearer()
    spec = (await client.get("/schema/openapi.json")).json()
    checked = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                schema = _integer(param["schema"]) if param["in"] == "query" else None
                if schema is None:
                    continue
                assert "minimum" in schema and "maximum" in schema, f"{method} {path} {param['name']}"
                for value in (2**70, -(2**70), schema["maximum"] + 1, schema["minimum"] - 1):
                    url = f"{_concrete(path)}?{param['name']}={value}"
                    resp = await client.request(method.upper(), url, headers=headers)
                    assert resp.status_code == 400, f"{url} -> {resp.status_code} {resp.text[:200]}"
                    assert resp.json()["code"] in ("request.out_of_range", "request.invalid"), url
                checked += 1
    assert checked >= 10  # page and page_size of four lists, the search filters, the quote's plan and calls


async def test_page_numbers_and_sizes_are_refused_outside_their_bounds(client):
    headers = await _bearer()
    for query in ["page=0", "page=-3", "page=100001", "page_size=0", "page_size=201"]:
        resp = await client.get(f"/api/v1/demands?{query}", headers=headers)
        assert resp.status_code == 400 and resp.json()["code"] == "request.invalid", query
    ok = await client.get("/api/v1/demands?page=3&page_size=200", headers=headers)
    assert ok.status_code == 200 and ok.json()["page"] == 3 and ok.json()["page_size"] == 200
    # pages (HTML) are lenient: a far page shows an empty list (its OFFSET used to overflow: a 500) ...
    assert (await client.get(f"/demands?page_no={10**18}", headers=headers)).status_code == 200
    # ... within what an integer parameter may be at all
    assert (await client.get(f"/demands?page_no={10**21}", headers=headers)).status_code == 400


def _minimal(schema: dict, components: dict) -> dict:
    """A body with every required field present, of the declared type."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    fill = {"string": "x", "integer": 1, "boolean": True, "array": [], "object": {}}
    body = {}
    for name in schema.get("required", []):
        prop = schema["properties"][name]
        kind = prop.get("type") or next((s.get("type") for s in prop.get("oneOf", []) if s.get("type") != "null"),
                                        "string")
        body[name] = fill.get(kind, "x")
    return body


async def test_every_integer_field_of_a_json_body_is_bounded(client):
    headers = await _bearer()
    spec = (await client.get("/schema/openapi.json")).json()
    components = spec["components"]["schemas"]
    checked = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if not ref:
                continue
            schema = components[ref["$ref"].rsplit("/", 1)[-1]] if "$ref" in ref else ref
            for name, prop in (schema.get("properties") or {}).items():
                integer = _integer(prop)
                if integer is None:
                    continue
                assert "minimum" in integer and "maximum" in integer, f"{method} {path} {name}"
                for value in (2**70, -(2**70), integer["maximum"] + 1, integer["minimum"] - 1):
                    body = {**_minimal(ref, components), name: value}
                    resp = await client.request(method.upper(), _concrete(path), json=body, headers=headers)
                    assert resp.status_code == 400, f"{method} {path} {name}={value} -> {resp.status_code}"
                    assert resp.json()["code"] == "request.invalid"
                checked.append(f"{method} {path} {name}")
    # listings (asset), plans (prices, months, calls), caps, orders (listing, plan, quantity), demands (budget),
    # answers (listing)
    assert len(checked) >= 8, checked


async def test_a_body_number_is_checked_against_its_column_not_only_64_bits(client, job_runtime):
    """A plan's months live in an INTEGER column; the price rules allow numbers up to 10**12, so 2**31 months
    used to reach PostgreSQL and fail there (a 500)."""
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, listed=False)
    _, secret = await identity.create_api_key(user_id=holder["id"], organization_id=holder["org"]["id"], name="k")
    plan = {"kind": "one_time", "name": "按次", "price_fen": 100, "months": 2**31}
    resp = await client.post(f"/api/v1/listings/{data['id']}/plans", json=plan,
                             headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 400 and resp.json()["code"] == "request.invalid"
    resp = await client.post(f"/api/v1/listings/{data['id']}/plans", json={**plan, "months": 0},
                             headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 201


async def test_the_document_describes_the_errors_as_served(client):
    spec = (await client.get("/schema/openapi.json")).json()
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message"}
    assert "status_code" not in str(spec)  # Litestar's own error body is never served, so never described
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) >= 46
    for path, method, op in operations:
        responses = op["responses"]
        label = f"{method.upper()} {path}"
        assert "401" in responses, label  # a revoked key is refused everywhere, public routes included
        if "{" in path:
            assert "404" in responses, label
            for param in op["parameters"]:
                if param["in"] == "path" and param["schema"].get("type") == "integer":
                    assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, ID_MAX), label
        if op.get("parameters") or op.get("requestBody"):
            assert "400" in responses, label
        if method in ("post", "delete") and "{" in path:
            assert {"403", "409"} <= set(responses), label
        for code, response in responses.items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            if code == "204":
                assert "content" not in response, label
    assert "429" in spec["paths"]["/api/v1/session"]["post"]["responses"]
    assert "403" in spec["paths"]["/api/v1/audit/events"]["get"]["responses"]
    upload = spec["paths"]["/api/v1/assets"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"}


async def test_served_errors_match_the_documented_body(client):
    spec = (await client.get("/schema/openapi.json")).json()
    schema = spec["components"]["schemas"]["Error"]
    responses = [
        await client.get("/api/v1/me"),  # 401
        await client.get("/api/v1/me", headers={"Authorization": "Bearer pdm_nope_nope"}),  # 401, bad key
        await client.get("/api/v1/demands?page=zz", headers=await _bearer()),  # 400 from Litestar's validation
        await client.post("/api/v1/session", content=b"{", headers={"content-type": "application/json"}),  # 400
        await client.get(f"/api/v1/listings/{HUGE}"),  # 404
        await client.get("/api/v1/no-such-thing"),  # 404 of the router
    ]
    assert [r.status_code for r in responses] == [401, 401, 400, 400, 404, 404]
    for resp in responses:
        assert resp.headers["content-type"].startswith("application/json")
        jsonschema.validate(resp.json(), schema)


async def test_a_delivered_csv_says_its_type_once(client, job_runtime):
    from listings import pricing

    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, delivery="file", plans=[pricing.PlanSpec(kind="free", name="免费")])
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=data["listing"]["id"],
                      plan_id=data["plans"][0]["id"])
    row = {"id": order["entitlement_id"]}
    _, secret = await identity.create_api_key(user_id=buyer["id"], organization_id=buyer["org"]["id"], name="k")
    resp = await client.get(f"/api/v1/entitlements/{row['id']}/versions/1/file",
                            headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/csv; charset=utf-8"
    spec = (await client.get("/schema/openapi.json")).json()
    documented = spec["paths"]["/api/v1/entitlements/{entitlement_id}/versions/{number}/file"]["get"]["responses"]
    assert list(documented["200"]["content"]) == ["text/csv"]
