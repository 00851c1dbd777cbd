"""The catalogue's service API: upload a table, profile it, read it back, correct its grade.

Upload stores the file as it came and records a version in one transaction with the profiling
job (outbox); the job reads, profiles, classifies and scores the table. Heavy work never runs on
the request path.
"""

from __future__ import annotations

import asyncio

import json
import secrets
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from market import audit, db, jobs
from market.errors import DomainError, Forbidden, NotFound
from market.i18n import N_
from market.storage import Storage
from listings.assets import encoding as _encoding
from listings.tables import AssetVersion, DataAsset, ProfileStatus

MAX_UPLOAD_BYTES = 250 * 1024 * 1024
ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xls", ".json", ".geojson")
GRADES = ("general", "important", "core")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _title_from_filename(filename: str) -> str:
    stem = Path(filename).stem.strip() or "未命名数据"
    return stem.replace("_", " ")[:200]


async def upload(*, storage: Storage, holder_org_id: int, user_id: int, stream: BinaryIO, filename: str,
                 content_type: str = "", asset_id: int | None = None) -> dict:
    """Store an uploaded table and record it as a new asset (or a new version of `asset_id`)."""
    import asyncio

    filename = Path(filename or "").name
    if not filename:
        raise DomainError("upload.no_file", "请选择要上传的文件")
    if not filename.lower().endswith(ALLOWED_SUFFIXES):
        raise DomainError("upload.unsupported_type",
                          "不支持该文件类型。请上传 CSV、TSV、Excel（xlsx/xls）或 JSON 文件")
    if asset_id is not None:
        asset = await _owned_asset(asset_id, holder_org_id)
    key = f"uploads/{holder_org_id}/{_now():%Y%m%d}/{secrets.token_hex(8)}{Path(filename).suffix.lower()}"
    stored = await asyncio.to_thread(storage.put, key, stream, content_type=content_type or "application/octet-stream")
    if stored.size == 0:
        await asyncio.to_thread(storage.delete, key)
        raise DomainError("upload.empty", "文件是空的，请检查是否选错了文件")
    if stored.size > MAX_UPLOAD_BYTES:
        await asyncio.to_thread(storage.delete, key)
        raise DomainError("upload.too_large", "文件超过 {mb} MB，请拆分后上传", mb=MAX_UPLOAD_BYTES // 1024 // 1024)
    try:
        async with db.atomic():
            if asset_id is None:
                rows = await DataAsset.insert(DataAsset(
                    holder=holder_org_id, created_by=user_id, title=_title_from_filename(filename),
                )).returning(DataAsset.id)
                asset_id = rows[0]["id"]
                await audit.record(action="asset.created", object_type="data_asset", object_id=asset_id,
                                   after={"title": _title_from_filename(filename)})
                number = 1
            else:
                number = asset["current_version"] + 1
            rows = await AssetVersion.insert(AssetVersion(
                asset=asset_id, number=number, uploaded_by=user_id, filename=filename,
                content_type=content_type[:100], size=stored.size, sha256=stored.sha256, object_key=key,
            )).returning(AssetVersion.id)
            version_id = rows[0]["id"]
            await DataAsset.update({DataAsset.current_version: number, DataAsset.updated_at: _now()}).where(
                DataAsset.id == asset_id)
            await audit.record(action="asset.version_uploaded", object_type="asset_version", object_id=version_id,
                               after={"asset_id": asset_id, "number": number, "filename": filename,
                                      "size": stored.size, "sha256": stored.sha256})
            await jobs.enqueue("listings.profile_version", version_id=version_id)
    except BaseException:
        # the database said no: don't leave an orphan object behind
        await asyncio.to_thread(storage.delete, key)
        raise
    return {"id": asset_id, "version_id": version_id, "version": number}


async def _owned_asset(asset_id: int, org_id: int) -> dict:
    asset = await DataAsset.select().where(DataAsset.id == asset_id).first()
    if asset is None:
        raise NotFound("asset.not_found", "数据资源不存在")
    if asset["holder"] != org_id:
        raise Forbidden("asset.not_yours", "只有数据持有方本机构可以操作该数据资源")
    return asset


def _loads(text: str, default):
    return json.loads(text) if text else default


async def get_asset(*, asset_id: int, org_id: int | None = None) -> dict:
    """An asset with its latest version's profile; `org_id` restricts to the holder's own assets."""
    asset = await DataAsset.select().where(DataAsset.id == asset_id).first()
    if asset is None or (org_id is not None and asset["holder"] != org_id):
        raise NotFound("asset.not_found", "数据资源不存在")
    version = await (AssetVersion.select().where(AssetVersion.asset == asset_id)
                     .order_by(AssetVersion.number, ascending=False).first())
    versions = await (AssetVersion.select(AssetVersion.id, AssetVersion.number, AssetVersion.filename,
                                          AssetVersion.size, AssetVersion.row_count, AssetVersion.profile_status,
                                          AssetVersion.created_at)
                      .where(AssetVersion.asset == asset_id).order_by(AssetVersion.number, ascending=False))
    return {"asset": asset, "version": version, "versions": versions}


async def version_file_url(*, asset_id: int, number: int, org_id: int, storage, expires_in: int = 300) -> str:
    """A short-lived link to the file the holder uploaded as version `number` (every version stays
    retrievable by its holder; buyers get theirs through an entitlement)."""
    asset = await DataAsset.select(DataAsset.holder).where(DataAsset.id == asset_id).first()
    if asset is None or asset["holder"] != org_id:
        raise NotFound("asset.not_found", "数据资源不存在")
    version = await AssetVersion.select(AssetVersion.object_key, AssetVersion.filename).where(
        (AssetVersion.asset == asset_id) & (AssetVersion.number == number)).first()
    if version is None or not version["object_key"] or not await asyncio.to_thread(storage.exists,
                                                                                  version["object_key"]):
        raise NotFound("delivery.version_missing", "该版本的数据文件不存在")
    return storage.signed_url(version["object_key"], expires_in=expires_in, filename=version["filename"])


async def list_assets(*, org_id: int, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    query = (DataAsset.select().where(DataAsset.holder == org_id).order_by(DataAsset.id, ascending=False)
             .limit(page_size).offset((page - 1) * page_size))
    return await query, await DataAsset.count().where(DataAsset.holder == org_id)


async def correct_grade(*, asset_id: int, org_id: int, grade: str, reason: str) -> dict:
    """The holder corrects the suggested grade; the reason is required and audited."""
    if grade not in GRADES:
        raise DomainError("asset.grade_invalid", "分级只能是一般、重要或核心")
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("asset.grade_reason_required", "修改分级需要说明理由（至少 4 个字）")
    async with db.atomic():
        asset = await _owned_asset(asset_id, org_id)
        await DataAsset.update({DataAsset.grade: grade, DataAsset.grade_source: "holder",
                                DataAsset.grade_reason: reason, DataAsset.updated_at: _now()}).where(
            DataAsset.id == asset_id)
        await audit.record(action="asset.grade_corrected", object_type="data_asset", object_id=asset_id,
                           before={"grade": asset["grade"], "source": asset["grade_source"]},
                           after={"grade": grade, "reason": reason})
    return await DataAsset.select().where(DataAsset.id == asset_id).first()


async def correct_personal(*, asset_id: int, org_id: int, column: str, personal: bool, reason: str) -> dict:
    """The holder decides whether a column is personal information; the reason is required and audited.
    The corrected flag drives masking (sample, profile), the grade and the listing rules like the
    automatic one, and carries over to later versions."""
    from listings.profiling import classification
    from listings.publication._common import _masked_sample

    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError("asset.personal_reason_required", "更正个人信息认定需要说明理由（至少 4 个字）")
    async with db.atomic():
        asset = await _owned_asset(asset_id, org_id)
        version = await (AssetVersion.select().where(
            (AssetVersion.asset == asset_id) & (AssetVersion.profile_status == ProfileStatus.DONE.value))
            .order_by(AssetVersion.number, ascending=False).first())
        if version is None:
            raise DomainError("asset.not_profiled", "数据还没有分析完成，请稍后再更正")
        profile = json.loads(version["profile"])
        before = next((c for c in profile["columns"] if c["name"] == column), None)
        try:
            profile = classification.correct_personal(profile, column, bool(personal), reason)
        except KeyError:
            raise DomainError("asset.column_unknown", "没有名为“{column}”的字段", column=column) from None
        except ValueError:
            raise DomainError("asset.personal_required",
                              "“{column}”含身份证号码、银行卡号或未成年人信息，始终属于个人信息，不能更正为非个人信息",
                              column=column) from None
        verdict = classification.classify(profile)
        await AssetVersion.update({AssetVersion.profile: json.dumps(profile, ensure_ascii=False, default=str),
                                   AssetVersion.classification: json.dumps(verdict, ensure_ascii=False)}).where(
            AssetVersion.id == version["id"])
        grade, source = asset["grade"], asset["grade_source"]
        if source != "holder" or GRADES.index(verdict["grade"]) > GRADES.index(grade):
            # the suggestion follows the corrected decision; a grade the holder set stands unless stricter
            grade, source = verdict["grade"], "suggested"
        await DataAsset.update({DataAsset.personal: verdict["personal"], DataAsset.grade: grade,
                                DataAsset.grade_source: source, DataAsset.updated_at: _now()}).where(
            DataAsset.id == asset_id)
        await audit.record(action="asset.personal_corrected", object_type="data_asset", object_id=asset_id,
                           before={"column": column, "personal": bool(before and before.get("personal")),
                                   "grade": asset["grade"]},
                           after={"column": column, "personal": bool(personal), "reason": reason, "grade": grade,
                                  "version": version["number"]})
        await _remask_listings(asset_id, {**version, "profile": json.dumps(profile, ensure_ascii=False)},
                               _masked_sample)
    return await DataAsset.select().where(DataAsset.id == asset_id).first()


async def _remask_listings(asset_id: int, version: dict, masked_sample) -> None:
    """Listings selling this version show their sample again, masked by the corrected profile."""
    from listings import search
    from listings.tables import Listing, ListingStatus

    listings = await Listing.select(Listing.id).where(
        (Listing.asset == asset_id) & (Listing.data_version == version["number"])
        & (Listing.status != ListingStatus.DELISTED.value))
    if not listings:
        return
    sample = await asyncio.to_thread(masked_sample, version)
    for row in listings:
        await Listing.update({Listing.sample: json.dumps(sample, ensure_ascii=False), Listing.updated_at: _now()}
                             ).where(Listing.id == row["id"])
        await search.index_listing(row["id"])  # drops the cached listing view in every process


# ---- profiling (runs in a job) ------------------------------------------------------------------


async def _set_progress(version_id: int, fraction: float, stage: str) -> None:
    await AssetVersion.update({AssetVersion.profile_progress: int(max(0, min(1, fraction)) * 100),
                               AssetVersion.profile_stage: stage[:40]}).where(AssetVersion.id == version_id)


def schema_diff(old_columns: list[dict], new_columns: list[dict]) -> dict:
    """Columns added, removed and retyped between two profiles; compatible = nothing removed or retyped."""
    old = {c["name"]: c.get("type") for c in old_columns}
    new = {c["name"]: c.get("type") for c in new_columns}
    added = [n for n in new if n not in old]
    removed = [n for n in old if n not in new]
    retyped = [{"column": n, "from": old[n], "to": new[n]} for n in new if n in old and old[n] != new[n]]
    return {"added": added, "removed": removed, "retyped": retyped, "compatible": not removed and not retyped}


def run_profile(version_id: int, storage: Storage) -> None:
    """Read, profile, classify and score one version (sync: runs in a worker thread).

    Reading and profiling run in a child process within the configured memory and time budget
    (market.bounded): a file that breaks a limit or the budget fails alone, with its reason on the
    version, and the upload is removed as for an unreadable file; this process lives on."""
    from listings import reading
    from listings.assets import _profile_child
    from listings.profiling import classification
    from listings.profiling import quality
    from market import bounded, runtime
    from market.jobs import run_async

    version = run_async(AssetVersion.select().where(AssetVersion.id == version_id).first())
    if version is None or version["profile_status"] == ProfileStatus.DONE.value:
        return  # already done: a redelivered job does nothing
    if version["profile_status"] == ProfileStatus.NEEDS_ENCODING.value:
        return  # waiting for the holder to choose the encoding; the choice sends the job again
    if version["profile_status"] == ProfileStatus.RUNNING.value:
        # a previous attempt died mid-way; start over (every step below overwrites its output)
        pass
    else:
        if version["profile_status"] == ProfileStatus.FAILED.value:
            run_async(db.transition(AssetVersion, version_id, to=ProfileStatus.PENDING,
                                    action="asset.profile_retry", status_column="profile_status"))
        run_async(db.transition(AssetVersion, version_id, to=ProfileStatus.RUNNING, action="asset.profile_started",
                                status_column="profile_status"))
    settings = runtime.settings()
    budget = bounded.Budget(memory_bytes=settings.profile_memory_mb * 1024**2, seconds=settings.profile_seconds)
    workdir = Path(tempfile.mkdtemp(prefix="profile-"))
    try:
        src = workdir / ("upload" + Path(version["filename"]).suffix.lower())
        with src.open("wb") as fh:
            for chunk in storage.open(version["object_key"]):
                fh.write(chunk)
        shown = [-1.0, ""]

        def progress(message) -> None:  # in this thread, from the child's reports
            fraction, stage = message
            if stage != shown[1] or fraction - shown[0] >= 0.05:
                shown[:] = [fraction, stage]
                run_async(_set_progress(version_id, fraction, stage))

        bounded.preload(_profile_child.PRELOAD)
        try:
            prepared, profile, normalised = bounded.run(
                _profile_child.read_and_profile, str(src), str(workdir / "out"), filename=version["filename"],
                limits=reading.ReadLimits.from_settings(settings), threads=settings.profile_threads,
                # DuckDB gets half the budget: Python's sample and the rest of the child need the other half
                duckdb_memory=f"{max(64, settings.profile_memory_mb // 2)}MB", budget=budget,
                encoding=_encoding.chosen_encoding(version), on_message=progress).value
        except reading.EncodingQuestion as question:
            # the file stays: it is read again once the holder has chosen
            run_async(_encoding.ask_encoding(version_id, question.candidates))
            return
        except (reading.ReadError, bounded.BudgetExceeded) as exc:
            exc = exc if isinstance(exc, reading.ReadError) else _over_budget(exc)
            run_async(_fail(version_id, exc.code, exc.message, getattr(exc, "params", {}) or {}))
            # nothing half-made stays behind: the refused file goes, the reason stays on the version
            storage.delete(version["object_key"])
            return
        from listings.profiling import amounts

        for a in normalised:
            prepared.warnings.append(f"“{a['column']}”的金额带有单位，已统一换算为元，放在新增的“{a['normalised_column']}”列，"
                                     f"原列保留不变" + ("；外币或无单位的值未换算" if a["not_normalised"] else ""))
        prepared_key = f"assets/{version['asset']}/v{version['number']}/table.csv"
        with prepared.csv_path.open("rb") as fh:
            storage.put(prepared_key, fh, content_type="text/csv; charset=utf-8")
        profile = amounts.annotate(profile, normalised)
        profile = classification.carry_corrections(run_async(_previous_profile(version)), profile)
        verdict = classification.classify(profile)
        run_async(_finish(version_id, version, prepared, prepared_key, profile, verdict, quality))
        from listings.publication.service import on_new_version

        run_async(on_new_version(asset_id=version["asset"], version_id=version_id))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# why profiling was given up when its job was set aside (market.dead_letters reasons)
_ABANDONED = {
    "process_died": N_("处理此文件时进程异常终止，已停止重试。请检查文件是否异常（如列数极多、单行极长）后重新上传，"
                       "或联系平台管理员"),
    "failed_repeatedly": N_("处理此文件多次出错，已停止重试。请检查文件后重新上传，或联系平台管理员"),
    "never_acknowledged": N_("处理此文件的任务多次未能开始，已停止重试。请联系平台管理员"),
}


async def abandon_profile(*, version_id: int, reason: str) -> None:
    """The profiling job was set aside: record why on the version (idempotent; a finished one stays)."""
    version = await AssetVersion.select(AssetVersion.profile_status).where(AssetVersion.id == version_id).first()
    if version is None or version["profile_status"] not in (ProfileStatus.PENDING.value, ProfileStatus.RUNNING.value):
        return
    await _fail(version_id, f"profile.{reason}", _ABANDONED.get(reason, _ABANDONED["failed_repeatedly"]), {})


async def _previous_profile(version: dict) -> dict | None:
    row = await (AssetVersion.select(AssetVersion.profile).where(
        (AssetVersion.asset == version["asset"]) & (AssetVersion.number < version["number"])
        & (AssetVersion.profile_status == ProfileStatus.DONE.value))
        .order_by(AssetVersion.number, ascending=False).first())
    return json.loads(row["profile"]) if row and row["profile"] else None


def _over_budget(exc):
    """The ReadError that tells the holder which budget (memory, time) the reading and profiling exceeded."""
    from listings import reading
    from listings.reading._errors import human_size

    if exc.kind == "memory":
        return reading.ReadError("profile.over_memory", limit=human_size(exc.budget.memory_bytes))
    if exc.kind == "time":
        return reading.ReadError("profile.over_time", limit=f"{exc.budget.seconds:g} 秒")
    return reading.ReadError("profile.crashed", detail=exc.detail)


async def _fail(version_id: int, code: str, message: str, params: dict) -> None:
    async with db.atomic():
        await AssetVersion.update({AssetVersion.error_code: code,
                                   AssetVersion.error: json.dumps({"message": message, "params": params},
                                                                  ensure_ascii=False)}).where(
            AssetVersion.id == version_id)
        await db.transition(AssetVersion, version_id, to=ProfileStatus.FAILED, action="asset.profile_failed",
                            status_column="profile_status", audit_after={"error_code": code})


async def _finish(version_id: int, version: dict, prepared, prepared_key: str, profile: dict, verdict: dict,
                  quality_module) -> None:
    asset = await DataAsset.select().where(DataAsset.id == version["asset"]).first()
    report = quality_module.report(profile, update_cycle=asset["update_cycle"],
                                   version_created_at=version["created_at"])
    previous = await (AssetVersion.select(AssetVersion.profile).where(
        (AssetVersion.asset == version["asset"]) & (AssetVersion.number < version["number"])
        & (AssetVersion.profile_status == ProfileStatus.DONE.value))
        .order_by(AssetVersion.number, ascending=False).first())
    diff = schema_diff(json.loads(previous["profile"])["columns"], profile["columns"]) if previous else None
    reading_info = {k: getattr(prepared, k) for k in ("skipped_rows", "unit", "missing_markers", "group_column",
                                                      "sheet", "warnings")}
    if _encoding.chosen_encoding(version):
        reading_info["encoding_choice"] = _encoding.chosen_encoding(version)  # chosen by the holder, not detected
    async with db.atomic():
        await AssetVersion.update({
            AssetVersion.prepared_key: prepared_key, AssetVersion.format: prepared.format,
            AssetVersion.encoding: prepared.encoding or "", AssetVersion.delimiter: prepared.delimiter or "",
            AssetVersion.header_row: prepared.header_row, AssetVersion.header_rows: prepared.header_rows,
            AssetVersion.reading: json.dumps(reading_info, ensure_ascii=False),
            AssetVersion.columns: json.dumps(prepared.columns, ensure_ascii=False),
            AssetVersion.row_count: profile["row_count"],
            AssetVersion.profile: json.dumps(profile, ensure_ascii=False, default=str),
            AssetVersion.classification: json.dumps(verdict, ensure_ascii=False),
            AssetVersion.quality: json.dumps(report, ensure_ascii=False),
            AssetVersion.schema_diff: json.dumps(diff, ensure_ascii=False) if diff else "",
            AssetVersion.profile_progress: 100, AssetVersion.profile_stage: "done",
            AssetVersion.profiled_at: _now(),
        }).where(AssetVersion.id == version_id)
        await db.transition(AssetVersion, version_id, to=ProfileStatus.DONE, action="asset.profiled",
                            status_column="profile_status",
                            audit_after={"rows": profile["row_count"], "grade": verdict["grade"],
                                         "score": report["score"]})
        if asset["grade_source"] != "holder":
            # 就高从严: the suggestion never lowers a grade an earlier version earned
            grade = max(asset["grade"], verdict["grade"], key=GRADES.index)
            await DataAsset.update({DataAsset.grade: grade, DataAsset.personal: verdict["personal"],
                                    DataAsset.updated_at: _now()}).where(DataAsset.id == asset["id"])
            if grade != asset["grade"]:
                await audit.record(action="asset.graded", object_type="data_asset", object_id=asset["id"],
                                   before={"grade": asset["grade"]}, after={"grade": grade})
        elif GRADES.index(verdict["grade"]) > GRADES.index(asset["grade"]):
            # the holder set a grade, but the new data is stricter: 就高从严 wins over the old choice
            await DataAsset.update({DataAsset.grade: verdict["grade"], DataAsset.grade_source: "suggested",
                                    DataAsset.personal: verdict["personal"], DataAsset.updated_at: _now()}).where(
                DataAsset.id == asset["id"])
            await audit.record(action="asset.graded", object_type="data_asset", object_id=asset["id"],
                               before={"grade": asset["grade"]}, after={"grade": verdict["grade"]})


# ---- reading across holders (for authorization scopes) -------------------------------------------


async def asset_ids_under_categories(paths: list[str]) -> dict[str, list[int]]:
    """For each category path ("医疗卫生 > 诊疗服务"), the ids of every asset filed at it or below it."""
    out: dict[str, list[int]] = {}
    for path in dict.fromkeys(p.strip() for p in paths if p and p.strip()):
        rows = await (DataAsset.select(DataAsset.id)
                      .where((DataAsset.category_path == path) | DataAsset.category_path.like(path + " > %"))
                      .order_by(DataAsset.id))
        out[path] = [r["id"] for r in rows]
    return out


async def asset_summaries(asset_ids: list[int]) -> dict[int, dict]:
    """id → {id, title, holder, holder_name, category_path, columns} of the assets that exist; columns
    are those of the latest version."""
    ids = sorted({int(i) for i in asset_ids})
    if not ids:
        return {}
    assets = await (DataAsset.select(DataAsset.id, DataAsset.title, DataAsset.holder, DataAsset.category_path,
                                     DataAsset.current_version, DataAsset.holder.name.as_alias("holder_name"))
                    .where(DataAsset.id.is_in(ids)))
    versions = await (AssetVersion.select(AssetVersion.asset, AssetVersion.number, AssetVersion.columns)
                      .where(AssetVersion.asset.is_in(ids)).order_by(AssetVersion.number))
    latest = {v["asset"]: v for v in versions}  # ordered by number: the last one wins
    return {a["id"]: {"id": a["id"], "title": a["title"], "holder": a["holder"], "holder_name": a["holder_name"],
                      "category_path": a["category_path"],
                      "columns": _loads(latest[a["id"]]["columns"], []) if a["id"] in latest else []}
            for a in assets}
