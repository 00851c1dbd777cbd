"""Routes of the shared core: sessions, the caller, API keys, organizations, audit, pages, files."""

from __future__ import annotations

import mimetypes
from typing import Annotated
from urllib.parse import urlparse

from litestar import Request, Response, Router, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect, Stream

from market import audit, identity
from market._dead_letter_routes import router as dead_letter_router
from market.errors import DomainError, NotFound
from market.storage import content_disposition
from market.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    AuditEventOut,
    ChainOut,
    MeOut,
    OrganizationIn,
    OrganizationOut,
    RegistrationIn,
    SessionIn,
    UserOut,
    VerificationIn,
    api_key_out,
    org_out,
)
from market.tables import Role
from market.web import (
    AUTHENTICATED,
    LANG_COOKIE,
    LoginRateLimit,
    PUBLIC,
    PageNo,
    PageSize,
    SESSION_COOKIE,
    page,
    page_params,
    paginated,
    roles,
)

OVERSEERS = roles(Role.ADMIN, Role.REGULATOR)



def _client(request: Request) -> str:
    return f"{request.client.host if request.client else ''} {request.headers.get('user-agent', '')}"[:100]


def _set_session_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https", max_age=None)


async def _me(principal: identity.Principal, auth: str) -> MeOut:
    # the principal carries its organization (cached with it): /me costs no query on the hot path
    org = principal.org or await identity.get_organization(principal.org_id)
    return MeOut(
        user=UserOut(id=principal.user_id, email=principal.email, display_name=principal.display_name,
                     locale=principal.locale),
        organization=org_out(org), roles=sorted(principal.roles),
        csrf_token=principal.csrf_token if auth == "session" else None, auth=auth)


# ---- JSON API ----------------------------------------------------------------------------


@post("/session", opt={**PUBLIC, "csrf_exempt": True}, status_code=201, middleware=[LoginRateLimit], summary="Log in (cookie session)")
async def api_login(request: Request, data: JSONBody[SessionIn]) -> Response[MeOut]:
    # No CSRF token is needed here: the body must be JSON, which a cross-site form cannot send.
    new = await identity.login(email=data.email, password=data.password, client=_client(request))
    response = Response(await _me(new.principal, "session"), status_code=201)
    _set_session_cookie(response, new.token, request)
    return response


@post("/registrations", opt={**PUBLIC, "csrf_exempt": True}, status_code=201, middleware=[LoginRateLimit],
      summary="Register an organization and its first user (verification pending)")
async def api_register(request: Request, data: JSONBody[RegistrationIn]) -> Response[MeOut]:
    await identity.register(org_name=data.org_name, credit_code=data.credit_code, kind=data.kind, email=data.email,
                            password=data.password, display_name=data.display_name, role=data.role,
                            accept_checksum_warning=data.accept_checksum_warning)
    new = await identity.login(email=data.email, password=data.password, client=_client(request))
    response = Response(await _me(new.principal, "session"), status_code=201)
    _set_session_cookie(response, new.token, request)
    return response


@delete("/session", opt=AUTHENTICATED, status_code=204, summary="Log out")
async def api_logout(request: Request) -> Response[None]:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await identity.logout(token=token)
    response = Response(None, status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/me", opt=AUTHENTICATED, summary="The caller: user, organization, roles and CSRF token")
async def api_me(request: Request) -> MeOut:
    return await _me(request.user, request.scope["auth"])


@get("/api-keys", opt=AUTHENTICATED, summary="API keys of the caller's organization")
async def api_list_keys(request: Request) -> list:
    rows = await identity.list_api_keys(organization_id=request.user.org_id)
    return [api_key_out(r) for r in rows]


@post("/api-keys", opt=AUTHENTICATED, status_code=201, summary="Create an API key (secret shown once)")
async def api_create_key(request: Request, data: JSONBody[ApiKeyIn]) -> ApiKeyCreated:
    key, secret = await identity.create_api_key(user_id=request.user.user_id,
                                                organization_id=request.user.org_id, name=data.name)
    return ApiKeyCreated(key=api_key_out(key), secret=secret)


@delete("/api-keys/{key_id:int}", opt=AUTHENTICATED, status_code=204, summary="Revoke an API key")
async def api_revoke_key(request: Request, key_id: FromPath[int]) -> None:
    await identity.revoke_api_key(key_id=key_id, organization_id=request.user.org_id)


@get("/organizations", opt=OVERSEERS, summary="Organizations (admin, regulator)")
async def api_list_orgs(page: PageNo = None, page_size: PageSize = None,
                        verification: FromQuery[str | None] = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await identity.list_organizations(page=p, page_size=size, verification=verification)
    return paginated([org_out(r) for r in rows], total, p, size)


@post("/organizations", opt=roles(Role.ADMIN), status_code=201, summary="Register an organization (admin)")
async def api_create_org(data: JSONBody[OrganizationIn]) -> OrganizationOut:
    org = await identity.create_organization(name=data.name, credit_code=data.credit_code, kind=data.kind,
                                             accept_checksum_warning=data.accept_checksum_warning)
    return org_out(org)


@post("/organizations/{org_id:int}/verification", opt=roles(Role.ADMIN), status_code=200,
      summary="Verify, reject, suspend or reinstate an organization (admin)")
async def api_verify_org(org_id: FromPath[int], data: JSONBody[VerificationIn]) -> OrganizationOut:
    await identity.set_verification(org_id=org_id, to=_verification(data.to))
    return org_out(await identity.get_organization(org_id))


def _verification(value: str) -> str:
    if value not in ("verified", "rejected", "suspended"):
        raise DomainError("org.verification_invalid", "审核结果只能是 verified、rejected 或 suspended")
    return value


@get("/audit/events", opt=OVERSEERS, summary="The audit chain, newest first (regulator, admin)")
async def api_audit_events(page: PageNo = None, page_size: PageSize = None,
                           action: FromQuery[str | None] = None, object_type: FromQuery[str | None] = None,
                           object_id: FromQuery[str | None] = None) -> dict:
    p, size = page_params(page, page_size)
    rows, total = await audit.events(page=p, page_size=size, action=action, object_type=object_type,
                                     object_id=object_id)
    items = [AuditEventOut(**{k: r[k] for k in AuditEventOut.__struct_fields__}) for r in rows]
    return paginated(items, total, p, size)


@get("/audit/verify", opt=OVERSEERS, summary="Recompute the whole audit chain (regulator, admin)")
async def api_audit_verify() -> ChainOut:
    report = await audit.verify()
    head = await audit.head()
    return ChainOut(ok=report.ok, events=report.events, first_bad_seq=report.first_bad_seq, reason=report.reason,
                    head_seq=head["seq"] if head else None, head_hash=head["hash"] if head else None)


@get("/health", opt=PUBLIC, summary="Liveness and database reachability")
async def api_health() -> dict:
    head = await audit.head()
    return {"ok": True, "audit_head": head["seq"] if head else 0}


api_router = Router(path="/api/v1", route_handlers=[
    api_login, api_register, api_logout, api_me, api_list_keys, api_create_key, api_revoke_key, api_list_orgs, api_create_org,
    api_verify_org, api_audit_events, api_audit_verify, api_health,
], tags=["core"])


# ---- pages -------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect after login would be a phishing aid."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


@get("/", opt=PUBLIC, include_in_schema=False)
async def home(request: Request) -> Response:
    principal = request.user
    if principal is None:
        return page(request, "market/landing.html")
    panels = request.app.state.get("home_panels")
    todo = await panels.for_principal(principal) if panels else []
    return page(request, "market/home.html", roles=sorted(principal.roles), todo=todo)


@get("/login", opt=PUBLIC, include_in_schema=False)
async def login_page(request: Request, next_: Annotated[str | None, QueryParameter(name="next")] = None) -> Response:
    if request.user is not None:
        return Redirect(_safe_next(next_))
    return page(request, "market/login.html", next=_safe_next(next_), error=None, email="")


@post("/login", opt=PUBLIC, include_in_schema=False, middleware=[LoginRateLimit])
async def login_submit(request: Request) -> Response:
    form = await request.form()
    email = str(form.get("email", ""))
    target = _safe_next(str(form.get("next", "")))
    try:
        new = await identity.login(email=email, password=str(form.get("password", "")), client=_client(request))
    except DomainError as exc:
        from market.web import error_body

        return page(request, "market/login.html", status_code=exc.status_code, next=target, email=email,
                    error=error_body(exc.code, exc.message, exc.params))
    response = Redirect(target)
    _set_session_cookie(response, new.token, request)
    return response


_REGISTER_FIELDS = ("org_name", "credit_code", "kind", "email", "display_name", "role")


@get("/register", opt=PUBLIC, include_in_schema=False)
async def register_page(request: Request) -> Response:
    return page(request, "market/register.html", form={"kind": "enterprise", "role": "buyer"}, error=None,
                checksum_warning=False)


@post("/register", opt=PUBLIC, include_in_schema=False, middleware=[LoginRateLimit])
async def register_submit(request: Request) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in _REGISTER_FIELDS}
    accept = form.get("accept_checksum_warning") == "on"
    try:
        await identity.register(**values, password=str(form.get("password", "")), accept_checksum_warning=accept)
        new = await identity.login(email=values["email"], password=str(form.get("password", "")),
                                   client=_client(request))
    except DomainError as exc:
        from market.web import error_body

        return page(request, "market/register.html", status_code=exc.status_code, form=values,
                    error=error_body(exc.code, exc.message, exc.params),
                    checksum_warning=exc.code == "org.credit_code_checksum")
    response = Redirect("/")
    _set_session_cookie(response, new.token, request)
    return response


@post("/logout", opt=AUTHENTICATED, include_in_schema=False)
async def logout_submit(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await identity.logout(token=token)
    response = Redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/lang/{code:str}", opt=PUBLIC, include_in_schema=False)
async def switch_language(request: Request, code: FromPath[str],
                          next_: Annotated[str | None, QueryParameter(name="next")] = None) -> Response:
    if code not in ("zh", "en"):
        raise NotFound()
    response = Redirect(_safe_next(next_ or request.headers.get("referer", "/").split(request.url.netloc, 1)[-1]))
    response.set_cookie(LANG_COOKIE, code, samesite="lax", path="/", max_age=365 * 24 * 3600)
    return response


@get("/account/api-keys", opt=AUTHENTICATED, include_in_schema=False)
async def api_keys_page(request: Request) -> Response:
    keys = await identity.list_api_keys(organization_id=request.user.org_id)
    return page(request, "market/api_keys.html", keys=keys, new_secret=None)


@post("/account/api-keys", opt=AUTHENTICATED, include_in_schema=False)
async def api_keys_create(request: Request) -> Response:
    form = await request.form()
    key, secret = await identity.create_api_key(user_id=request.user.user_id, organization_id=request.user.org_id,
                                                name=str(form.get("name", "")))
    keys = await identity.list_api_keys(organization_id=request.user.org_id)
    return page(request, "market/api_keys.html", keys=keys, new_secret=secret, new_key=key)


@post("/account/api-keys/{key_id:int}/revoke", opt=AUTHENTICATED, include_in_schema=False)
async def api_keys_revoke(request: Request, key_id: FromPath[int]) -> Response:
    await identity.revoke_api_key(key_id=key_id, organization_id=request.user.org_id)
    return Redirect("/account/api-keys")


@get("/admin/organizations", opt=OVERSEERS, include_in_schema=False)
async def orgs_page(request: Request, page_no: Annotated[int | None, QueryParameter(name="page")] = None) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await identity.list_organizations(page=p, page_size=size)
    return page(request, "market/organizations.html", orgs=rows, paging=paginated([], total, p, size))


@post("/admin/organizations/{org_id:int}/verification", opt=roles(Role.ADMIN), include_in_schema=False)
async def orgs_verify(request: Request, org_id: FromPath[int]) -> Response:
    form = await request.form()
    await identity.set_verification(org_id=org_id, to=_verification(str(form.get("to", ""))))
    return Redirect("/admin/organizations")


@get("/audit", opt=OVERSEERS, include_in_schema=False)
async def audit_page(request: Request, page_no: Annotated[int | None, QueryParameter(name="page")] = None,
                     action: FromQuery[str | None] = None, check: FromQuery[bool] = False) -> Response:
    p, size = page_params(page_no, 50)
    rows, total = await audit.events(page=p, page_size=size, action=action or None)
    report = await audit.verify() if check else None
    return page(request, "market/audit.html", events=rows, paging=paginated([], total, p, size), report=report,
                action=action or "")


@get("/files/{key:path}", opt=PUBLIC, include_in_schema=False)
async def signed_file(state: State, key: FromPath[str], expires: FromQuery[str] = "", sig: FromQuery[str] = "",
                      filename: FromQuery[str | None] = None) -> Response:
    # Public by design: the HMAC signature in the URL is the permission (local-disk storage only).
    storage = state.storage
    if not hasattr(storage, "verify_signed"):
        raise NotFound()
    key = key.lstrip("/")
    storage.verify_signed(key, expires, sig, filename)
    try:
        info = storage.stat(key)
    except Exception as exc:
        raise NotFound("storage.not_found", "文件不存在") from exc
    headers = {"Content-Length": str(info.size), "Cache-Control": "private, no-store"}
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    media = info.content_type or mimetypes.guess_type(filename or key)[0] or "application/octet-stream"
    return Stream(storage.open(key), media_type=media, headers=headers)


page_router = Router(path="/", route_handlers=[
    home, login_page, login_submit, register_page, register_submit, logout_submit, switch_language, api_keys_page, api_keys_create,
    api_keys_revoke, orgs_page, orgs_verify, audit_page, signed_file,
])

router = Router(path="/", route_handlers=[api_router, page_router, dead_letter_router])
