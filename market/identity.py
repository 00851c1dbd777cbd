"""Organizations, users, roles, sessions and API keys: the service API of identity.

Passwords are hashed with argon2; sessions and API keys are random tokens of which only a SHA-256 is
stored. Resolving a token is on every request's path, so results are cached per process for a few
seconds (`auth_cache_seconds`); anything that revokes access clears this process's cache at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from stdnum import exceptions as stdnum_exc
from stdnum.cn import uscc

from market import audit, db
from market.config import Settings
from market.errors import Conflict, DomainError, Forbidden, NotFound, Unauthorized
from market.tables import (
    ApiKey,
    Membership,
    Organization,
    OrgKind,
    Role,
    User,
    UserSession,
    Verification,
)

ROLES = tuple(r.value for r in Role)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KEY_PREFIX = "pdm_"


@dataclass(frozen=True)
class Principal:
    """Who a request is from, as resolved from a session cookie or an API key."""

    user_id: int
    email: str
    display_name: str
    org_id: int
    org_name: str
    org_verification: str
    roles: frozenset[str]
    via: str  # "session" or "api_key"
    credential_id: int
    csrf_token: str = ""
    locale: str = "zh"
    label: str = ""
    scope: str = ""  # an API key's scope ("" = any route its roles allow; see ApiKey.scope)
    org: dict | None = None  # the organization row as of resolution (cached with the principal)


class _Config:
    hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
    max_failures = 5
    lockout = timedelta(minutes=15)
    session_ttl = timedelta(hours=12)
    cache_seconds = 5.0


def configure(settings: Settings) -> None:
    params = {
        "rfc_9106_low_memory": profiles.RFC_9106_LOW_MEMORY,
        "rfc_9106_high_memory": profiles.RFC_9106_HIGH_MEMORY,
        "cheapest": profiles.CHEAPEST,
    }[settings.password_profile]
    _Config.hasher = PasswordHasher.from_parameters(params)
    _Config.max_failures = settings.login_max_failures
    _Config.lockout = timedelta(minutes=settings.login_lockout_minutes)
    _Config.session_ttl = timedelta(hours=settings.session_hours)
    _Config.cache_seconds = float(settings.auth_cache_seconds)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# ---- credit codes -------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditCodeCheck:
    code: str
    checksum_ok: bool
    region_code: str


def check_credit_code(raw: str) -> CreditCodeCheck:
    """Validate a 统一社会信用代码 (GB 32100). A wrong check character is returned as a warning the
    holder may override (some early codes fail it); anything else is refused."""
    code = uscc.compact(raw or "")
    try:
        uscc.validate(code)
        ok = True
    except stdnum_exc.InvalidChecksum:
        ok = False
    except stdnum_exc.InvalidLength:
        raise DomainError("org.credit_code_length", "统一社会信用代码应为 18 位（当前 {n} 位）", n=len(code)) from None
    except stdnum_exc.ValidationError:
        raise DomainError("org.credit_code_format",
                          "统一社会信用代码格式不正确：前 8 位应为数字，其余只能是数字和大写字母（不含 I、O、Z、S、V）") from None
    return CreditCodeCheck(code=code, checksum_ok=ok, region_code=code[2:8])


# ---- organizations and users --------------------------------------------------------------


async def create_organization(*, name: str, credit_code: str, kind: str,
                              accept_checksum_warning: bool = False, verified: bool = False) -> dict:
    """Register an organization; a failed check character needs explicit acceptance."""
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise DomainError("org.name_invalid", "机构名称应为 2 到 200 个字符")
    if kind not in {k.value for k in OrgKind}:
        raise DomainError("org.kind_invalid", "机构类型无效")
    check = check_credit_code(credit_code)
    if not check.checksum_ok and not accept_checksum_warning:
        raise DomainError("org.credit_code_checksum",
                          "统一社会信用代码校验位不符（GB 32100）。若确认无误（少数早期代码如此），请勾选“确认代码无误”后再提交")
    async with db.atomic():
        if await Organization.exists().where(Organization.credit_code == check.code):
            raise Conflict("org.credit_code_taken", "该统一社会信用代码已注册")
        status = Verification.VERIFIED.value if verified else Verification.PENDING.value
        rows = await Organization.insert(Organization(
            name=name, credit_code=check.code, credit_code_override=not check.checksum_ok, kind=kind,
            region_code=check.region_code, verification=status,
        )).returning(*Organization.all_columns())
        org = rows[0]
        await audit.record(action="org.created", object_type="organization", object_id=org["id"],
                           after={"name": name, "credit_code": check.code, "kind": kind,
                                  "verification": status,
                                  "credit_code_override": not check.checksum_ok})
    return org


async def set_verification(*, org_id: int, to: str) -> dict:
    """Verify, reject, suspend or reinstate an organization (platform admin)."""
    row = await db.transition(Organization, org_id, to=Verification(to), action=f"org.{to}",
                              status_column="verification")
    clear_auth_cache()
    return row


def hash_password(password: str) -> str:
    return _Config.hasher.hash(password)


def _check_password_rules(password: str) -> None:
    if len(password or "") < 8:
        raise DomainError("user.password_too_short", "密码至少需要 8 个字符")
    if len(password) > 256:
        raise DomainError("user.password_too_long", "密码不能超过 256 个字符")


async def create_user(*, email: str, password: str, display_name: str, organization_id: int,
                      roles: list[str], locale: str = "zh") -> dict:
    """Create a user in an organization with one or more roles."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        raise DomainError("user.email_invalid", "邮箱地址格式不正确")
    _check_password_rules(password)
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise DomainError("user.role_invalid", "角色无效：{roles}", roles=",".join(bad) or "-")
    display_name = (display_name or "").strip() or email.split("@")[0]
    pw_hash = hash_password(password)
    async with db.atomic():
        if not await Organization.exists().where(Organization.id == organization_id):
            raise NotFound("org.not_found", "机构不存在")
        if await User.exists().where(User.email == email):
            raise Conflict("user.email_taken", "该邮箱已注册")
        rows = await User.insert(User(email=email, display_name=display_name, password_hash=pw_hash,
                                      organization=organization_id, locale=locale)).returning(User.id)
        user_id = rows[0]["id"]
        for role in dict.fromkeys(roles):
            await Membership.insert(Membership(user=user_id, organization=organization_id, role=role))
        await audit.record(action="user.created", object_type="user", object_id=user_id,
                           after={"email": email, "organization_id": organization_id,
                                  "roles": sorted(set(roles))})
    return await User.select(User.id, User.email, User.display_name, User.organization).where(
        User.id == user_id).first()


async def grant_role(*, user_id: int, organization_id: int, role: str) -> None:
    """Give a user one more role in an organization (idempotent)."""
    if role not in ROLES:
        raise DomainError("user.role_invalid", "角色无效：{roles}", roles=role)
    async with db.atomic():
        exists = await Membership.exists().where(
            (Membership.user == user_id) & (Membership.organization == organization_id) & (Membership.role == role))
        if exists:
            return
        await Membership.insert(Membership(user=user_id, organization=organization_id, role=role))
        await audit.record(action="user.role_granted", object_type="user", object_id=user_id,
                           after={"organization_id": organization_id, "role": role})
    clear_auth_cache()


async def revoke_role(*, user_id: int, organization_id: int, role: str) -> None:
    async with db.atomic():
        deleted = await Membership.delete().where(
            (Membership.user == user_id) & (Membership.organization == organization_id) & (Membership.role == role)
        ).returning(Membership.id)
        if deleted:
            await audit.record(action="user.role_revoked", object_type="user", object_id=user_id,
                               before={"organization_id": organization_id, "role": role})
    clear_auth_cache()


async def roles_of(user_id: int, organization_id: int) -> frozenset[str]:
    rows = await Membership.select(Membership.role).where(
        (Membership.user == user_id) & (Membership.organization == organization_id))
    return frozenset(r["role"] for r in rows)


SELF_SERVICE_ROLES = ("buyer", "holder")  # others are granted by the platform or an agreement


async def register(*, org_name: str, credit_code: str, kind: str, email: str, password: str,
                   display_name: str, role: str, accept_checksum_warning: bool = False) -> dict:
    """Self-service sign-up: a new organization (pending verification) and its first user."""
    if role not in SELF_SERVICE_ROLES:
        raise DomainError("user.role_not_self_service", "自助注册只能选择需求方或数据持有方，其他角色由平台授予")
    if kind == "platform":
        raise DomainError("org.kind_invalid", "机构类型无效")
    async with db.atomic():
        org = await create_organization(name=org_name, credit_code=credit_code, kind=kind,
                                        accept_checksum_warning=accept_checksum_warning)
        user = await create_user(email=email, password=password, display_name=display_name,
                                 organization_id=org["id"], roles=[role])
    return {"organization": org, "user": user}


# ---- sessions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    principal: Principal


_DUMMY_HASH: str | None = None


async def login(*, email: str, password: str, client: str = "") -> NewSession:
    """Check a password and start a session; a burst of wrong passwords locks the account."""
    global _DUMMY_HASH
    email = (email or "").strip().lower()
    user = await User.select().where(User.email == email).first()
    now = _now()
    if user is None or not user["is_active"]:
        # spend the same time as a real check so response time doesn't reveal which e-mails exist
        _DUMMY_HASH = _DUMMY_HASH or hash_password("not-a-password")
        try:
            _Config.hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        raise Unauthorized("auth.invalid_credentials", "邮箱或密码错误")
    if user["locked_until"] is not None and user["locked_until"] > now:
        minutes = max(1, int((user["locked_until"] - now).total_seconds() // 60) + 1)
        raise Unauthorized("auth.locked", "密码错误次数过多，账户已临时锁定，请 {minutes} 分钟后再试",
                           minutes=minutes)
    try:
        _Config.hasher.verify(user["password_hash"], password or "")
        ok = True
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        failures = user["failed_logins"] + 1
        locked = failures >= _Config.max_failures
        async with db.atomic():
            values = {User.failed_logins: 0 if locked else failures}
            if locked:
                values[User.locked_until] = now + _Config.lockout
            await User.update(values).where(User.id == user["id"])
            await audit.record(action="user.locked" if locked else "user.login_failed", object_type="user",
                               object_id=user["id"], after={"failures": failures})
        if locked:
            raise Unauthorized("auth.locked", "密码错误次数过多，账户已临时锁定，请 {minutes} 分钟后再试",
                               minutes=int(_Config.lockout.total_seconds() // 60))
        raise Unauthorized("auth.invalid_credentials", "邮箱或密码错误")

    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    async with db.atomic():
        if _Config.hasher.check_needs_rehash(user["password_hash"]):
            await User.update({User.password_hash: hash_password(password)}).where(User.id == user["id"])
        await User.update({User.failed_logins: 0, User.locked_until: None, User.last_login_at: now}).where(
            User.id == user["id"])
        rows = await UserSession.insert(UserSession(
            token_hash=_sha256(token), user=user["id"], organization=user["organization"], csrf_token=csrf,
            expires_at=now + _Config.session_ttl, client=client[:100],
        )).returning(UserSession.id)
        await audit.record(action="user.login", object_type="user", object_id=user["id"],
                           after={"session_id": rows[0]["id"]})
    principal = await resolve_session(token)
    assert principal is not None
    return NewSession(token=token, principal=principal)


async def logout(*, token: str) -> None:
    """End a session (idempotent)."""
    token_hash = _sha256(token)
    async with db.atomic():
        row = await UserSession.select(UserSession.id, UserSession.user).where(
            (UserSession.token_hash == token_hash) & UserSession.ended_at.is_null()).first()
        if row is None:
            return
        await UserSession.update({UserSession.ended_at: _now()}).where(UserSession.id == row["id"])
        await audit.record(action="user.logout", object_type="user", object_id=row["user"],
                           after={"session_id": row["id"]})
    _cache.pop(("s", token), None)


_cache: dict[tuple[str, str], tuple[float, Principal | None]] = {}
# lookups in progress: when a cached entry expires under load, concurrent requests with the same
# credential share one database lookup instead of all running it at once
_inflight: dict[tuple[str, str], "asyncio.Future"] = {}


def clear_auth_cache() -> None:
    _cache.clear()


def _cached(key: tuple[str, str]) -> tuple[bool, Principal | None]:
    hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return True, hit[1]
    return False, None


def _remember(key: tuple[str, str], principal: Principal | None) -> None:
    if len(_cache) > 50_000:
        _cache.clear()
    _cache[key] = (time.monotonic() + _Config.cache_seconds, principal)


async def _principal(user_id: int, org_id: int, roles: frozenset[str] | None, *, via: str,
                     credential_id: int, csrf: str = "", label: str = "", scope: str = "") -> Principal | None:
    user = await User.select(User.id, User.email, User.display_name, User.locale, User.is_active).where(
        User.id == user_id).first()
    org = await Organization.select().where(Organization.id == org_id).first()
    if user is None or org is None or not user["is_active"]:
        return None
    member_roles = await roles_of(user_id, org_id)
    effective = member_roles if roles is None else (roles & member_roles)
    return Principal(user_id=user_id, email=user["email"], display_name=user["display_name"], org_id=org_id,
                     org_name=org["name"], org_verification=org["verification"], roles=effective, via=via,
                     credential_id=credential_id, csrf_token=csrf, locale=user["locale"],
                     label=label or user["email"], org=org, scope=scope)


async def _single_flight(key: tuple[str, str], lookup) -> Principal | None:
    hit, principal = _cached(key)
    if hit:
        return principal
    pending = _inflight.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    future = asyncio.get_running_loop().create_future()
    _inflight[key] = future
    try:
        principal = await lookup()
        _remember(key, principal)
        future.set_result(principal)
        return principal
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: waiters re-raise it, nobody else needs to
        raise
    finally:
        _inflight.pop(key, None)


async def resolve_session(token: str) -> Principal | None:
    # the cache is keyed by the token itself (it lives only in this process's memory); the hash is
    # computed only when the database must be asked
    key = ("s", token)

    async def lookup() -> Principal | None:
        row = await UserSession.select().where(UserSession.token_hash == _sha256(token)).first()
        if row and row["ended_at"] is None and row["expires_at"] > _now():
            return await _principal(row["user"], row["organization"], None, via="session",
                                    credential_id=row["id"], csrf=row["csrf_token"])
        return None

    return await _single_flight(key, lookup)


# ---- API keys ----------------------------------------------------------------------------


async def create_api_key(*, user_id: int, organization_id: int, name: str, scope: str = "") -> tuple[dict, str]:
    """Issue an API key for the user's organization; the secret is returned once, never stored. A
    `scope` ("entitlement:<id>") limits the key to the routes declaring that scope (the caller checks
    the user may use what the scope names)."""
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise DomainError("api_key.name_invalid", "请为密钥填写 1 到 100 个字符的名称")
    roles = await roles_of(user_id, organization_id)
    if not roles:
        raise Forbidden()
    prefix = secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    async with db.atomic():
        rows = await ApiKey.insert(ApiKey(
            organization=organization_id, created_by=user_id, name=name, prefix=prefix,
            key_hash=_sha256(secret), roles=",".join(sorted(roles)), scope=scope,
        )).returning(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.roles, ApiKey.created_at, ApiKey.scope)
        key = rows[0]
        await audit.record(action="api_key.created", object_type="api_key", object_id=key["id"],
                           after={"name": name, "prefix": prefix, "roles": key["roles"],
                                  "organization_id": organization_id, "scope": scope})
    return key, secret


async def list_api_keys(*, organization_id: int) -> list[dict]:
    return await ApiKey.select(ApiKey.id, ApiKey.name, ApiKey.prefix, ApiKey.roles, ApiKey.created_at,
                               ApiKey.last_used_at, ApiKey.revoked_at, ApiKey.scope,
                               ApiKey.created_by.email.as_alias("created_by_email")).where(
        ApiKey.organization == organization_id).order_by(ApiKey.id, ascending=False)


async def revoke_api_key(*, key_id: int, organization_id: int) -> None:
    """Revoke a key of one's own organization; refused for other organizations' keys."""
    async with db.atomic():
        key = await ApiKey.select().where(ApiKey.id == key_id).first()
        if key is None or key["organization"] != organization_id:
            raise NotFound("api_key.not_found", "密钥不存在")
        if key["revoked_at"] is not None:
            return
        changed = await db.rowcount_update(ApiKey, {ApiKey.revoked_at: _now()}, ApiKey.id == key_id,
                                           ApiKey.revoked_at.is_null())
        if changed:
            await audit.record(action="api_key.revoked", object_type="api_key", object_id=key_id,
                               before={"prefix": key["prefix"]})
    clear_auth_cache()


async def resolve_api_key(secret: str) -> Principal | None:
    key = ("k", secret)

    async def lookup() -> Principal | None:
        parts = secret.split("_")
        if not secret.startswith(KEY_PREFIX) or len(parts) < 3:
            return None
        row = await ApiKey.select().where(ApiKey.prefix == parts[1]).first()
        if not row or row["revoked_at"] is not None or not secrets.compare_digest(row["key_hash"], _sha256(secret)):
            return None
        principal = await _principal(row["created_by"], row["organization"],
                                     frozenset(filter(None, row["roles"].split(","))), via="api_key",
                                     credential_id=row["id"], label=f"api-key:{row['prefix']}",
                                     scope=row["scope"] or "")
        # last use is for people deciding which keys to revoke: minute precision is plenty
        last = row["last_used_at"]
        if last is None or _now() - last > timedelta(minutes=1):
            await ApiKey.update({ApiKey.last_used_at: _now()}).where(ApiKey.id == row["id"])
        return principal

    return await _single_flight(key, lookup)


# ---- listings for admin pages ----------------------------------------------------------------


async def list_organizations(*, page: int = 1, page_size: int = 50, verification: str | None = None):
    query = Organization.select().order_by(Organization.id)
    count = Organization.count()
    if verification:
        query = query.where(Organization.verification == verification)
        count = count.where(Organization.verification == verification)
    return await query.limit(page_size).offset((page - 1) * page_size), await count


async def get_organization(org_id: int) -> dict:
    org = await Organization.select().where(Organization.id == org_id).first()
    if org is None:
        raise NotFound("org.not_found", "机构不存在")
    return org


async def find_user(email: str) -> dict | None:
    return await User.select(User.id, User.email, User.display_name, User.organization).where(
        User.email == (email or "").strip().lower()).first()


async def set_password(*, user_id: int, password: str) -> None:
    _check_password_rules(password)
    async with db.atomic():
        await User.update({User.password_hash: hash_password(password), User.failed_logins: 0,
                           User.locked_until: None}).where(User.id == user_id)
        await audit.record(action="user.password_set", object_type="user", object_id=user_id)
    clear_auth_cache()
