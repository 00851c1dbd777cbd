"""What every publication step shares: the listing rows it reads, the masked sample shown on a
listing, and the tier rules (raw data only in a sandbox or as verification; 重要 never as a file)."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import datetime
from datetime import timezone

from market import runtime
from market.errors import DomainError
from market.errors import Forbidden
from market.errors import NotFound
from listings import pricing
from listings.tables import AssetVersion
from listings.tables import Listing
from listings.tables import ProfileStatus


AGENCY_ITEMS = frozenset({"cap_for_paid_public_data"})
NOTICE_DAYS = 5  # 公示期, overridable per call (configuration lives with the caller)
SAMPLE_ROWS = 10
PUBLIC_KINDS = ("government", "institution")  # their data is public data: 65号 caps apply


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _listed_column(col: dict) -> dict:
    """A column as a listing's 信息项 shows it: name, type, and the unit of amounts (万元, 元 …)."""
    out = {"name": col["name"], "type": col.get("type")}
    if col.get("unit"):
        out["unit"] = col["unit"]
    return out


async def _reindex(listing_id: int) -> None:
    from listings import search

    await search.index_listing(listing_id)


async def _listing(listing_id: int) -> dict:
    row = await Listing.select().where(Listing.id == listing_id).first()
    if row is None:
        raise NotFound("listing.not_found", "上架记录不存在")
    return row


async def _own_listing(listing_id: int, org_id: int) -> dict:
    row = await _listing(listing_id)
    if row["holder"] != org_id:
        raise Forbidden("listing.not_yours", "只有数据持有方本机构可以操作该上架记录")
    return row


async def _latest_done_version(asset_id: int) -> dict | None:
    return await (AssetVersion.select().where(
        (AssetVersion.asset == asset_id) & (AssetVersion.profile_status == ProfileStatus.DONE.value))
        .order_by(AssetVersion.number, ascending=False).first())


def _masked_sample(version: dict) -> list[dict]:
    """The first rows of the prepared table, with every personal column masked (sync: reads storage)."""
    from listings.profiling.masking import mask_rows

    if not version.get("prepared_key"):
        return []
    buf = bytearray()
    for chunk in runtime.storage().open(version["prepared_key"]):
        buf.extend(chunk)
        if buf.count(b"\n") > SAMPLE_ROWS + 1 or len(buf) > 256 * 1024:
            break
    text = bytes(buf).decode("utf-8", errors="ignore")
    rows = list(itertools.islice(csv.DictReader(io.StringIO(text)), SAMPLE_ROWS))
    if len(rows) < SAMPLE_ROWS and rows and not text.endswith("\n"):
        rows.pop()  # the read stopped mid-row: drop the partial last row
    return mask_rows(rows, json.loads(version["profile"])) if rows else []


def check_tier_rules(*, tier: str, delivery_mode: str, grade: str, sharing_type: str) -> None:
    """The platform's security defaults: the grade and tier decide what may leave and how."""
    from listings.profiling.classification import may_list

    ok, reason = may_list(grade, sharing_type)
    if not ok:
        raise DomainError("listing.not_listable", reason or "该数据不能上架")
    if tier not in pricing.TIER_DELIVERY:
        raise DomainError("listing.tier_invalid", "层级只能是原始数据、治理后数据或数据产品")
    if delivery_mode not in pricing.TIER_DELIVERY[tier]:
        raise DomainError("listing.delivery_not_for_tier",
                          "原始数据不出域：原始数据只能以沙箱（可用不可见）或核验服务方式交付")
    if grade == "important" and delivery_mode == "file":
        raise DomainError("listing.important_no_file", "重要数据只能以聚合结果、模型或核验结果的方式提供，不能下载文件")
