"""Tables of the operators package: authorization agreements (授权运营协议) between an agency and an
operator, the consent of departments whose shared data enters a scope, the operator's revenue
against its permitted maximum, and the alerts raised on the way."""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from listings.tables import DataAsset, Listing
from market.db import StatusEnum, set_transitions
from market.tables import Document, Organization, User


class AgreementMode(enum.StrEnum):
    WHOLE = "whole"  # 整体授权: all of an agency's public data of the named scope
    DOMAIN = "domain"  # 分领域授权: one or more domains (category subtrees)
    SCENARIO = "scenario"  # 依场景授权: named application scenarios


class AgreementStatus(StatusEnum):
    DRAFT = "draft"  # terms frozen and the PDF issued (or being rendered); waiting for the two signatures
    SIGNED = "signed"  # signed by both; takes effect on starts_on (a periodic job activates it)
    ACTIVE = "active"  # in force: the operator may act within its scope
    SUSPENDED = "suspended"  # in force but frozen by the agency or the platform, with a reason; resumable
    SUPERSEDED = "superseded"  # replaced by an amendment that took effect; kept as it was signed
    EXPIRED = "expired"  # its term ended
    TERMINATED = "terminated"  # ended early by the agency or the platform, with a reason
    WITHDRAWN = "withdrawn"  # a draft (or a draft amendment) abandoned before both parties signed


set_transitions(AgreementStatus, {
    AgreementStatus.DRAFT: {AgreementStatus.SIGNED, AgreementStatus.ACTIVE, AgreementStatus.WITHDRAWN},
    AgreementStatus.SIGNED: {AgreementStatus.ACTIVE, AgreementStatus.SUPERSEDED, AgreementStatus.EXPIRED,
                             AgreementStatus.TERMINATED},
    AgreementStatus.ACTIVE: {AgreementStatus.SUSPENDED, AgreementStatus.SUPERSEDED, AgreementStatus.EXPIRED,
                             AgreementStatus.TERMINATED},
    AgreementStatus.SUSPENDED: {AgreementStatus.ACTIVE, AgreementStatus.EXPIRED, AgreementStatus.TERMINATED},
})


class AuthorizationAgreement(Table, tablename="authorization_agreement"):
    """One version of an agreement. Version 1 is the original; an amendment is a new row with the same
    number and the next version, its own PDF and signatures. A row is never edited after it is drafted,
    except for its status (and the times and reason that go with a status)."""

    id = Serial(primary_key=True)
    number = Varchar(length=30, default="", index=True)  # SQ-<year>-<id of version 1>, shared by every version
    version = Integer(default=1)
    # "<number>/v<version>": two amendments of the same version cannot both become the next one
    version_key = Varchar(length=40, unique=True, null=True, default=None)
    previous = Integer(null=True, default=None)  # the id of the version this one amends
    agency_org = ForeignKey(references=Organization, index=True)
    operator_org = ForeignKey(references=Organization, index=True)
    created_by = ForeignKey(references=User)
    modes = Text(default="[]")  # JSON list of AgreementMode
    # JSON {"asset_ids": [...], "categories": [tree paths], "columns": {"<asset id>": [column, ...]}}
    scope = Text(default="{}")
    purposes = Text(default="[]")  # JSON list of listings.pricing.PURPOSES keys
    scenarios = Text(default="[]")  # JSON list of application scenarios, in words
    product_types = Text(default="[]")  # JSON list: listings DeliveryMode values the operator may offer
    # JSON list of product types the source holders approve in advance: a derived product of one of
    # these types is listed without asking each holder (upstream co-approval passes automatically)
    preapproved_product_types = Text(default="[]")
    tiers = Text(default="[]")  # JSON list: listings Tier values the operator may list
    items = Text(default="[]")  # JSON [{"name", "cap_fen", "unit"}]: 产品和服务清单 with 上限收费标准
    max_revenue_fen = BigInt(default=0)  # 最高准许收入 per calendar year
    exclusive = Boolean(default=False)
    security_duties = Text(default="")
    exit_terms = Text(default="")
    note = Text(default="")  # what an amendment changes and why
    starts_on = Date()
    ends_on = Date()
    terms = Text(default="{}")  # canonical JSON of everything the PDF says, frozen when drafted
    template_version = Integer(default=1)
    document = ForeignKey(references=Document, null=True, index=True)
    status = Varchar(length=20, choices=AgreementStatus, default=AgreementStatus.DRAFT.value, index=True)
    status_reason = Text(default="")  # why it was suspended, terminated or withdrawn, in the actor's words
    created_at = Timestamptz(default=TimestamptzNow())
    # touched at the start of every signing transaction: on PostgreSQL the row lock makes the two
    # parties signing at once see each other's signature, so exactly one of them completes it
    updated_at = Timestamptz(default=TimestamptzNow())
    signed_at = Timestamptz(null=True, default=None)
    activated_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)


class SharedSource(Table, tablename="shared_source"):
    """An asset its holder obtained from another department by data sharing (27号): the providing
    department's recorded consent is needed before the asset enters an authorization scope."""

    id = Serial(primary_key=True)
    key = Varchar(length=40, unique=True)  # "<asset>:<provider org>": declared once
    asset = ForeignKey(references=DataAsset, index=True)
    provider_org = ForeignKey(references=Organization)
    declared_by = ForeignKey(references=User)
    declared_at = Timestamptz(default=TimestamptzNow())
    consent_user = ForeignKey(references=User, null=True, default=None)  # who consented for the provider
    consented_on = Date(null=True, default=None)  # the date of the consent document
    document_note = Text(default="")  # the consent document: its number, title or where it is kept
    consented_at = Timestamptz(null=True, default=None)  # when the consent was recorded here


class AgreementRevenue(Table, tablename="agreement_revenue"):
    """Revenue the operator earned under an agreement (a sale, or a refund as a negative amount)."""

    id = Serial(primary_key=True)
    number = Varchar(length=30, index=True)  # the agreement's number: revenue counts across its versions
    agreement = ForeignKey(references=AuthorizationAgreement)  # the version in force when recorded
    year = Integer(index=True)
    amount_fen = BigInt()
    ref = Varchar(length=100, unique=True)  # the caller's reference (an order number): recorded once
    note = Text(default="")
    recorded_at = Timestamptz(default=TimestamptzNow())


class OperatorAlert(Table, tablename="operator_alert"):
    """Something a regulator should look at (revenue above the permitted maximum, …)."""

    id = Serial(primary_key=True)
    key = Varchar(length=100, unique=True)  # one alert per cause, however often it is noticed
    kind = Varchar(length=40, index=True)  # revenue_over_max, …
    object_type = Varchar(length=40)
    object_id = Varchar(length=40)
    agreement = ForeignKey(references=AuthorizationAgreement, null=True, default=None)
    detail = Text(default="{}")  # JSON
    created_at = Timestamptz(default=TimestamptzNow())


# ---- derived products by pipelines ---------------------------------------------------------------


class Pipeline(Table, tablename="pipeline"):
    """An operator's SQL over declared sources, run under an agreement to make a derived asset. Never
    edited: a changed definition is a new pipeline (its lineage names the text it ran)."""

    id = Serial(primary_key=True)
    operator_org = ForeignKey(references=Organization, index=True)
    created_by = ForeignKey(references=User)
    agreement = ForeignKey(references=AuthorizationAgreement, index=True)  # the version named when created
    title = Varchar(length=200)
    sources = Text(default="{}")  # JSON {name: asset id}
    sql = Text()
    sql_sha256 = Varchar(length=64)
    k = Integer(default=0)  # k-anonymity over k_columns; 0: no check
    k_columns = Text(default="[]")  # JSON list of output columns
    drop_identifiers = Boolean(default=True)  # leave out output columns that copy a direct identifier unchanged
    rerun_on_new_version = Boolean(default=False)  # run again when a source gets a new version
    output_asset = ForeignKey(references=DataAsset, null=True, default=None, index=True)  # set by the first run
    created_at = Timestamptz(default=TimestamptzNow())


class RunStatus(StatusEnum):
    QUEUED = "queued"  # waiting for the job
    RUNNING = "running"  # the engine is working
    DONE = "done"  # the output became a new version of the derived asset (profiled by the listings job)
    FAILED = "failed"  # refused (scope, agreement) or failed (SQL, budget, k-anonymity); `error` says why


set_transitions(RunStatus, {
    RunStatus.QUEUED: {RunStatus.RUNNING, RunStatus.FAILED},
    RunStatus.RUNNING: {RunStatus.DONE, RunStatus.FAILED},
})


class PipelineRun(Table, tablename="pipeline_run"):
    """One run of a pipeline, started by the operator or by a new source version."""

    id = Serial(primary_key=True)
    pipeline = ForeignKey(references=Pipeline, index=True)
    status = Varchar(length=10, choices=RunStatus, default=RunStatus.QUEUED.value, index=True)
    trigger = Varchar(length=20, default="manual")  # manual / source_version
    requested_by = ForeignKey(references=User, null=True, default=None)
    engine = Varchar(length=10, default="")
    error_code = Varchar(length=60, default="")
    error = Text(default="")  # JSON {message, params}: translated when shown
    asset = ForeignKey(references=DataAsset, null=True, default=None)
    asset_version = Integer(null=True, default=None)
    rows_in = BigInt(default=0)
    rows_out = BigInt(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)


class Lineage(Table, tablename="asset_lineage"):
    """Where one version of a derived asset came from: written once, with the run that made it."""

    id = Serial(primary_key=True)
    key = Varchar(length=40, unique=True)  # "<asset>:<version>"
    asset = ForeignKey(references=DataAsset, index=True)
    version = Integer()
    run = ForeignKey(references=PipelineRun, index=True)
    pipeline = ForeignKey(references=Pipeline, index=True)
    operator_org = ForeignKey(references=Organization, index=True)
    agreement = ForeignKey(references=AuthorizationAgreement)  # the effective version the run was checked against
    sources = Text(default="[]")  # JSON [{name, asset_id, version, holder_id}]
    pipeline_sql = Text()
    pipeline_sha256 = Varchar(length=64)
    engine = Varchar(length=10)
    rows_in = BigInt(default=0)
    rows_out = BigInt(default=0)
    started_at = Timestamptz()
    finished_at = Timestamptz()
    created_at = Timestamptz(default=TimestamptzNow())


# ---- upstream co-approval of derived products ----------------------------------------------------


class CoapprovalStatus(StatusEnum):
    PENDING = "pending"  # the holder has been asked and has not answered
    APPROVED = "approved"  # the holder agreed, with a note
    DECLINED = "declined"  # the holder refused, with a note: the product cannot be submitted
    PREAPPROVED = "preapproved"  # the agreement pre-approves the product's type: nobody had to be asked


set_transitions(CoapprovalStatus, {
    CoapprovalStatus.PENDING: {CoapprovalStatus.APPROVED, CoapprovalStatus.DECLINED},
})


class Coapproval(Table, tablename="derived_coapproval"):
    """One source holder's approval of a derived product before it is listed (one row per listing and
    holder), asked for when the operator first submits the listing."""

    id = Serial(primary_key=True)
    key = Varchar(length=40, unique=True)  # "<listing>:<holder org>": asked once
    listing = ForeignKey(references=Listing, index=True)
    asset = ForeignKey(references=DataAsset, index=True)  # the derived asset
    operator_org = ForeignKey(references=Organization, index=True)
    holder_org = ForeignKey(references=Organization, index=True)
    agreement = ForeignKey(references=AuthorizationAgreement)  # the version in force when asked
    source_asset_ids = Text(default="[]")  # JSON: the holder's assets the product is built from
    status = Varchar(length=20, choices=CoapprovalStatus, default=CoapprovalStatus.PENDING.value, index=True)
    note = Text(default="")  # the holder's words, approving or declining
    decided_by = ForeignKey(references=User, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    reminded_on = Date(null=True, default=None)  # the last day a reminder went out: at most one a day
    created_at = Timestamptz(default=TimestamptzNow())
