"""Tables of the shared core: identity, audit chain, outbox, scheduler, notifications."""

from __future__ import annotations

import enum

from piccolo.columns import (
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.db import StatusEnum, set_transitions


class Role(enum.StrEnum):
    HOLDER = "holder"  # 数据持有方: lists data, sets prices within caps, approves conditional orders
    BUYER = "buyer"  # 需求方: searches, orders for a declared purpose, receives data
    OPERATOR = "operator"  # 运营机构: builds derived products under an authorization agreement
    AGENCY = "agency"  # 实施机构: grants authorization agreements, sets price caps
    REGULATOR = "regulator"  # 监管方: reads everything, verifies the audit chain
    ADMIN = "admin"  # 平台管理员: reviews listings, runs the platform


class OrgKind(enum.StrEnum):
    GOVERNMENT = "government"  # 政府部门 (机关)
    INSTITUTION = "institution"  # 事业单位
    ENTERPRISE = "enterprise"  # 企业
    PLATFORM = "platform"  # the exchange that runs this marketplace


class Verification(StatusEnum):
    PENDING = "pending"  # registered, credit code not yet checked by the platform
    VERIFIED = "verified"  # the platform confirmed the legal entity
    REJECTED = "rejected"  # the platform refused it; users can log in but not trade
    SUSPENDED = "suspended"  # verified before, now barred (e.g. serious-default listing)


set_transitions(Verification, {
    Verification.PENDING: {Verification.VERIFIED, Verification.REJECTED},
    Verification.REJECTED: {Verification.VERIFIED},
    Verification.VERIFIED: {Verification.SUSPENDED},
    Verification.SUSPENDED: {Verification.VERIFIED},
})


class Organization(Table, tablename="organization"):
    id = Serial(primary_key=True)
    name = Varchar(length=200)
    credit_code = Varchar(length=18, unique=True)  # 统一社会信用代码 (GB 32100)
    # the GB 32100 check character failed and a person accepted it (a few early codes fail)
    credit_code_override = Boolean(default=False)
    kind = Varchar(length=20, choices=OrgKind)
    region_code = Varchar(length=6, default="")  # GB/T 2260, from the credit code
    verification = Varchar(length=20, choices=Verification, default=Verification.PENDING.value)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="market_user"):
    id = Serial(primary_key=True)
    email = Varchar(length=254, unique=True)  # stored lower-case
    display_name = Varchar(length=100)
    password_hash = Varchar(length=200)
    organization = ForeignKey(references=Organization)  # the organization a session starts in
    locale = Varchar(length=5, default="zh")
    is_active = Boolean(default=True)
    failed_logins = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
    last_login_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table, tablename="membership"):
    """One role of a user in an organization; a user may hold several."""

    id = Serial(primary_key=True)
    user = ForeignKey(references=User)
    organization = ForeignKey(references=Organization)
    role = Varchar(length=20, choices=Role)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiKey(Table, tablename="api_key"):
    """A machine credential scoped to one organization; only its hash is kept."""

    id = Serial(primary_key=True)
    organization = ForeignKey(references=Organization)
    created_by = ForeignKey(references=User)
    name = Varchar(length=100)
    prefix = Varchar(length=16, unique=True)  # shown in lists so people can tell keys apart
    key_hash = Varchar(length=64)  # sha256 of the secret: keys are random, so no slow hash needed
    roles = Varchar(length=200)  # comma-separated, a subset of the creator's roles at creation
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    # "" : the organization's key (the creator's roles); "entitlement:<id>": only the data routes of
    # that entitlement (metered API, verification), refused everywhere else
    scope = Varchar(length=60, default="")


class UserSession(Table, tablename="user_session"):
    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)  # sha256 of the cookie value
    user = ForeignKey(references=User)
    organization = ForeignKey(references=Organization)
    csrf_token = Varchar(length=64)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    client = Varchar(length=100, default="")


class AuditEvent(Table, tablename="audit_event"):
    """Append-only, hash-chained record of every state change. Never updated or deleted."""

    id = Serial(primary_key=True)
    seq = BigInt(unique=True)  # 1, 2, 3 … without gaps: a gap is a missing event
    at = Varchar(length=32)  # ISO-8601 UTC text, hashed exactly as stored
    actor_user_id = Integer(null=True, default=None)
    actor_org_id = Integer(null=True, default=None)
    actor_label = Varchar(length=200, default="")  # e-mail, "api-key:abcd", or "system"
    action = Varchar(length=100, index=True)
    object_type = Varchar(length=60)
    object_id = Varchar(length=64)
    before = Text(default="")  # canonical JSON
    after = Text(default="")  # canonical JSON
    request_id = Varchar(length=64, default="")
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class OutboxStatus(StatusEnum):
    ACTIVE = "active"  # the dispatcher sends it (again) until it is done (done_at)
    DEAD = "dead"  # set aside: its attempt killed its process or it failed too often; never sent by itself
    DISCARDED = "discarded"  # a platform admin dropped a dead job


set_transitions(OutboxStatus, {
    OutboxStatus.ACTIVE: {OutboxStatus.DEAD},
    OutboxStatus.DEAD: {OutboxStatus.ACTIVE, OutboxStatus.DISCARDED},  # requeued or discarded by an admin
})


class OutboxMessage(Table, tablename="outbox_message"):
    """A job recorded in the transaction of the change that caused it, sent after commit."""

    id = Serial(primary_key=True)
    actor_name = Varchar(length=100)
    queue_name = Varchar(length=60, default="default")
    kwargs = Text()  # JSON
    created_at = Timestamptz(default=TimestamptzNow())
    # a dispatcher claims a row before sending it, so two dispatchers rarely send the same job
    claimed_until = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    sends = Integer(default=0)
    done_at = Timestamptz(null=True, default=None, index=True)  # the actor finished without error
    last_error = Text(default="")
    status = Varchar(length=20, choices=OutboxStatus, default=OutboxStatus.ACTIVE.value, index=True)
    # Written BEFORE the job runs and cleared when it reports done or failed: a redelivery that finds
    # it set knows an earlier attempt began, and if its process is gone, that the attempt killed it.
    attempt_started_at = Timestamptz(null=True, default=None)
    attempt_owner = Varchar(length=120, default="")  # which process runs the attempt (market._attempts)
    attempt_beat_at = Timestamptz(null=True, default=None)  # the attempt's last heartbeat
    attempts = Integer(default=0)  # attempts started
    failures = Integer(default=0)  # attempts that raised
    dead_reason = Varchar(length=40, default="")  # process_died / failed_repeatedly / never_acknowledged
    dead_at = Timestamptz(null=True, default=None)


class ScheduleRun(Table, tablename="schedule_run"):
    """When each periodic job was last enqueued; compare-and-set makes one process win each tick."""

    id = Serial(primary_key=True)
    name = Varchar(length=100, unique=True)
    last_enqueued_at = Timestamptz()


class Notification(Table, tablename="notification"):
    id = Serial(primary_key=True)
    user = ForeignKey(references=User, null=True)
    organization = ForeignKey(references=Organization, null=True)
    kind = Varchar(length=60)
    subject = Varchar(length=200)
    body = Text(default="")
    link = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)  # handed to every channel configured
    read_at = Timestamptz(null=True, default=None)


class DocumentKind(enum.StrEnum):
    PURCHASE_CONTRACT = "purchase_contract"  # 数据产品购买合同, signed by buyer and holder
    INVOICE = "invoice"  # 数电发票 issued by the platform as seller of record
    CREDIT_NOTE = "credit_note"  # 红字发票 correcting an invoice (invoices are never edited)
    STATEMENT = "statement"  # a holder's monthly statement
    AUTHORIZATION_AGREEMENT = "authorization_agreement"  # 授权运营协议 between agency and operator
    ANNUAL_REPORT = "annual_report"  # 年度经营情况报告 of an operator for a year
    AGENCY_DISCLOSURE = "agency_disclosure"  # the agency's yearly disclosure: agreements and price caps
    OPERATOR_DISCLOSURE = "operator_disclosure"  # the operator's yearly disclosure: products, services, fees


class DocumentStatus(StatusEnum):
    PENDING = "pending"  # recorded with its frozen context; the PDF is being rendered by a job
    RENDERED = "rendered"  # the PDF is stored and its sha256 recorded; it may be signed and verified


set_transitions(DocumentStatus, {
    DocumentStatus.PENDING: {DocumentStatus.RENDERED},
})


class Document(Table, tablename="document"):
    """A PDF the platform issued, rendered once from a versioned template and a frozen context.
    Nothing here is edited after rendering: a correction is a new document."""

    id = Serial(primary_key=True)
    kind = Varchar(length=30, choices=DocumentKind)
    title = Varchar(length=200, default="")  # e.g. 数据产品购买合同 HT-2026-000012
    subject_type = Varchar(length=60, default="")  # the row it belongs to (purchase_contract, invoice …)
    subject_id = Varchar(length=64, default="", index=True)
    template = Varchar(length=200)  # pdf/<kind>/v<N>.html under templates/, never edited once used
    template_version = Integer()
    context = Text()  # canonical JSON the template renders; frozen at creation
    parties = Text(default="[]")  # JSON [{role, org_id, name, credit_code}]: to whom it was issued
    on_rendered = Varchar(length=100, default="")  # job told {document_id} once rendered (owner's hook)
    status = Varchar(length=20, choices=DocumentStatus, default=DocumentStatus.PENDING.value)
    storage_key = Varchar(length=300, default="")
    sha256 = Varchar(length=64, default="", index=True)  # of the exact PDF bytes stored and served
    size = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    rendered_at = Timestamptz(null=True, default=None)


class Signature(Table, tablename="signature"):
    """One party's signature of one rendered document: who, when, from where, over which bytes."""

    id = Serial(primary_key=True)
    document = ForeignKey(references=Document, index=True)
    key = Varchar(length=100, unique=True)  # "<document>:<party role>": a party signs a document once
    party_role = Varchar(length=30)  # buyer, holder, agency, operator …
    organization = ForeignKey(references=Organization)
    user = ForeignKey(references=User, null=True)  # empty for an automatic countersignature
    method = Varchar(length=20, default="in_app")  # in_app | auto (holder's standing countersignature)
    ip = Varchar(length=64, default="")
    sha256 = Varchar(length=64)  # of the PDF bytes signed
    signed_at = Timestamptz(default=TimestamptzNow())
