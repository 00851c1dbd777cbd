"""The alerts the regulator's desk raises (computed by a periodic scan, or at the moment of an event)."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.tables import Organization


class OversightAlert(Table, tablename="oversight_alert"):
    """Something a regulator should look at. One row per cause (`key`), however often it is noticed, so
    the scan can run any number of times. Never edited: an alert records what was seen when."""

    id = Serial(primary_key=True)
    key = Varchar(length=120, unique=True)  # "<kind>:<object>[:<what makes it new>]"
    kind = Varchar(length=40, index=True)  # billing.oversight._alerts.KINDS
    object_type = Varchar(length=40)  # listing, order, authorization_agreement, organization
    object_id = Varchar(length=40)
    org = ForeignKey(references=Organization, null=True, default=None, index=True)  # the organization concerned
    summary = Text(default="")  # one line in Chinese, as the desk shows it
    detail = Text(default="{}")  # JSON: the figures behind it
    source = Varchar(length=10, default="scan")  # scan (the periodic job) or event (raised as it happened)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
