"""The web shell: pages, the OpenAPI spec and viewer, nothing loaded from the internet."""

from __future__ import annotations

import re

from factories import login, make_user

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.I)


async def test_no_page_loads_anything_from_the_internet(client):
    user = await make_user(["admin", "regulator"])
    pages = ["/", "/login", "/schema"]
    for path in pages:
        resp = await client.get(path)
        assert resp.status_code == 200, path
        assert not EXTERNAL.search(resp.text), f"{path} references an external asset"
    await login(client, user)
    for path in ["/", "/account/api-keys", "/admin/organizations", "/audit", "/audit?check=1"]:
        resp = await client.get(path)
        assert resp.status_code == 200, path
        assert not EXTERNAL.search(resp.text), path
    for asset in ["/static/vendor/htmx-2.0.11/htmx.min.js", "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js",
                  "/static/app.css"]:
        assert (await client.get(asset)).status_code == 200, asset


async def test_openapi_spec_is_3_1_and_lists_the_api(client):
    spec = (await client.get("/schema/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    for path in ["/api/v1/session", "/api/v1/me", "/api/v1/api-keys", "/api/v1/audit/verify"]:
        assert path in spec["paths"], path


async def test_home_page_per_role_in_chinese(client):
    for role, words in [("holder", "上传数据表"), ("buyer", "按用途下单"), ("regulator", "核验审计链"),
                        ("agency", "授权运营协议"), ("operator", "上限收费标准"), ("admin", "机构审核")]:
        client.cookies.clear()
        user = await make_user([role])
        await login(client, user)
        html = (await client.get("/")).text
        assert f'data-role="{role}"' in html and words in html, role
        assert 'lang="zh-CN"' in html


async def test_landing_and_errors_for_anonymous(client):
    html = (await client.get("/")).text
    assert "公共数据授权运营交易平台" in html and 'href="/login"' in html
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404 and "not_found" in missing.text and "<html" in missing.text
    api_missing = await client.get("/api/v1/no-such")
    assert api_missing.status_code == 404 and api_missing.json()["code"] == "not_found"


async def test_pagination_shape(client):
    admin = await make_user(["admin"])
    for _ in range(3):
        await make_user(["buyer"])
    await login(client, admin)
    body = (await client.get("/api/v1/organizations?page=2&page_size=2")).json()
    assert body["page"] == 2 and body["page_size"] == 2 and body["total"] == 4 and body["pages"] == 2
    assert len(body["items"]) == 2


async def test_request_id_header(client):
    resp = await client.get("/api/v1/health", headers={"X-Request-ID": "abc123"})
    assert resp.headers["x-request-id"] == "abc123"


async def test_signed_download_urls_of_local_storage(client, app):
    import io
    from urllib.parse import parse_qs, urlparse

    storage = app.state.storage
    storage.ensure_bucket()
    storage.put("exports/clinic.csv", io.BytesIO("年份,门诊人次\n2014,1\n".encode()),
                content_type="text/csv")
    url = storage.signed_url("exports/clinic.csv", expires_in=60, filename="门诊服务情况.csv")
    resp = await client.get(url)
    assert resp.status_code == 200 and resp.text.startswith("年份")
    assert "filename*=UTF-8''" in resp.headers["content-disposition"]
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    tampered = url.replace(query["sig"][0], "0" * len(query["sig"][0]))
    resp = await client.get(tampered)
    assert resp.status_code == 403 and "storage.bad_signature" in resp.text
    expired = storage.signed_url("exports/clinic.csv", expires_in=1, filename=None, now=0)
    resp = await client.get(expired)
    assert resp.status_code == 403 and "storage.expired" in resp.text and "下载链接已过期" in resp.text
