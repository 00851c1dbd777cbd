"""Search routes: the JSON API and the shop-like page. Both are public: buyers browse before logging in.

The handlers declare full paths (/api/v1/search and /search) and are mounted at the root by
listings/controllers.py.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.params import FromQuery, QueryParameter

from listings import search as search_service
from market.web import PUBLIC, page

PageNo = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]
PageSize = Annotated[int, QueryParameter(ge=1, le=search_service.MAX_PAGE_SIZE)]
# the filters in the order they appear in a URL; "holder" is the holder organization's id
FILTERS = ("tier", "category", "holder", "price", "update_cycle", "quality_min", "grade", "delivery_mode")


async def _run(q: str, sort: str, page_no: int, page_size: int, **filters) -> dict:
    return await search_service.search(
        q=q, tier=filters["tier"], category=filters["category"], holder_id=filters["holder"],
        price=filters["price"], price_min_fen=filters.get("price_min_fen"), price_max_fen=filters.get("price_max_fen"),
        update_cycle=filters["update_cycle"], quality_min=filters["quality_min"], grade=filters["grade"],
        delivery_mode=filters["delivery_mode"], sort=sort, page=page_no, page_size=page_size)


@get("/api/v1/search", opt=PUBLIC, tags=["search"],
     summary="Search listed data: Chinese words, pinyin (yibao) or initials (yb), with filters and facets",
     description="Query words match as typed or through an expansion (synonyms, category names, 同义词词林), "
                 "which weighs less; distinctive words and title matches rank first. `match` says how well: "
                 "`exact` (some listing holds every word as typed), `expanded` (only through expansions, or "
                 "most of the query; `query.missing` lists words no match holds) or `nearest` (nothing "
                 "matches well: `items` is empty, `nearest` holds the closest listings; post a demand at "
                 "/demands). `facets` count the filtered matches: holder entries are [name, count, holder_id]. "
                 "`scenario` is a bundle of listings per need when the query names a scenario such as 我要开小卖部.")
async def api_search(q: FromQuery[str] = "", tier: FromQuery[str | None] = None,
                     category: FromQuery[str | None] = None, holder: FromQuery[int | None] = None,
                     price: FromQuery[str | None] = None, price_min_fen: FromQuery[int | None] = None,
                     price_max_fen: FromQuery[int | None] = None, update_cycle: FromQuery[str | None] = None,
                     quality_min: FromQuery[int | None] = None, grade: FromQuery[str | None] = None,
                     delivery_mode: FromQuery[str | None] = None, sort: FromQuery[str] = "relevance",
                     page_no: PageNo = 1, page_size: PageSize = 20) -> dict:
    return await _run(q, sort, page_no, page_size, tier=tier, category=category, holder=holder, price=price,
                      price_min_fen=price_min_fen, price_max_fen=price_max_fen, update_cycle=update_cycle,
                      quality_min=quality_min, grade=grade, delivery_mode=delivery_mode)


@get("/search", opt=PUBLIC, include_in_schema=False)
async def search_page(request: Request, q: FromQuery[str] = "", tier: FromQuery[str | None] = None,
                      category: FromQuery[str | None] = None, holder: FromQuery[int | None] = None,
                      price: FromQuery[str | None] = None, update_cycle: FromQuery[str | None] = None,
                      quality_min: FromQuery[int | None] = None, grade: FromQuery[str | None] = None,
                      delivery_mode: FromQuery[str | None] = None, sort: FromQuery[str] = "relevance",
                      page_no: PageNo = 1) -> Response:
    filters = {"tier": tier, "category": category, "holder": holder, "price": price, "update_cycle": update_cycle,
               "quality_min": quality_min, "grade": grade, "delivery_mode": delivery_mode}
    result = await _run(q, sort, page_no, 20, **filters)
    current = {"q": q.strip(), **filters, "sort": sort if sort != "relevance" else None}

    def link(**changes) -> str:
        """This search with some parameters changed (None removes one); back to page 1."""
        params = {**current, **changes}
        return "/search?" + urlencode([(k, v) for k, v in params.items() if v not in (None, "")])

    return page(request, "listings/search.html", result=result, q=q.strip(), filters=filters, sort=sort, link=link,
                paging={"page": result["page"], "pages": result["pages"]}, page_base=link() + "&")


search_routes = [api_search, search_page]
