"""Tables of data delivered as a service: the call counters, the call trace, the holder's verification
declarations and the alerts already sent."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from listings.tables import Entitlement, Listing
from market.tables import ApiKey, Organization, User


class ApiMeter(Table, tablename="data_api_meter"):
    """A call counter: the compare-and-set target of every metered call. One per entitlement for
    quota plans (call packs, free, subscriptions: `period` ""), one per entitlement and calendar month
    for base + usage plans (`period` "YYYY-MM", what the month's invoice is computed from)."""

    id = Serial(primary_key=True)
    key = Varchar(length=40, unique=True)  # "<entitlement>" or "<entitlement>:<YYYY-MM>"
    entitlement = ForeignKey(references=Entitlement, index=True)
    period = Varchar(length=7, default="")
    quota = BigInt(default=0)  # calls allowed (a call pack's calls × packs); 0: no quota
    used = BigInt(default=0)  # calls answered
    updated_at = Timestamptz(default=TimestamptzNow())


class ApiCall(Table, tablename="data_api_call"):
    """One call to the data API or to verification, answered or refused: who, when, which query, how
    many rows (the trace the holder and regulators read; 统一接口网关的调用留痕)."""

    id = Serial(primary_key=True)
    entitlement = ForeignKey(references=Entitlement, index=True)
    listing = ForeignKey(references=Listing, index=True)
    buyer = ForeignKey(references=Organization, index=True)
    user = ForeignKey(references=User)
    api_key = ForeignKey(references=ApiKey, null=True)
    mode = Varchar(length=20)  # api / verification
    # answered: counted and sent; over_quota, rate_limited, over_daily_cap: refused, not counted
    outcome = Varchar(length=20, index=True)
    seq = BigInt(default=0)  # the call's number on its meter (answered calls only)
    price_fen = BigInt(default=0)  # what this call costs at its tier (usage plans, tiered packs)
    query = Text(default="{}")  # JSON: fields, filters, order, limit, offset / the verification's columns
    rows = Integer(default=0)  # rows in the answer (verification: 0 or 1 matched, never sent)
    matched = Boolean(null=True, default=None)  # verification only
    period = Varchar(length=7, index=True)  # "YYYY-MM" of the call (Asia/Shanghai)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)


class VerificationRule(Table, tablename="verification_rule"):
    """What a listing delivered as verification (核验) answers: the columns a buyer sends, and either a
    yes/no match or the value of one answer column (e.g. 参保状态). Set by the holder."""

    id = Serial(primary_key=True)
    listing = ForeignKey(references=Listing, unique=True)
    ask_columns = Text(default="[]")  # JSON list of column names, all required in a request
    answer_column = Varchar(length=200, default="")  # "" : match yes/no only
    daily_cap = Integer(default=1000)  # answered verifications per entitlement per day
    updated_by = ForeignKey(references=User)
    updated_at = Timestamptz(default=TimestamptzNow())


class UsageAlert(Table, tablename="data_api_alert"):
    """An unusual pattern already reported to the holder (one alert per entitlement, kind and day)."""

    id = Serial(primary_key=True)
    key = Varchar(length=80, unique=True)  # "<entitlement>:<kind>:<YYYY-MM-DD>"
    entitlement = ForeignKey(references=Entitlement, index=True)
    kind = Varchar(length=40)
    detail = Text(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
