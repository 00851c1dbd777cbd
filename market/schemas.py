"""JSON shapes of the core API (msgspec Structs in and out)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class SessionIn(msgspec.Struct):
    email: str
    password: str


class OrganizationOut(msgspec.Struct):
    id: int
    name: str
    credit_code: str
    kind: str
    verification: str
    region_code: str = ""
    credit_code_override: bool = False


class UserOut(msgspec.Struct):
    id: int
    email: str
    display_name: str
    locale: str


class MeOut(msgspec.Struct):
    user: UserOut
    organization: OrganizationOut
    roles: list[str]
    csrf_token: str | None  # null for API-key calls, which need none
    auth: str  # "session" or "api_key"


class ApiKeyIn(msgspec.Struct):
    name: str


class ApiKeyOut(msgspec.Struct):
    id: int
    name: str
    prefix: str
    roles: list[str]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    created_by_email: str | None = None


class ApiKeyCreated(msgspec.Struct):
    key: ApiKeyOut
    secret: str  # shown once; only its hash is kept


class OrganizationIn(msgspec.Struct):
    name: str
    credit_code: str
    kind: str
    accept_checksum_warning: bool = False


class RegistrationIn(msgspec.Struct):
    org_name: str
    credit_code: str
    kind: str  # government, institution, enterprise
    email: str
    password: str
    display_name: str
    role: str  # buyer or holder
    accept_checksum_warning: bool = False


class VerificationIn(msgspec.Struct):
    to: str  # verified, rejected, suspended


class AuditEventOut(msgspec.Struct):
    seq: int
    at: str
    actor_label: str
    actor_user_id: int | None
    actor_org_id: int | None
    action: str
    object_type: str
    object_id: str
    before: str
    after: str
    request_id: str
    prev_hash: str
    hash: str


class ChainOut(msgspec.Struct):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str
    head_seq: int | None
    head_hash: str | None


def api_key_out(row: dict) -> ApiKeyOut:
    return ApiKeyOut(id=row["id"], name=row["name"], prefix=row["prefix"],
                     roles=[r for r in row["roles"].split(",") if r], created_at=row["created_at"],
                     last_used_at=row.get("last_used_at"), revoked_at=row.get("revoked_at"),
                     created_by_email=row.get("created_by_email"))


def org_out(row: dict) -> OrganizationOut:
    return OrganizationOut(id=row["id"], name=row["name"], credit_code=row["credit_code"], kind=row["kind"],
                           verification=row["verification"], region_code=row.get("region_code", ""),
                           credit_code_override=bool(row.get("credit_code_override")))


class DeadLetterOut(msgspec.Struct):
    """A job set aside (dead-lettered): never sent again unless an admin requeues it."""

    id: int
    job: str
    arguments: dict
    queue: str
    sends: int
    attempts: int  # attempts started
    failures: int  # attempts that raised
    last_error: str
    reason: str  # process_died / failed_repeatedly / never_acknowledged
    reason_text: str  # the reason in the caller's language
    created_at: datetime
    dead_at: datetime | None
