"""Browsing the category tree (数据目录): drill down 类 → 项 → 目 → 细目 with counts, and the
listings at or below the node. Public, like search: buyers browse before logging in."""

from __future__ import annotations

from urllib.parse import quote

from litestar import Request, Response, get
from litestar.params import FromQuery

from listings import catalogue, search
from listings.controllers._search import PageNo
from market.web import PUBLIC, page


async def _browse(path: str) -> dict:
    return catalogue.browse(path.strip() or None, await search.category_counts())


@get("/api/v1/categories", opt=PUBLIC, tags=["search"],
     summary="One level of the category tree with listing counts; `path` drills down (医疗卫生 > 诊疗服务)")
async def api_categories(path: FromQuery[str] = "") -> dict:
    return await _browse(path)


@get("/catalogue", opt=PUBLIC, include_in_schema=False)
async def catalogue_page(request: Request, path: FromQuery[str] = "", page_no: PageNo = 1) -> Response:
    node = await _browse(path)
    result = None
    if node["path"]:
        result = await search.search(category=node["path"], sort="quality", page=page_no, page_size=20)
    base = f"/catalogue?path={quote(node['path'])}&" if node["path"] else "/catalogue?"
    return page(request, "listings/catalogue.html", node=node, result=result, page_base=base,
                paging={"page": result["page"], "pages": result["pages"]} if result else None)


catalogue_routes = [api_categories, catalogue_page]
