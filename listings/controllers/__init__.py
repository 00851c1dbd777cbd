"""Every web route of the catalogue, in one place: JSON under /api/v1 and the pages.

One private module per stage (assets, listings, entitlements, demands, search, catalogue browsing);
this module only assembles them into the one `router` the composition root mounts.
"""

from __future__ import annotations

from litestar import Router

from listings.controllers import (
    _assets, _catalogue, _demands, _encoding, _entitlements, _listings, _sandbox, _search,
)
from listings.registration.controllers import router as registration_router
from listings.dataapi.controllers import router as dataapi_router

api_router = Router(path="/api/v1", route_handlers=[
    *_assets.api_routes, *_listings.api_routes, *_demands.api_routes, *_entitlements.api_routes,
    *_encoding.api_routes, *_sandbox.api_routes,
], tags=["catalogue"])

# search and catalogue handlers declare their full paths (/api/v1/search and /search), so they mount at the root
page_router = Router(path="/", route_handlers=[
    *_assets.page_routes, *_listings.page_routes, *_demands.page_routes, *_entitlements.page_routes, *_encoding.page_routes,
    *_sandbox.page_routes,
    *_search.search_routes, *_catalogue.catalogue_routes,
])

# data delivered as a service (metered API, verification) and the register: their own subpackages, mounted here
router = Router(path="/", route_handlers=[api_router, page_router, registration_router, dataapi_router])
