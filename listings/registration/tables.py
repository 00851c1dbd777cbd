"""Tables of the register (登记, 26号): one registration per data resource or product, the filings made
on it (INITIAL / CHANGE / CORRECTION / CANCEL), and the serial counter behind the codes."""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from listings.tables import DataAsset, Listing
from market.db import StatusEnum, set_transitions
from market.tables import Organization, User


class SubjectKind(enum.StrEnum):
    RESOURCE = "resource"  # 数据资源: an asset (its raw and cleaned listings show its code)
    PRODUCT = "product"  # 数据产品: a listing at the product tier


class RecordType(enum.StrEnum):
    INITIAL = "initial"  # 首次登记: through notice to a code
    CHANGE = "change"  # 变更登记: new details, through notice; restarts the validity (this is how it is renewed)
    CORRECTION = "correction"  # 更正登记: the register was wrong; no notice, validity unchanged
    CANCEL = "cancel"  # 注销登记: the code stops being valid


class RecordStatus(StatusEnum):
    APPLIED = "applied"  # 申请: filed by the holder, waiting for the registration body (受理、形式审查)
    NOTICE = "notice"  # 公示: accepted; published until notice_until, then it takes effect
    EFFECTIVE = "effective"  # 赋码 / in force: the register says what this filing says
    REJECTED = "rejected"  # refused by the registration body, with its reason


set_transitions(RecordStatus, {
    RecordStatus.APPLIED: {RecordStatus.NOTICE, RecordStatus.EFFECTIVE, RecordStatus.REJECTED},
    RecordStatus.NOTICE: {RecordStatus.EFFECTIVE, RecordStatus.REJECTED},
})


class RegistrationStatus(StatusEnum):
    PENDING = "pending"  # an initial filing is on its way; no code yet
    ACTIVE = "active"  # coded and valid until valid_until
    EXPIRED = "expired"  # valid_until passed without a change filing; a change filing revives it
    CANCELLED = "cancelled"  # a cancel filing took effect; the code is never reused


set_transitions(RegistrationStatus, {
    RegistrationStatus.PENDING: {RegistrationStatus.ACTIVE, RegistrationStatus.CANCELLED},
    RegistrationStatus.ACTIVE: {RegistrationStatus.EXPIRED, RegistrationStatus.CANCELLED},
    RegistrationStatus.EXPIRED: {RegistrationStatus.ACTIVE, RegistrationStatus.CANCELLED},
})


class Registration(Table, tablename="registration"):
    """One entry of the register. `details` is what the register says about the subject (JSON), as the
    last effective filing left it; the filings themselves are the history and are never edited."""

    id = Serial(primary_key=True)
    # "<kind>:<asset or listing id>" while the entry lives; cleared when cancelled so the subject may
    # register again under a new code
    subject_key = Varchar(length=40, unique=True, null=True, default=None)
    kind = Varchar(length=10, choices=SubjectKind)
    asset = ForeignKey(references=DataAsset, index=True)
    listing = ForeignKey(references=Listing, null=True, default=None, index=True)
    holder = ForeignKey(references=Organization, index=True)
    code = Varchar(length=40, unique=True, null=True, default=None)  # SJDJ-<region>-<year>-<serial>, at 赋码
    title = Varchar(length=200)
    details = Text(default="{}")
    status = Varchar(length=20, choices=RegistrationStatus, default=RegistrationStatus.PENDING.value, index=True)
    effective_at = Timestamptz(null=True, default=None)  # when the code was given
    valid_until = Timestamptz(null=True, default=None, index=True)
    reminded_at = Timestamptz(null=True, default=None)  # the renewal reminder for this valid_until was sent
    created_at = Timestamptz(default=TimestamptzNow())


class RegistrationRecord(Table, tablename="registration_record"):
    """One filing on a registration."""

    id = Serial(primary_key=True)
    registration = ForeignKey(references=Registration, index=True)
    type = Varchar(length=12, choices=RecordType)
    details = Text(default="{}")  # what the register will say once this filing takes effect
    note = Text(default="")  # the applicant's words: what changes and why
    applicant_org = ForeignKey(references=Organization)
    applicant_user = ForeignKey(references=User, null=True, default=None)
    status = Varchar(length=12, choices=RecordStatus, default=RecordStatus.APPLIED.value, index=True)
    decision_note = Text(default="")
    notice_until = Timestamptz(null=True, default=None, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)
    effective_at = Timestamptz(null=True, default=None)


class RegistrationCounter(Table, tablename="registration_counter"):
    """The last serial given in one region and year ("<region>-<year>"): codes never repeat."""

    id = Serial(primary_key=True)
    series = Varchar(length=20, unique=True)
    last = BigInt(default=0)
