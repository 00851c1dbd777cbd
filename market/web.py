"""The web shell shared by every package: who is calling, who may enter, CSRF, errors, pages.

- `AuthMiddleware` resolves the caller from the session cookie or an `Authorization: Bearer` API key
  and sets the actor (for audit), the locale and a request id for the rest of the request.
- `access_guard` runs on every route. A route declares `opt={"access": ...}`: "public",
  "authenticated" or a tuple of roles. A route that declares nothing is refused (fail closed), so a
  forgotten guard shows up as a 403 in the role-access test, never as an open door.
- CSRF: state-changing calls in a cookie session must carry the session's token (header
  `X-CSRF-Token` or form field `_csrf`); API-key calls don't (no ambient credential to abuse).
  Forms posted before a session exists (login) use a double-submit cookie.
- `DomainError`s become JSON `{code, message}` on /api and an error page elsewhere, translated.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Receive, Scope, Send

from market import identity
from market.context import Actor, new_request_id, reset_actor, set_actor
from market.errors import DomainError, Forbidden, Unauthorized
from market.storage import StorageError
from market.i18n import LOCALES, N_, gettext, reset_locale, set_locale

SESSION_COOKIE = "market_session"
PRE_CSRF_COOKIE = "market_csrf"
LANG_COOKIE = "lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PUBLIC = {"access": "public"}
AUTHENTICATED = {"access": "authenticated"}


def roles(*names: str) -> dict:
    """Route opt allowing only these roles (platform admins are not implied)."""
    return {"access": tuple(names)}


class AuthMiddleware(ASGIMiddleware):
    def __init__(self, default_locale: str = "zh") -> None:
        self.default_locale = default_locale

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # runs on every request: read only the three headers it needs, straight from the scope
        auth = cookie = request_id = ""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                auth = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
            elif name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
        cookies = _parse_cookies(cookie) if cookie else {}
        principal = None
        if auth[:7].lower() == "bearer ":
            principal = await identity.resolve_api_key(auth[7:].strip())
            scope["auth"] = "api_key" if principal else "bad_key"
        else:
            token = cookies.get(SESSION_COOKIE)
            if token:
                principal = await identity.resolve_session(token)
            scope["auth"] = "session" if principal else None
        scope["user"] = principal
        request_id = request_id or new_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        lang = cookies.get(LANG_COOKIE) or (principal.locale if principal else self.default_locale)
        state["locale"] = lang if lang in LOCALES else self.default_locale
        locale_token = set_locale(state["locale"])
        if principal:
            actor_token = set_actor(Actor(user_id=principal.user_id, org_id=principal.org_id,
                                          label=principal.label, roles=principal.roles, request_id=request_id))
        else:
            actor_token = set_actor(Actor(label="anonymous", request_id=request_id))
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await next_app(scope, receive, send_with_id)
        finally:
            reset_actor(actor_token)
            reset_locale(locale_token)


def _parse_cookies(header: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in header.split(";"):
        k, sep, v = part.partition("=")
        if sep:
            out[k.strip()] = v.strip()
    return out


def access_of(handler: BaseRouteHandler) -> Any:
    return handler.opt.get("access")


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    access = access_of(handler)
    if access is None:
        if connection.scope["path"].startswith("/schema"):
            return  # the OpenAPI spec and viewer are public documentation
        raise Forbidden("auth.route_unguarded", "该页面未声明访问规则，已拒绝访问")
    if connection.scope.get("auth") == "bad_key":
        raise Unauthorized("auth.invalid_api_key", "API 密钥无效或已被吊销")
    principal = connection.scope.get("user")
    if principal is not None and principal.scope and handler.opt.get("key_scope") != principal.scope.split(":")[0]:
        # a key made for one entitlement reads that entitlement's data and nothing else (not even
        # /api-keys, where it could mint itself an unscoped key)
        raise Forbidden("auth.key_scope", "该 API 密钥只能用于其所属的数据接口")
    method = connection.scope.get("method", "GET")
    if method not in SAFE_METHODS and not handler.opt.get("csrf_exempt"):
        await _check_csrf(connection, principal)
    if access == "public":
        return
    if principal is None:
        raise Unauthorized()
    if access == "authenticated":
        return
    if not principal.roles.intersection(access):
        raise Forbidden()


async def _check_csrf(connection: ASGIConnection, principal) -> None:
    auth = connection.scope.get("auth")
    if auth == "api_key":
        return
    sent = connection.headers.get("x-csrf-token", "")
    if not sent:
        content_type = connection.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await Request(connection.scope, connection.receive).form()
            sent = str(form.get("_csrf", ""))
    if auth == "session" and principal is not None:
        expected = principal.csrf_token
    else:
        expected = connection.cookies.get(PRE_CSRF_COOKIE, "")
    if not expected or not sent or not hmac.compare_digest(str(sent), expected):
        raise Forbidden("auth.csrf_failed", "安全校验失败（CSRF），请刷新页面后重试")


class LoginRateLimit:
    """Per-client rate limit for the password endpoints only, so other routes pay nothing for it.
    The limit comes from settings, which exist only once the app does: built on first use."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._inner is None:
            from litestar.middleware.rate_limit import RateLimitConfig

            settings = scope["litestar_app"].state.settings
            self._inner = RateLimitConfig(rate_limit=("minute", settings.login_rate_per_minute)).middleware(self.app)
        await self._inner(scope, receive, send)


# ---- pages -------------------------------------------------------------------------------


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def pre_csrf_token(request: Request) -> str:
    """The double-submit token for forms shown before login; stable for the browser's cookie."""
    return request.cookies.get(PRE_CSRF_COOKIE) or request.scope["state"].setdefault(
        "new_pre_csrf", secrets.token_urlsafe(24))


def page(request: Request, template: str, status_code: int = 200, **context) -> Template:
    principal = request.scope.get("user")
    csrf = principal.csrf_token if principal and request.scope.get("auth") == "session" else pre_csrf_token(request)
    shown = read_flash(request)
    response = Template(template_name=template, status_code=status_code, context={
        "principal": principal,
        "locale": request.scope["state"].get("locale", "zh"),
        "csrf_token": csrf,
        "path": request.url.path,
        "query": request.url.query,
        "flash": shown,
        **context,
    })
    new = request.scope["state"].get("new_pre_csrf")
    if new and not principal:
        response.set_cookie(PRE_CSRF_COOKIE, new, httponly=True, samesite="lax", path="/")
    if FLASH_COOKIE in request.cookies:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


# ---- flash: one message carried across a form's redirect ----------------------------------
# The message is stored untranslated (its Chinese msgid and params) and translated when shown, so it
# reads in the language of the page that shows it. Signed: the text is a format string, and only the
# server may choose it.

FLASH_COOKIE = "flash"


def _flash_mac(request: Request, payload: str) -> str:
    key = request.app.state.settings.secret_key.encode()
    return hmac.new(key, payload.encode(), "sha256").hexdigest()[:32]


def flash(request: Request, response: Response, message: str, *, level: str = "ok", code: str = "",
          **params) -> Response:
    """Show `message` (a msgid; params filled in when shown) on the next page this browser renders."""
    payload = base64.urlsafe_b64encode(json.dumps(
        {"level": level, "code": code, "message": message, "params": {k: str(v) for k, v in params.items()}},
        ensure_ascii=False).encode()).decode()
    response.set_cookie(FLASH_COOKIE, f"{payload}.{_flash_mac(request, payload)}", httponly=True,
                        samesite="lax", path="/", max_age=120)
    return response


def flash_error(request: Request, response: Response, exc: DomainError) -> Response:
    return flash(request, response, exc.message, level="error", code=exc.code, **(exc.params or {}))


def read_flash(request: Request) -> dict | None:
    raw = request.cookies.get(FLASH_COOKIE, "")
    payload, _, mac = raw.partition(".")
    if not payload or not hmac.compare_digest(mac, _flash_mac(request, payload)):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return {"level": "error" if data["level"] == "error" else "ok", "code": str(data.get("code", "")),
                "message": gettext(str(data["message"]), **dict(data.get("params") or {}))}
    except (ValueError, KeyError, TypeError):
        return None


# ---- errors ------------------------------------------------------------------------------


def error_body(code: str, message: str, params: dict | None = None, detail: Any = None) -> dict:
    body = {"code": code, "message": gettext(message, **(params or {}))}
    if detail is not None:
        body["detail"] = detail
    return body


def _error_response(request: Request, status: int, code: str, message: str, params: dict | None = None,
                    detail: Any = None) -> Response:
    body = error_body(code, message, params, detail)
    if wants_html(request):
        if status == 401 and request.method in SAFE_METHODS:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return Redirect(f"/login?next={quote(target)}")
        return page(request, "market/error.html", status_code=status, error=body, status=status)
    return Response(body, status_code=status, media_type="application/json")


def domain_error_handler(request: Request, exc: DomainError) -> Response:
    return _error_response(request, exc.status_code, exc.code, exc.message, exc.params)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    if isinstance(exc, ValidationException) or status == 400:
        return _error_response(request, 400, "request.invalid", "请求内容不正确：{detail}",
                               {"detail": exc.detail}, detail=getattr(exc, "extra", None) or None)
    if isinstance(exc, NotAuthorizedException):
        return _error_response(request, 401, "auth.required", "请先登录")
    if isinstance(exc, PermissionDeniedException):
        return _error_response(request, 403, "auth.forbidden", "您的角色无权执行此操作")
    if status == 404:
        return _error_response(request, 404, "not_found", "未找到该页面或对象")
    if status == 405:
        return _error_response(request, 405, "method_not_allowed", "不支持该请求方法")
    if status == 429:
        return _error_response(request, 429, "rate_limited", "请求过于频繁，请稍后再试")
    return _error_response(request, status, f"http.{status}", "请求无法处理：{detail}", {"detail": exc.detail})


def internal_error_handler(request: Request, exc: Exception) -> Response:
    request.logger.exception("unhandled error", exc_info=exc)
    return _error_response(request, 500, "internal", "服务器内部错误，请稍后再试；问题已记录（请求编号 {rid}）",
                           {"rid": request.scope["state"].get("request_id", "")})


_STORAGE_MESSAGES = {
    "storage.expired": (403, N_("下载链接已过期，请重新获取")),
    "storage.bad_signature": (403, N_("下载链接无效")),
    "storage.not_found": (404, N_("文件不存在")),
    "storage.bad_key": (400, N_("文件路径无效")),
}


def storage_error_handler(request: Request, exc: StorageError) -> Response:
    status, message = _STORAGE_MESSAGES.get(exc.code, (500, N_("文件暂时无法访问")))
    return _error_response(request, status, exc.code, message)


EXCEPTION_HANDLERS = {
    DomainError: domain_error_handler,
    StorageError: storage_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}


# ---- pagination --------------------------------------------------------------------------


MAX_PAGE = 100_000  # far past any real list; keeps OFFSET inside what the databases accept
MAX_PAGE_SIZE = 200
# The API's `page` and `page_size` query parameters: refused (400) and documented outside these bounds.
PageNo = Annotated[int | None, QueryParameter(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int | None, QueryParameter(ge=1, le=MAX_PAGE_SIZE)]


def page_params(page: int | None, page_size: int | None, max_size: int = MAX_PAGE_SIZE) -> tuple[int, int]:
    # pages (HTML) are lenient: an out-of-range page shows the nearest one instead of an error
    p = min(max(1, page or 1), MAX_PAGE)
    size = min(max(1, page_size or 50), max_size)
    return p, size


def paginated(items: list, total: int, page: int, page_size: int) -> dict:
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": (total + page_size - 1) // page_size}
