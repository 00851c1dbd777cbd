"""Classification grades (GB/T 43697-2024, 就高从严), listing permission and display masks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from listings.profiling.classification import GRADES, classify, may_list
from listings.profiling.masking import mask, mask_rows
from listings.profiling import profile_csv
from listings.demo.residents import generate_residents


@pytest.fixture(scope="module")
def residents(tmp_path_factory) -> tuple[dict, Path]:
    path = tmp_path_factory.mktemp("cls") / "residents.csv"
    generate_residents(path, 1000)
    with path.open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    return profile_csv(path, header), path


def _col(name: str, **kw) -> dict:
    base = {"name": name, "type": "text", "semantic_type": None, "personal": False, "sensitive": False,
            "sensitive_kind": [], "null_count": 0, "distinct_count": 0, "validity": None, "minors": False}
    return {**base, **kw}


def test_grades_constant():
    assert GRADES == ("general", "important", "core")


def test_residents_are_important_because_of_id_numbers(residents):
    profile, _path = residents
    verdict = classify(profile)
    assert verdict["grade"] == "important"
    assert verdict["personal"] and verdict["sensitive"]
    assert {"身份证号", "姓名", "手机号", "住址"} <= set(verdict["masked_columns"])
    ids = [r for r in verdict["reasons"] if r["column"] == "身份证号"]
    assert any(r["code"] == "class.sensitive_personal" for r in ids)
    assert any(r["code"] == "class.minors" for r in ids)
    for r in verdict["reasons"]:
        assert set(r) >= {"column", "code", "message", "params"}
        assert r["message"].format(**r["params"]) == r["text"]
        assert any("\u4e00" <= ch <= "\u9fff" for ch in r["text"])  # plain Chinese
    assert any("身份证号" in r["text"] for r in verdict["reasons"])


def test_plain_statistics_table_is_general(tmp_path):
    path = tmp_path / "gdp.csv"
    path.write_text("年份,国内生产总值(亿元),人口(万人)\n2021年,1149237,141260\n2022年,1204724,141175\n"
                    "2023年,1260582,140967\n", encoding="utf-8")
    profile = profile_csv(path, ["年份", "国内生产总值(亿元)", "人口(万人)"])
    verdict = classify(profile)
    assert verdict["grade"] == "general" and not verdict["personal"] and verdict["masked_columns"] == []
    assert [r["code"] for r in verdict["reasons"]] == ["class.no_personal"]


def test_personal_but_not_sensitive_is_general_and_masked():
    profile = {"row_count": 500, "duplicate_rows": 0, "columns": [
        _col("联系人", semantic_type="person_name", personal=True, distinct_count=480),
        _col("联系电话", semantic_type="mobile", personal=True, distinct_count=500),
        _col("门店数", type="integer"),
    ]}
    verdict = classify(profile)
    assert verdict["grade"] == "general" and verdict["personal"] and not verdict["sensitive"]
    assert verdict["masked_columns"] == ["联系人", "联系电话"]
    assert {r["code"] for r in verdict["reasons"]} == {"class.personal"}


def _ids(people: int, **kw) -> dict:
    return {"row_count": people, "duplicate_rows": 0, "columns": [
        _col("证件号码", semantic_type="resident_id", personal=True, sensitive=True, sensitive_kind=["resident_id"],
             distinct_count=people, **kw),
        _col("姓名", semantic_type="person_name", personal=True, distinct_count=people // 3),
    ]}


def test_people_thresholds_without_generating_rows():
    # 1.2 million distinct ID numbers: sensitive (important) and above the important threshold
    verdict = classify(_ids(1_200_000))
    assert verdict["grade"] == "important"
    codes = [r["code"] for r in verdict["reasons"]]
    assert "class.people_important" in codes and "class.sensitive_personal" in codes
    people = next(r for r in verdict["reasons"] if r["code"] == "class.people_important")
    assert people["params"]["people"] == 1_200_000 and people["column"] == "证件号码"
    # the same table under a lower core threshold is core
    verdict = classify(_ids(1_200_000), core_threshold_people=1_000_000)
    assert verdict["grade"] == "core"
    assert any(r["code"] == "class.sensitive_people_core" for r in verdict["reasons"])
    # 12 million sensitive records: core with the defaults
    assert classify(_ids(12_000_000))["grade"] == "core"


def test_many_people_non_sensitive_is_important():
    profile = {"row_count": 2_000_000, "duplicate_rows": 0, "columns": [
        _col("手机号", semantic_type="mobile", personal=True, distinct_count=1_500_000)]}
    verdict = classify(profile)
    assert verdict["grade"] == "important"
    # non-sensitive personal information never becomes core, however many people
    assert classify(profile, core_threshold_people=1_000)["grade"] == "important"
    assert classify(profile, important_threshold_people=2_000_000)["grade"] == "general"


def test_minors_are_at_least_important():
    profile = {"row_count": 10, "duplicate_rows": 0, "columns": [
        _col("学生姓名", semantic_type="person_name", personal=True, distinct_count=10),
        _col("出生日期", type="date", personal=True, sensitive=True, sensitive_kind=["minors"], minors=True)]}
    verdict = classify(profile)
    assert verdict["grade"] == "important" and verdict["minors"]
    assert any(r["code"] == "class.minors" and r["column"] == "出生日期" for r in verdict["reasons"])


def test_may_list():
    assert may_list("general", "unconditional") == (True, None)
    assert may_list("important", "conditional") == (True, None)
    ok, why = may_list("core", "conditional")
    assert not ok and "核心" in why
    ok, why = may_list("general", "not_shared")
    assert not ok and "不予共享" in why
    assert may_list("bogus", "unconditional")[0] is False


# ---- display masks (DOMAIN.md: Identifiers) ----------------------------------------------------------

def test_masks_from_domain():
    assert mask("110101199003074534", "resident_id") == "1***************34"
    assert len(mask("11010119900307453X", "resident_id")) == 18
    assert mask("13512342210", "mobile") == "135****2210"
    assert mask("+8613512342210", "mobile") == "+86135****2210"
    assert mask("张三丰", "person_name") == "张**"
    assert mask("欧阳娜娜", "person_name") == "欧***"
    assert mask("浙江省杭州市西湖区文三路90号", "address") == "浙江省杭州市西" + "*" * 8
    assert mask("文三路90号", "address") == "文三****"
    assert mask("6222021234567890123", None, ["bank_card"]) == "6222" + "*" * 11 + "0123"
    assert mask("高血压", None, ["health"]) == "***"
    assert mask("佛教", None, ["religion"]) == "***"
    assert mask(None, "mobile") is None


def test_mask_rows_masks_every_personal_column(residents):
    profile, path = residents
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:20]
    masked = mask_rows(rows, profile)
    assert len(masked) == 20 and rows[0]["身份证号"] != masked[0]["身份证号"]
    for raw, out in zip(rows, masked):
        assert out["身份证号"] == raw["身份证号"][0] + "*" * 15 + raw["身份证号"][-2:]
        assert out["姓名"] == raw["姓名"][0] + "*" * (len(raw["姓名"]) - 1)
        assert out["手机号"].endswith(raw["手机号"][-4:]) and "****" in out["手机号"]
        assert out["住址"].endswith("*" * 8) and raw["住址"] not in out["住址"]
        assert out["参保状态"] == raw["参保状态"]  # not personal: unchanged
