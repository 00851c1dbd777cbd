"""JSON shapes of the catalogue API."""

from __future__ import annotations

import json
from datetime import datetime

import msgspec

from market.i18n import gettext as translate  # messages stored as data: translated when shown


class ColumnOut(msgspec.Struct):
    name: str
    type: str | None
    semantic_type: str | None
    personal: bool
    sensitive: bool
    null_count: int | None
    distinct_count: int | None
    validity: float | None
    min: str | None = None
    max: str | None = None
    unit: str | None = None
    top_values: list = []
    describes: str | None = None  # "organisation": a name/address/phone of an organisation, not personal
    personal_source: str | None = None  # "holder" when the holder corrected the personal flag
    personal_reason: str | None = None
    normalised_column: str | None = None  # amounts: the added column holding the value in 元
    derived_from: str | None = None  # the added amount column: the column it was converted from
    not_normalised: dict | None = None  # amounts left unconverted: {"USD": 3, "no_unit": 1, "unreadable": 2}


class QualityOut(msgspec.Struct):
    score: int
    dimensions: dict
    reasons: list[dict]


class VersionBrief(msgspec.Struct):
    id: int
    number: int
    filename: str
    size: int
    row_count: int
    profile_status: str
    created_at: datetime


class AssetOut(msgspec.Struct):
    id: int
    title: str
    holder_id: int
    version: int
    version_id: int | None
    filename: str | None
    profile_status: str | None
    progress: int
    stage: str
    error_code: str | None
    error: str | None
    encoding: str | None
    delimiter: str | None
    format: str | None
    header_row: int | None
    header_rows: int | None
    row_count: int
    columns: list[ColumnOut]
    quality: QualityOut | None
    grade: str
    grade_source: str
    personal: bool
    classification: dict | None
    reading: dict | None
    schema_diff: dict | None
    versions: list[VersionBrief]
    update_cycle: str
    category_path: str
    registration_code: str


class UploadedOut(msgspec.Struct):
    id: int
    version_id: int
    version: int
    profile_status: str = "pending"


class GradeIn(msgspec.Struct):
    grade: str
    reason: str


class PersonalIn(msgspec.Struct):
    column: str
    personal: bool
    reason: str


def _translate_reason(reason: dict) -> dict:
    # parameter values that are themselves msgids (labels) are translated too; others pass through
    params = {k: translate(v) if isinstance(v, str) and v else v for k, v in (reason.get("params") or {}).items()}
    try:
        text = translate(reason.get("message", ""), **params)
    except (KeyError, IndexError):
        text = reason.get("message", "")
    return {**reason, "text": text}


def asset_out(data: dict) -> AssetOut:
    asset, version = data["asset"], data["version"]
    profile = json.loads(version["profile"]) if version and version["profile"] else None
    quality = json.loads(version["quality"]) if version and version["quality"] else None
    verdict = json.loads(version["classification"]) if version and version["classification"] else None
    error = None
    if version and version["error"]:
        err = json.loads(version["error"])
        error = translate(err["message"], **(err.get("params") or {}))
    from listings.profiling.masking import mask

    columns = []
    for col in (profile or {}).get("columns", []):
        lo, hi, top = col.get("min"), col.get("max"), col.get("top_values") or []
        if col.get("personal"):
            # values of personal columns are shown masked everywhere, to everyone, by default
            kinds = col.get("sensitive_kind") or []
            lo = mask(lo, col.get("semantic_type"), kinds) if lo else lo
            hi = mask(hi, col.get("semantic_type"), kinds) if hi else hi
            top = [[mask(str(v), col.get("semantic_type"), kinds), n] for v, n in top]
        columns.append(ColumnOut(
            name=col["name"], type=col.get("type"), semantic_type=col.get("semantic_type"),
            personal=bool(col.get("personal")), sensitive=bool(col.get("sensitive")),
            null_count=col.get("null_count"), distinct_count=col.get("distinct_count"), validity=col.get("validity"),
            min=lo, max=hi, unit=col.get("unit"), top_values=top, describes=col.get("describes"),
            personal_source=col.get("personal_source"), personal_reason=col.get("personal_reason"),
            normalised_column=col.get("normalised_column"), derived_from=col.get("derived_from"),
            not_normalised=col.get("not_normalised") or None))
    if verdict:
        verdict = {**verdict, "reasons": [_translate_reason(r) for r in verdict.get("reasons", [])]}
    return AssetOut(
        id=asset["id"], title=asset["title"], holder_id=asset["holder"], version=asset["current_version"],
        version_id=version["id"] if version else None, filename=version["filename"] if version else None,
        profile_status=version["profile_status"] if version else None,
        progress=version["profile_progress"] if version else 0, stage=version["profile_stage"] if version else "",
        error_code=(version["error_code"] or None) if version else None, error=error,
        encoding=(version["encoding"] or None) if version else None,
        delimiter=(version["delimiter"] or None) if version else None,
        format=(version["format"] or None) if version else None,
        header_row=version["header_row"] if version else None,
        header_rows=version["header_rows"] if version and version["profile_status"] == "done" else None,
        row_count=version["row_count"] if version else 0, columns=columns,
        quality=QualityOut(score=quality["score"], dimensions=quality["dimensions"],
                           reasons=[_translate_reason(r) for r in quality["reasons"]]) if quality else None,
        grade=asset["grade"], grade_source=asset["grade_source"], personal=asset["personal"],
        classification=verdict,
        reading=json.loads(version["reading"]) if version and version["reading"] else None,
        schema_diff=json.loads(version["schema_diff"]) if version and version["schema_diff"] else None,
        versions=[VersionBrief(**v) for v in data["versions"]], update_cycle=asset["update_cycle"],
        category_path=asset["category_path"], registration_code=asset["registration_code"])
