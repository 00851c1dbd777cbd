"""Tables of the catalogue: data assets and their immutable versions."""

from __future__ import annotations

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


set_transitions(ProfileStatus, {
    ProfileStatus.PENDING: {ProfileStatus.RUNNING, ProfileStatus.FAILED},
    ProfileStatus.RUNNING: {ProfileStatus.DONE, ProfileStatus.FAILED},
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
    reading = Text(default="{}")  # JSON: skipped rows, unit, missing markers, group column, sheet, warnings
    columns = Text(default="[]")  # JSON list of column names
    row_count = BigInt(default=0)
    profile_status = Varchar(length=10, choices=ProfileStatus, default=ProfileStatus.PENDING.value, index=True)
    profile_progress = Integer(default=0)  # 0..100, for the progress bar
    profile_stage = Varchar(length=40, default="")
    error_code = Varchar(length=60, default="")
    error = Text(default="")  # JSON {message, params}: translated when shown
    profile = Text(default="")  # JSON from listings.profiling
    classification = Text(default="")  # JSON from listings.classification
    quality = Text(default="")  # JSON from listings.quality
    schema_diff = Text(default="")  # JSON, against the previous version
    created_at = Timestamptz(default=TimestamptzNow())
    profiled_at = Timestamptz(null=True, default=None)
