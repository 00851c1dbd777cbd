"""Personal or not (issue 7, finding 3): decided from what a row describes. Names and addresses of
clinics, hospitals and offices are public facts and stay readable; a residents table stays masked; the
holder can correct the decision per column, with a reason, audited."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

from factories import credit_code, login, make_listing, make_user
from listings.profiling.masking import mask_rows
from listings.profiling import COMMON_SURNAMES, profile_csv
from listings.demo.residents import generate_residents
from market.tables import AuditEvent

_DISTRICTS = (("上城区", "330102", ("解放路", "清泰街", "望江路")), ("西湖区", "330106", ("北山街", "文三路", "天目山路")),
              ("拱墅区", "330105", ("湖墅南路", "莫干山路", "大关路")), ("滨江区", "330108", ("江南大道", "滨盛路", "长河路")))
_STREETS = ("北山", "西溪", "灵隐", "翠苑", "文新", "古荡", "湖滨", "清波", "小营", "长庆")


def generate_clinics(path: Path, n: int = 120, seed: int = 4) -> list[dict]:
    """A vaccination clinic directory: clinic names, credit codes, addresses, the clinics' phones."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        district, code, roads = rng.choice(_DISTRICTS)
        street = rng.choice(_STREETS)
        kind = i % 5
        name = (f"杭州市第{'一二三四五六七'[i % 7]}人民医院" if kind == 0 else
                f"{district}{street}街道社区卫生服务中心" if kind == 1 else
                f"杭州{rng.choice('仁康和济安')}{rng.choice('心德华')}诊所" if kind == 2 else
                f"{district}{street}卫生院预防接种门诊" if kind == 3 else
                f"杭州{rng.choice('同德仁和')}门诊部有限公司")
        rows.append({
            "接种单位名称": name, "统一社会信用代码": credit_code("12" if kind < 4 else "91", code, rng),
            "所在区县": district,
            "地址": f"浙江省杭州市{district}{rng.choice(roads)}{rng.randint(1, 999)}号",
            "咨询电话": f"0571-{rng.randint(8000_0000, 8999_9999)}",
            "门诊时间": rng.choice(("周一至周五 8:00-16:30", "周一至周六 8:00-11:30")),
        })
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


def _col(profile: dict, name: str) -> dict:
    return next(c for c in profile["columns"] if c["name"] == name)


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_clinic_directory_is_not_personal(tmp_path):
    path = tmp_path / "clinics.csv"
    rows = generate_clinics(path)
    profile = profile_csv(path, _header(path))
    assert profile["subject"] == "organisation"
    for name in ("接种单位名称", "地址", "咨询电话"):
        assert not _col(profile, name)["personal"], name
    assert _col(profile, "地址")["semantic_type"] == "address" and _col(profile, "地址")["describes"] == "organisation"
    assert not profile["personal"]
    # the sample a buyer sees keeps names and addresses readable
    assert mask_rows(rows[:20], profile) == rows[:20]


def test_residents_stay_personal_and_masked(tmp_path):
    path = tmp_path / "residents.csv"
    generate_residents(path, 300)
    profile = profile_csv(path, _header(path))
    assert profile["subject"] == "person"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))[:30]
    masked = mask_rows(rows, profile)
    for name in ("姓名", "身份证号", "手机号", "住址"):
        assert _col(profile, name)["personal"], name
        assert all(m[name] != r[name] and "*" in m[name] for m, r in zip(masked, rows) if r[name]), name


def test_enterprise_registry_keeps_the_legal_representative_personal(tmp_path):
    path = tmp_path / "registry.csv"
    rng = random.Random(2)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "企业名称", "法定代表人", "住所"])
        for i in range(80):
            w.writerow([credit_code("91", "330106", rng), f"杭州{'优华鼎盛恒通'[i % 6]}{i}贸易有限公司",
                        rng.choice("王李张刘陈") + rng.choice(["伟", "芳", "秀英", "建国"]),
                        f"浙江省杭州市西湖区天目山路{i + 1}号"])
    profile = profile_csv(path, _header(path))
    assert profile["subject"] == "organisation"
    assert _col(profile, "法定代表人")["personal"]  # a person's name, whatever the row is about
    assert not _col(profile, "住所")["personal"]  # the enterprise's registered address
    assert profile["personal"]


def test_owner_of_an_individual_business_is_a_person(tmp_path):
    path = tmp_path / "shops.csv"
    rng = random.Random(6)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["统一社会信用代码", "名称", "经营者", "经营场所"])
        for i in range(80):
            owner = rng.choice(COMMON_SURNAMES[:60]) + "".join(rng.choices("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超", k=2))
            # short shop names read like people's names (李记, 王芳): the 名称 header says they are not
            w.writerow([credit_code("92", "330102", rng), rng.choice("王李张刘陈") + rng.choice(["记", "氏", "芳"]),
                        owner, f"杭州市上城区解放路{i + 1}号"])
    profile = profile_csv(path, _header(path))
    assert profile["subject"] == "organisation"
    assert _col(profile, "经营者")["personal"]
    assert not _col(profile, "经营场所")["personal"]
    assert not _col(profile, "名称")["personal"]


def test_health_columns_of_a_person_are_sensitive(tmp_path):
    path = tmp_path / "records.csv"
    generate_residents(tmp_path / "r.csv", 60)
    with (tmp_path / "r.csv").open(encoding="utf-8") as fh, path.open("w", encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["姓名", "身份证号", "血型", "慢性病"])
        for r in csv.DictReader(fh):
            w.writerow([r["姓名"], r["身份证号"], "A型", "高血压"])
    profile = profile_csv(path, _header(path))
    for name in ("血型", "慢性病"):
        assert "health" in _col(profile, name)["sensitive_kind"] and _col(profile, name)["personal"], name


async def _clinic_listing(tmp_path, job_runtime):
    path = tmp_path / "clinics.csv"
    rows = generate_clinics(path)
    holder = await make_user(["holder"])
    listing = await make_listing(holder, job_runtime, content=path.read_bytes(), title="杭州市预防接种门诊名录",
                                 tier="product", price_fen=0)
    return holder, listing["listing"], rows


async def test_clinic_listing_shows_names_and_addresses(client, job_runtime, tmp_path):
    holder, listing, rows = await _clinic_listing(tmp_path, job_runtime)
    page = await client.get(f"/listings/{listing['id']}")
    assert page.status_code == 200
    sample = json.loads(listing["sample"])
    assert sample and all("*" not in r["接种单位名称"] and "*" not in r["地址"] for r in sample)
    assert sample[0]["接种单位名称"] in page.text and sample[0]["地址"] in page.text
    await login(client, holder)
    asset = (await client.get(f"/api/v1/assets/{listing['asset']}")).json()
    assert asset["personal"] is False and asset["grade"] == "general"
    addr = next(c for c in asset["columns"] if c["name"] == "地址")
    assert not addr["personal"] and addr["describes"] == "organisation" and "*" not in (addr["min"] or "")


async def test_holder_corrects_personal_flag_audited(client, job_runtime, tmp_path):
    holder, listing, rows = await _clinic_listing(tmp_path, job_runtime)
    csrf = await login(client, holder)
    asset_id = listing["asset"]
    url = f"/api/v1/assets/{asset_id}/personal"
    resp = await client.post(url, json={"column": "咨询电话", "personal": True, "reason": "含医生个人手机号码"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    phone = next(c for c in body["columns"] if c["name"] == "咨询电话")
    assert phone["personal"] and phone["personal_source"] == "holder" and body["personal"] is True
    assert any(r["code"] == "class.personal_corrected" for r in body["classification"]["reasons"])
    assert all(p["咨询电话"] not in resp.text for p in rows)  # now masked in the profile
    event = await AuditEvent.select().where(AuditEvent.action == "asset.personal_corrected").first()
    assert event is not None and "含医生个人手机号码" in event["after"] and "咨询电话" in event["after"]
    # the listing's sample follows the correction
    page = await client.get(f"/listings/{listing['id']}")
    assert not any(r["咨询电话"] in page.text for r in rows)
    # and back: the holder says the column is not personal after all
    resp = await client.post(url, json={"column": "咨询电话", "personal": False, "reason": "均为门诊公开电话"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.json()["personal"] is False
    # a new version keeps the holder's decision
    resp = await client.post(url, json={"column": "地址", "personal": True, "reason": "部分为私人诊所负责人住址"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200
    path = tmp_path / "clinics2.csv"
    generate_clinics(path, seed=9)
    resp = await client.post(f"/api/v1/assets/{asset_id}/versions", headers={"X-CSRF-Token": csrf},
                             files={"file": ("clinics.csv", io.BytesIO(path.read_bytes()), "text/csv")})
    assert resp.status_code == 201
    await job_runtime.drain(timeout=120)
    asset = (await client.get(f"/api/v1/assets/{asset_id}")).json()
    assert asset["version"] == 2
    addr = next(c for c in asset["columns"] if c["name"] == "地址")
    assert addr["personal"] and addr["personal_source"] == "holder" and asset["personal"] is True


async def test_personal_correction_refusals_change_nothing(client, job_runtime, tmp_path):
    path = tmp_path / "residents.csv"
    generate_residents(path, 200)
    holder = await make_user(["holder"])
    csrf = await login(client, holder)
    resp = await client.post("/api/v1/assets", headers={"X-CSRF-Token": csrf},
                             files={"file": ("居民.csv", io.BytesIO(path.read_bytes()), "text/csv")})
    asset_id = resp.json()["id"]
    await job_runtime.drain(timeout=120)
    url = f"/api/v1/assets/{asset_id}/personal"
    before = (await client.get(f"/api/v1/assets/{asset_id}")).json()
    events = await AuditEvent.count()
    for payload, code in (({"column": "住址", "personal": False, "reason": ""}, "asset.personal_reason_required"),
                          ({"column": "住址", "personal": False, "reason": " 好 "}, "asset.personal_reason_required"),
                          ({"column": "不存在", "personal": False, "reason": "没有这一列"}, "asset.column_unknown"),
                          ({"column": "身份证号", "personal": False, "reason": "想公开展示"}, "asset.personal_required")):
        resp = await client.post(url, json=payload, headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 400 and resp.json()["code"] == code, resp.text
        assert resp.json()["message"]
    assert await AuditEvent.count() == events
    assert (await client.get(f"/api/v1/assets/{asset_id}")).json() == before
    # another holder and a buyer are refused
    client.cookies.clear()
    other = await make_user(["holder"])
    csrf = await login(client, other)
    resp = await client.post(url, json={"column": "住址", "personal": False, "reason": "不是我的数据"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    client.cookies.clear()
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post(url, json={"column": "住址", "personal": False, "reason": "我是买方"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    resp = await client.post(f"/my/data/{asset_id}/personal", data={"column": "住址", "personal": "no",
                                                                     "reason": "我是买方", "_csrf": csrf})
    assert resp.status_code == 403
    assert not await AuditEvent.exists().where(AuditEvent.action == "asset.personal_corrected")


async def test_asset_page_has_the_correction_control(client, job_runtime, tmp_path):
    holder, listing, _rows = await _clinic_listing(tmp_path, job_runtime)
    csrf = await login(client, holder)
    page = await client.get(f"/my/data/{listing['asset']}")
    assert 'data-testid="personal-correction"' in page.text and "机构信息" in page.text
    resp = await client.post(f"/my/data/{listing['asset']}/personal", headers={"X-CSRF-Token": csrf},
                             data={"column": "地址", "personal": "yes", "reason": "含个人住址", "_csrf": csrf})
    assert resp.status_code == 200 and str(resp.url).endswith(f"/my/data/{listing['asset']}")
    asset = (await client.get(f"/api/v1/assets/{listing['asset']}")).json()
    assert next(c for c in asset["columns"] if c["name"] == "地址")["personal"] is True
