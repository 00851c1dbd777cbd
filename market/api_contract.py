"""What the JSON API promises at its edge, kept in one place: ids in range, and errors documented as served.

- `bounds_guard` runs on every route, after `access_guard`. An integer path segment names a row (or a version
  number), so it must be written as a plain decimal in 1..2**31-1, what the key columns hold; anything else is
  404 before any query is built (a longer id used to reach the database and fail there: a 500). An integer
  query parameter must fit a signed 64-bit integer (400). Ids in query strings and bodies (`QueryId`, `Id`),
  amounts (`Int64`), page numbers and sizes (`market.web.PageNo`, `PageSize`) declare their bounds, which
  Litestar checks (400) and documents like any declared constraint.
- `describe_api` completes the OpenAPI document once, before it is first served: the `{code, message}` body
  that every error really has, the error statuses each operation can answer (derived from what the route
  declares: its access rule, method, parameters, body, rate limit), and the id bounds above. Routes need
  not repeat any of it, so a new route is described correctly the day it appears.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

import msgspec

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Reference, Schema
from litestar.params import Body, CookieParameter, HeaderParameter, ParameterKwarg, PathParameter, QueryParameter
from litestar.routes import HTTPRoute

from market.errors import DomainError, NotFound
from market.i18n import N_
from market.web import LoginRateLimit, access_of

# Every primary key is a SERIAL (a 32-bit INTEGER on PostgreSQL, and so are the foreign keys and version
# numbers): no id can be larger, and a larger one makes asyncpg fail before the query is even sent.
ID_MAX = 2**31 - 1
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Integer fields of request bodies, refused (400) and documented outside what their columns hold instead of
# reaching the database and failing there: an id of another object, an amount in 分 or a count (BIGINT), a
# small number kept in an INTEGER column.
Id = Annotated[int, msgspec.Meta(ge=1, le=ID_MAX)]
Int64 = Annotated[int, msgspec.Meta(ge=INT_MIN, le=INT_MAX)]
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
# An id in a query string.
QueryId = Annotated[int, QueryParameter(ge=1, le=ID_MAX)]
_PATH_NAME = re.compile(r"\{([^}:]+)")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# A multipart body with one file field `file`, described as such (Litestar sees only a dict).
FILE_UPLOAD = Body(media_type=RequestEncodingType.MULTI_PART, schema_extra={
    "properties": {"file": Schema(type=OpenAPIType.STRING, format="binary")}, "required": ["file"]})


# ---- the guard ---------------------------------------------------------------------------


def _int_query_names(handler: BaseRouteHandler) -> tuple[str, ...]:
    """Query parameters the handler reads as integers (their names as sent), read once from its signature."""
    cached = handler.opt.get("_int_query")
    if cached is None:
        in_path = {name for path in handler.paths for name in _PATH_NAME.findall(path)}
        names = []
        for name, field in handler.parsed_fn_signature.parameters.items():
            kwarg = field.kwarg_definition
            if (not isinstance(kwarg, ParameterKwarg) or isinstance(kwarg, (PathParameter, HeaderParameter,
                                                                            CookieParameter))
                    or kwarg.header or kwarg.cookie or name in in_path):
                continue
            types = [t.annotation for t in field.inner_types] if field.is_optional else [field.annotation]
            if int in types:
                names.append(kwarg.query or name)
        cached = handler.opt["_int_query"] = tuple(names)
    return cached


async def bounds_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    params = connection.scope.get("path_params")
    if params:
        ints = [name for name, value in params.items() if type(value) is int]
        if ints:
            # the template reads "/api/v1/assets/{asset_id}": its segments line up with the request path's
            raw = dict(zip(connection.scope.get("path_template", "").split("/"), connection.scope["path"].split("/")))
            for name in ints:
                value = params[name]
                # "+7", "07", "7_0" and non-ASCII digits parse as ints in Python: only the plain form names a row
                if not 1 <= value <= ID_MAX or raw.get(f"{{{name}}}") != str(value):
                    raise NotFound()
    names = _int_query_names(handler)
    if names:
        query = connection.query_params
        for name in names:
            for value in query.getall(name, ()):
                try:
                    number = int(value)
                except ValueError:
                    continue  # not a number at all: Litestar's own validation answers 400
                if not INT_MIN <= number <= INT_MAX:
                    raise DomainError("request.out_of_range", N_("参数 {name} 超出允许的范围"), name=name)


# ---- the OpenAPI document ----------------------------------------------------------------

ERROR_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["code", "message"],
    properties={
        "code": Schema(type=OpenAPIType.STRING, description="Stable error code, e.g. `auth.required`, `not_found`."),
        "message": Schema(type=OpenAPIType.STRING, description="What went wrong, in the caller's language."),
        "detail": Schema(description="Which fields failed validation (400 only)."),
    },
    description="Every error the API answers: a stable code and a message in the caller's language.",
)

_ERRORS = {
    "400": "Invalid request: a parameter or the body fails validation, or a rule refuses the operation.",
    "401": "Not logged in, or the API key is invalid or revoked.",
    "403": "The caller's role may not do this, or the CSRF token of a cookie session is missing.",
    "404": "No such object (or not visible to the caller); ids outside 1..2^31-1 are never found.",
    "409": "The object is not in a state that allows this (it changed meanwhile, or the move is not allowed).",
    "413": "The request body is larger than this operation accepts.",
    "422": "The request was understood but refused by a rule on its content (a sandbox query outside what is "
           "allowed); the refusal is logged.",
    "429": "Too many attempts from this client; try again in a minute.",
}


def _statuses(handler: BaseRouteHandler, method: str, operation: Any) -> list[str]:
    access = access_of(handler)
    unsafe = method in _UNSAFE
    has_path = any(p.param_in == "path" for p in operation.parameters or ())
    codes = ["401"]  # a bad key is refused on every route, public ones included
    if operation.parameters or operation.request_body or unsafe:
        codes.append("400")
    if isinstance(access, tuple) or (unsafe and not handler.opt.get("csrf_exempt")):
        codes.append("403")  # a role rule, or the CSRF check of a cookie session
    if has_path or operation.request_body:  # a body names other objects too (a plan, an asset, a listing)
        codes.append("404")
    if unsafe and (has_path or operation.request_body):
        codes.append("409")
    if operation.request_body:
        codes.append("413")
    if LoginRateLimit in (handler.middleware or ()):
        codes.append("429")
    # what the declaration cannot show (a raw body read by hand, a feature switched off by configuration)
    codes.extend(c for c in handler.opt.get("error_statuses", ()) if c not in codes)
    return sorted(codes)


def _bound_integers(schema: Any, low: int, high: int) -> None:
    """Give an integer parameter that declares no bounds of its own the ones the guard enforces."""
    if isinstance(schema, Schema) and schema.minimum is None and schema.maximum is None:
        if schema.type == OpenAPIType.INTEGER:
            schema.minimum, schema.maximum = low, high
        for branch in schema.one_of or ():
            _bound_integers(branch, low, high)


def _exact_bounds(schema: Any) -> None:
    """Litestar writes declared bounds as floats, and float(2**63 - 1) rounds up to 2**63: an integer's bounds
    are written back as the integers they are, within the 64-bit range."""
    if not isinstance(schema, Schema):
        return
    if isinstance(schema.maximum, float):
        schema.maximum = min(int(schema.maximum), INT_MAX)
    if isinstance(schema.minimum, float):
        schema.minimum = max(int(schema.minimum), INT_MIN)
    for child in [*(schema.properties or {}).values(), *(schema.one_of or ()), *(schema.any_of or ()),
                  *(schema.all_of or ()), schema.items]:
        _exact_bounds(child)


def describe_api(app) -> None:
    """Complete the app's OpenAPI document (idempotent; the document is built once and cached)."""
    openapi = app.openapi_schema
    if openapi.components.schemas.get("Error") is not None:
        return
    for schema in openapi.components.schemas.values():
        _exact_bounds(schema)
    openapi.components.schemas["Error"] = ERROR_SCHEMA
    error = Reference(ref="#/components/schemas/Error")
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path_format not in (openapi.paths or {}):
            continue
        item = openapi.paths[route.path_format]
        for method, (handler, _) in route.route_handler_map.items():
            operation = getattr(item, method.lower(), None)
            if operation is None or not handler.resolve_include_in_schema():
                continue
            for parameter in operation.parameters or ():
                low = 1 if parameter.param_in == "path" else INT_MIN
                _exact_bounds(parameter.schema)
                _bound_integers(parameter.schema, low, ID_MAX if low == 1 else INT_MAX)
            responses = operation.responses
            for code in [c for c in responses if c.startswith(("4", "5"))]:
                del responses[code]  # Litestar's own {status_code, detail}: not what the API serves
            for code, response in responses.items():
                if code == "204":
                    response.content = None  # no body, hence no content type either
            for code in _statuses(handler, method, operation):
                responses[code] = OpenAPIResponse(description=_ERRORS[code],
                                                  content={"application/json": OpenAPIMediaType(schema=error)})


async def describe_before_serving(request: Request) -> None:
    """`before_request` of the /schema router: the document is complete before it is first rendered."""
    describe_api(request.app)
