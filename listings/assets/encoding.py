"""When the reading stage cannot tell a file's text encoding for sure, the holder chooses it.

The profiling job records the candidates (each with the first rows decoded under it) on the version and stops in
ProfileStatus.NEEDS_ENCODING; the holder's choice puts the version back in the queue, and the job reads the file
with the chosen encoding. Nothing is guessed silently: a GBK file read as Big5 (or the reverse) is profiled as
nonsense that nobody notices until a buyer does.
"""

from __future__ import annotations

import json

from market import db, jobs
from market.errors import Conflict, DomainError, NotFound
from listings.tables import AssetVersion, ProfileStatus


def _state(version: dict) -> dict:
    return json.loads(version["reading"]) if version["reading"] else {}


def chosen_encoding(version: dict) -> str | None:
    """The encoding the holder chose for this version, if it was asked."""
    return _state(version).get("encoding_choice")


async def ask_encoding(version_id: int, candidates: list[dict]) -> None:
    """Record the candidates on a running version and wait for the holder (audited)."""
    async with db.atomic():
        await AssetVersion.update({
            AssetVersion.reading: json.dumps({"encoding_candidates": candidates}, ensure_ascii=False),
            AssetVersion.profile_stage: "encoding",
        }).where(AssetVersion.id == version_id)
        await db.transition(AssetVersion, version_id, to=ProfileStatus.NEEDS_ENCODING, action="asset.encoding_asked",
                            status_column="profile_status",
                            audit_after={"candidates": [c["encoding"] for c in candidates]})


async def choose_encoding(*, asset_id: int, org_id: int, encoding: str, version: int | None = None) -> dict:
    """The holder picks one of the offered encodings of a version (default: the latest); profiling continues."""
    from listings.assets.service import _owned_asset

    encoding = (encoding or "").strip().lower()
    async with db.atomic():
        asset = await _owned_asset(asset_id, org_id)
        number = version if version is not None else asset["current_version"]
        # a number beyond the column's range would fail in the database instead of being simply not there
        row = await AssetVersion.select().where(
            (AssetVersion.asset == asset_id) & (AssetVersion.number == number)).first() \
            if 0 < number < 2**31 else None
        if row is None:
            raise NotFound("asset.version_not_found", "该数据资源没有这个版本")
        if row["profile_status"] != ProfileStatus.NEEDS_ENCODING.value:
            raise Conflict("asset.encoding_not_asked", "这个版本的文件编码已经确定，不需要再选择")
        state = _state(row)
        offered = [c["encoding"] for c in state.get("encoding_candidates", [])]
        if encoding not in offered:
            raise DomainError("asset.encoding_invalid", "请从列出的编码中选择一种：{choices}",
                              choices="、".join(offered))
        state["encoding_choice"] = encoding
        await AssetVersion.update({AssetVersion.reading: json.dumps(state, ensure_ascii=False),
                                   AssetVersion.profile_stage: "", AssetVersion.profile_progress: 0}).where(
            AssetVersion.id == row["id"])
        await db.transition(AssetVersion, row["id"], to=ProfileStatus.PENDING, action="asset.encoding_chosen",
                            status_column="profile_status", audit_after={"encoding": encoding, "offered": offered})
        await jobs.enqueue("listings.profile_version", version_id=row["id"])
    return {"version_id": row["id"], "version": number, "encoding": encoding}
