"""Tables of the catalogue: data assets and their immutable versions."""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.db import StatusEnum, set_transitions
from market.tables import Organization, User


class ProfileStatus(StatusEnum):
    PENDING = "pending"  # uploaded, waiting for the profiling job
    RUNNING = "running"  # the job is reading and profiling the table
    DONE = "done"  # profile, classification and quality report are available
    FAILED = "failed"  # the file could not be read; `error` says why and what to do
    NEEDS_ENCODING = "encoding"  # the text encoding is uncertain: the holder chooses among the candidates shown


set_transitions(ProfileStatus, {
    ProfileStatus.PENDING: {ProfileStatus.RUNNING, ProfileStatus.FAILED},
    ProfileStatus.RUNNING: {ProfileStatus.DONE, ProfileStatus.FAILED, ProfileStatus.NEEDS_ENCODING},
    # the holder chose an encoding: profiling starts again with it
    ProfileStatus.NEEDS_ENCODING: {ProfileStatus.PENDING},
    # a job that died mid-way is retried from the start (profiling is idempotent)
    ProfileStatus.FAILED: {ProfileStatus.PENDING},
})


class DataAsset(Table, tablename="data_asset"):
    """A data resource (数据资源) of a holder; its content lives in versions."""

    id = Serial(primary_key=True)
    holder = ForeignKey(references=Organization, index=True)
    created_by = ForeignKey(references=User)
    title = Varchar(length=200)
    summary = Text(default="")
    category_path = Varchar(length=300, default="")  # 类/项/目/细目 joined with " > "
    tags = Text(default="[]")  # JSON list
    sharing_type = Varchar(length=20, default="conditional")  # unconditional / conditional / not_shared
    open_type = Varchar(length=20, default="conditional")  # unconditional / conditional / not_open
    update_cycle = Varchar(length=20, default="other")  # realtime/daily/weekly/monthly/quarterly/half_yearly/yearly/other
    grade = Varchar(length=20, default="general")  # general 一般 / important 重要 / core 核心 (GB/T 43697)
    grade_source = Varchar(length=20, default="suggested")  # suggested by the profile, or set by the holder
    grade_reason = Text(default="")  # the holder's reason when overriding the suggestion
    personal = Boolean(default=False)
    registration_code = Varchar(length=40, default="")  # 登记码, once registered
    current_version = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class AssetVersion(Table, tablename="asset_version"):
    """One upload of an asset's table. Never edited once profiled: a new upload is a new version."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=DataAsset, index=True)
    number = Integer()
    uploaded_by = ForeignKey(references=User)
    filename = Varchar(length=255)
    content_type = Varchar(length=100, default="")
    size = BigInt()
    sha256 = Varchar(length=64)
    object_key = Varchar(length=300)  # the file as uploaded
    prepared_key = Varchar(length=300, default="")  # UTF-8 comma CSV made from it
    format = Varchar(length=10, default="")
    encoding = Varchar(length=20, default="")
    delimiter = Varchar(length=4, default="")
    header_row = Integer(null=True, default=None)
    header_rows = Integer(default=1)
    reading = Text(default="{}")  # JSON: skipped rows, unit, missing markers, group column, sheet, warnings;
    # while the encoding is uncertain: encoding_candidates [{encoding, score, rows}], then the holder's encoding_choice
    columns = Text(default="[]")  # JSON list of column names
    row_count = BigInt(default=0)
    profile_status = Varchar(length=10, choices=ProfileStatus, default=ProfileStatus.PENDING.value, index=True)
    profile_progress = Integer(default=0)  # 0..100, for the progress bar
    profile_stage = Varchar(length=40, default="")
    error_code = Varchar(length=60, default="")
    error = Text(default="")  # JSON {message, params}: translated when shown
    profile = Text(default="")  # JSON from listings.profiling
    classification = Text(default="")  # JSON from listings.profiling.classification
    quality = Text(default="")  # JSON from listings.profiling.quality
    schema_diff = Text(default="")  # JSON, against the previous version
    created_at = Timestamptz(default=TimestamptzNow())
    profiled_at = Timestamptz(null=True, default=None)


class Tier(enum.StrEnum):
    RAW = "raw"  # 原始数据: free or at cost; never downloaded (原始数据不出域)
    CLEANED = "cleaned"  # 治理后数据: priced by measured quality
    PRODUCT = "product"  # 数据产品/服务: market price (capped for public data)


class DeliveryMode(enum.StrEnum):
    FILE = "file"  # a download of the data (not for raw public data)
    API = "api"  # an API with a key and a quota
    SANDBOX = "sandbox"  # usable but not visible: queries run where the data stays
    VERIFICATION = "verification"  # yes/no answers, e.g. 核验 of a credit code


class ListingStatus(StatusEnum):
    DRAFT = "draft"  # being prepared by the holder; invisible to buyers
    SUBMITTED = "submitted"  # waiting for platform review (compliance and quality checklist)
    NOTICE = "notice"  # 公示: public notice period; objections may be filed
    LISTED = "listed"  # on sale and searchable
    SUSPENDED = "suspended"  # temporarily off sale (dead source, objection, authority order)
    DELISTED = "delisted"  # permanently withdrawn
    REJECTED = "rejected"  # review or an objection refused it; the holder may revise and resubmit


set_transitions(ListingStatus, {
    ListingStatus.DRAFT: {ListingStatus.SUBMITTED, ListingStatus.DELISTED},
    ListingStatus.SUBMITTED: {ListingStatus.NOTICE, ListingStatus.REJECTED, ListingStatus.DRAFT},
    ListingStatus.NOTICE: {ListingStatus.LISTED, ListingStatus.REJECTED},
    ListingStatus.LISTED: {ListingStatus.SUSPENDED, ListingStatus.DELISTED},
    ListingStatus.SUSPENDED: {ListingStatus.LISTED, ListingStatus.DELISTED},
    ListingStatus.REJECTED: {ListingStatus.DRAFT},
})


class Listing(Table, tablename="listing"):
    """An asset offered at one tier. Catalogue fields are copied from the asset when created, so a
    listing under review or on sale does not change when the holder edits the asset."""

    id = Serial(primary_key=True)
    asset = ForeignKey(references=DataAsset, index=True)
    holder = ForeignKey(references=Organization, index=True)
    holder_name = Varchar(length=200)  # denormalized for search and display
    tier = Varchar(length=10, choices=Tier, index=True)
    delivery_mode = Varchar(length=20, choices=DeliveryMode, default=DeliveryMode.API.value)
    status = Varchar(length=20, choices=ListingStatus, default=ListingStatus.DRAFT.value, index=True)
    title = Varchar(length=200)
    summary = Text(default="")
    category_path = Varchar(length=300, default="", index=True)
    tags = Text(default="[]")  # JSON list
    columns = Text(default="[]")  # JSON [{name, type}] — 信息项
    update_cycle = Varchar(length=20, default="other")
    sharing_type = Varchar(length=20, default="conditional")
    open_type = Varchar(length=20, default="conditional")
    grade = Varchar(length=20, default="general")
    public_data = Boolean(default=False)  # held by a government body or public institution: 65号 caps apply
    registration_code = Varchar(length=40, default="")
    quality_score = Integer(default=0)
    row_count = BigInt(default=0)
    data_version = Integer(default=0)  # the asset version on sale
    pending_version = Integer(default=0)  # a newer version with incompatible changes, waiting for review
    data_updated_at = Timestamptz(null=True, default=None)
    min_price_fen = BigInt(default=0)  # cheapest active plan, for sorting and the price facet
    sample = Text(default="[]")  # JSON rows, masked
    notice_until = Timestamptz(null=True, default=None)
    review_note = Text(default="")
    status_reason = Text(default="")  # why it was suspended, rejected or delisted, in the actor's words
    overdue_since = Timestamptz(null=True, default=None)  # set when the data fell behind its update cycle
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    listed_at = Timestamptz(null=True, default=None)


class PlanKind(enum.StrEnum):
    FREE = "free"
    ONE_TIME = "one_time"  # one price for the product (按次/按件)
    SUBSCRIPTION = "subscription"  # a price per period of `months`
    CALL_PACK = "call_pack"  # a number of calls, with progressive volume tiers
    BASE_USAGE = "base_usage"  # a base fee plus a price per call


class PricePlan(Table, tablename="price_plan"):
    """How a listing is sold. Prices are integer 分; never edited once an order uses them (orders copy)."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, index=True)
    kind = Varchar(length=20, choices=PlanKind)
    name = Varchar(length=100)
    price_fen = BigInt(default=0)  # one-time / per period / per pack / base fee
    unit_fen = BigInt(default=0)  # per call (base + usage)
    months = Integer(default=0)  # subscription period
    calls = BigInt(default=0)  # calls in a pack, or included in a base fee
    tiers = Text(default="[]")  # JSON [{"up_to": calls or null, "unit_fen": n}] progressive volume pricing
    billing_unit = Varchar(length=20, default="per_product")  # 65号: per_product/per_call/per_period/per_volume
    revision_access = Varchar(length=20, default="all")  # RevisionAccess: which versions buyers may retrieve
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class PriceCap(Table, tablename="price_cap"):
    """上限收费标准 set by an agency for a public-data listing (65号): plan prices may not exceed it."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, index=True)
    agency = ForeignKey(references=Organization)
    cap_fen = BigInt()
    billing_unit = Varchar(length=20, default="per_product")
    basis = Text(default="")  # the agency's document or reasoning
    created_at = Timestamptz(default=TimestamptzNow())


class Objection(Table, tablename="listing_objection"):
    """An objection filed during the public notice (公示) of a listing."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, index=True)
    organization = ForeignKey(references=Organization)
    user = ForeignKey(references=User)
    reason = Text()
    status = Varchar(length=20, default="open")  # open / upheld / dismissed
    resolution = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class Demand(Table, tablename="demand"):
    """A buyer's request for data that may not exist yet (需求)."""

    id = Serial(primary_key=True)
    organization = ForeignKey(references=Organization, index=True)
    user = ForeignKey(references=User)
    title = Varchar(length=200)
    description = Text(default="")
    purpose = Varchar(length=30, default="industry")
    budget_fen = BigInt(default=0)
    status = Varchar(length=20, default="open")  # open / answered / closed
    created_at = Timestamptz(default=TimestamptzNow())


class DemandResponse(Table, tablename="demand_response"):
    """A listing suggested for a demand: by the matcher, or offered by a holder."""

    id = Serial(primary_key=True)
    demand = ForeignKey(references=Demand, index=True)
    listing = ForeignKey(references=Listing)
    source = Varchar(length=20, default="match")  # match / holder
    score = Integer(default=0)
    note = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RevisionAccess(enum.StrEnum):
    """Which versions a buyer may retrieve (revision access rules, as AWS Data Exchange calls them)."""

    ALL = "all"  # every published version, earlier ones included
    FROM_START = "from_start"  # the version on sale when the entitlement began, and later ones


class EntitlementStatus(StatusEnum):
    PENDING = "pending"  # a free-purpose request waiting for the holder's approval
    ACTIVE = "active"  # the buyer may receive the data
    DECLINED = "declined"  # the holder refused the request, with a reason
    EXPIRED = "expired"  # a subscription whose term has ended
    REVOKED = "revoked"  # withdrawn (breach, order refunded, listing delisted), with a reason
    SUSPENDED = "suspended"  # frozen while the mandate the data was made under is suspended; resumable


set_transitions(EntitlementStatus, {
    EntitlementStatus.PENDING: {EntitlementStatus.ACTIVE, EntitlementStatus.DECLINED},
    EntitlementStatus.ACTIVE: {EntitlementStatus.EXPIRED, EntitlementStatus.REVOKED, EntitlementStatus.SUSPENDED},
    EntitlementStatus.SUSPENDED: {EntitlementStatus.ACTIVE, EntitlementStatus.REVOKED, EntitlementStatus.EXPIRED},
})


class Entitlement(Table, tablename="entitlement"):
    """A buyer organization's right to receive a listing's data under one plan, for a declared purpose.
    Granted by a free claim (listings) or by a paid order (billing, through `service.grant`)."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, index=True)
    plan = ForeignKey(references=PricePlan)
    buyer = ForeignKey(references=Organization, index=True)
    user = ForeignKey(references=User)
    kind = Varchar(length=20, choices=PlanKind)  # copied from the plan
    purpose = Varchar(length=30)  # pricing.PURPOSES
    purpose_note = Text(default="")  # what the buyer will use the data for, in its own words
    amount_fen = BigInt(default=0)  # what the buyer pays (0 for a claim or a free order)
    # how many of the plan's unit the order bought: periods of a subscription, packs of calls
    quantity = Integer(default=1)
    calls = BigInt(default=0)  # the call quota bought (the plan's calls × quantity); 0 when the plan has none
    # claim: a free claim made before free data was ordered too (kept, still honoured); order: billing
    source = Varchar(length=20, default="claim")
    source_ref = Varchar(length=60, default="")  # the order's number when source is order
    status = Varchar(length=20, choices=EntitlementStatus, default=EntitlementStatus.PENDING.value, index=True)
    revision_access = Varchar(length=20, choices=RevisionAccess, default=RevisionAccess.ALL.value)
    start_version = Integer(default=0)  # the listing's version on sale when it became active
    starts_at = Timestamptz(null=True, default=None)
    ends_at = Timestamptz(null=True, default=None)  # subscriptions only
    decision_note = Text(default="")  # the holder's reason for declining, or why it was revoked
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class VersionDelivery(Table, tablename="version_delivery"):
    """A version made available to an entitlement (the buyer was told), and its downloads."""

    id = Serial(primary_key=True)
    entitlement = ForeignKey(references=Entitlement, index=True)
    version = Integer()
    key = Varchar(length=40, unique=True)  # "<entitlement>:<version>": delivering twice is a no-op
    downloads = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
    last_download_at = Timestamptz(null=True, default=None)


class DeliveryMark(Table, tablename="delivery_mark"):
    """One delivered file: who received it, when and for what. Its id is signed into the file's
    invisible fingerprint, so a leaked copy leads back here."""

    id = Serial(primary_key=True)
    entitlement = ForeignKey(references=Entitlement, index=True)
    version = Integer()
    recipient = ForeignKey(references=Organization)
    recipient_credit_code = Varchar(length=18)
    user = ForeignKey(references=User)
    purpose = Varchar(length=30)
    source_ref = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class ReleaseStatus(StatusEnum):
    """Whether a sandbox result may leave as a CSV download."""

    WITHHELD = "withheld"  # the query was refused: nothing to release
    PENDING = "pending"  # the holder reviews results of this listing before they leave
    RELEASED = "released"  # the buyer may download it (at once, or approved by the holder)
    REJECTED = "rejected"  # the holder refused it, with a note


set_transitions(ReleaseStatus, {
    ReleaseStatus.PENDING: {ReleaseStatus.RELEASED, ReleaseStatus.REJECTED},
})


class SandboxPolicy(Table, tablename="sandbox_policy"):
    """A holder's choices for the sandbox of one listing (no row: results are released at once)."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, unique=True)
    review_required = Boolean(default=False)  # results wait for the holder's review before they leave
    updated_by = ForeignKey(references=User, null=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class SandboxQuery(Table, tablename="sandbox_query"):
    """One query a buyer ran in the sandbox of an entitlement, with its decision: the log the holder and
    regulators read. Answered results (already k-suppressed) are kept for release and download."""

    id = Serial(primary_key=True)
    entitlement = ForeignKey(references=Entitlement, index=True)
    listing = ForeignKey(references=Listing, index=True)
    buyer = ForeignKey(references=Organization, index=True)
    user = ForeignKey(references=User)
    via = Varchar(length=10, default="session")  # session / api_key
    version = Integer(default=0)
    sql = Text()
    fingerprint = Varchar(length=40, default="", index=True)  # the SQL with constants blanked
    near_duplicate = Boolean(default=False)  # same fingerprint as an earlier query today with other constants
    day = Varchar(length=10, index=True)  # Asia/Shanghai date: the daily budget counts per day
    decision = Varchar(length=20)  # answered / refused
    code = Varchar(length=60, default="")  # the refusal's stable code
    message = Text(default="")  # the refusal in Chinese, as the buyer saw it
    columns = Text(default="[]")  # JSON list of output names
    rows = Text(default="[]")  # JSON rows after suppression
    row_count = Integer(default=0)
    suppressed = Integer(default=0)  # groups under k dropped
    k = Integer(default=0)
    duration_ms = Integer(default=0)
    release = Varchar(length=20, choices=ReleaseStatus, default=ReleaseStatus.WITHHELD.value, index=True)
    review_note = Text(default="")
    reviewed_by = ForeignKey(references=User, null=True)
    reviewed_at = Timestamptz(null=True, default=None)
    downloads = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())
