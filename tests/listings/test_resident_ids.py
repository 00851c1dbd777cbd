"""身份证号 validity (issue 7, finding 2): the region code is where the number was issued, which can be
long after birth, so a code created after the birth date is fine; it only has to exist or have existed
in GB/T 2260 at some time. A clean table of such numbers must not be reported dirty."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from hypothesis import given, settings, strategies as st
from stdnum.cn import ric

from listings.profiling import quality
from listings.profiling import profile_csv, region_codes, region_table, ric_is_valid

from test_assets import _col, _profiled, _upload, holder_client  # noqa: F401  (fixture)


def _number(code: str, born: dt.date, seq: int) -> str:
    body = f"{code}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _created_after_birth(rng: random.Random) -> tuple[str, dt.date]:
    """A county code created in year Y (e.g. 310115 浦东新区, 1992) and a birth date before Y."""
    late = [(code, start) for code, entries in region_table().items() if not code.endswith("00")
            for start, _end, _name in entries[:1] if start and 1950 < start <= 2020]
    code, start = rng.choice(late)
    born = dt.date(start - rng.randint(1, 30), 1, 1) + dt.timedelta(days=rng.randrange(365))
    return code, born


def _write_ids(path: Path, n: int = 500, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    ids = []
    for i in range(n):
        code, born = ("310115", dt.date(1979, 1, 1) + dt.timedelta(days=rng.randrange(365))) if i % 5 == 0 \
            else _created_after_birth(rng)
        ids.append(_number(code, born, rng.randrange(1000)))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["序号", "身份证号"])
        w.writerows([i + 1, v] for i, v in enumerate(ids))
    return ids


def test_pudong_1979_is_valid():
    number = _number("310115", dt.date(1979, 6, 1), 123)
    assert not ric.is_valid(number)  # python-stdnum's dated rule refuses it
    assert ric_is_valid(number)


def test_codes_created_after_birth_profile_as_valid(tmp_path):
    path = tmp_path / "ids.csv"
    ids = _write_ids(path)
    assert sum(map(ric.is_valid, ids)) == 0  # every one of them fails the birth-year rule
    profile = profile_csv(path, ["序号", "身份证号"])
    ident = next(c for c in profile["columns"] if c["name"] == "身份证号")
    assert ident["semantic_type"] == "resident_id" and ident["checked_count"] == 500
    assert ident["validity"] == 1.0
    report = quality.report(profile)
    assert not [r for r in report["reasons"] if r["code"] == "quality.invalid"]
    assert report["dimensions"]["validity"] == 1.0


def test_codes_stdnum_lacks_are_known():
    # 临平区 and 钱塘区 (2021) are missing from python-stdnum's table; the shipped supplement has them
    assert {"330113", "330114"} <= region_codes()
    assert ric_is_valid(_number("330113", dt.date(2022, 3, 4), 2))


_CODES = sorted(region_codes())


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(_CODES), born=st.dates(dt.date(1900, 1, 1), dt.date.today()),
       seq=st.integers(0, 999), lower=st.booleans())
def test_any_well_formed_number_is_valid(code, born, seq, lower):
    number = _number(code, born, seq)
    assert ric_is_valid(number.lower() if lower else number)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert not ric_is_valid(wrong)


@settings(max_examples=100, deadline=None)
@given(code=st.sampled_from(_CODES), days=st.integers(1, 3650), seq=st.integers(0, 999))
def test_future_birth_dates_are_invalid(code, days, seq):
    assert not ric_is_valid(_number(code, dt.date.today() + dt.timedelta(days=days), seq))


@settings(max_examples=100, deadline=None)
@given(code=st.integers(100000, 999999).map(str).filter(lambda c: c not in region_codes()),
       born=st.dates(dt.date(1900, 1, 1), dt.date.today()), seq=st.integers(0, 999))
def test_codes_that_never_existed_are_invalid(code, born, seq):
    assert not ric_is_valid(_number(code, born, seq))


def test_impossible_dates_are_invalid():
    body = "11010119790230123"  # 30 February
    assert not ric_is_valid(body + ric.calc_check_digit(body + "0"))


async def test_clean_id_table_is_not_reported_dirty(holder_client, job_runtime, tmp_path):  # noqa: F811
    path = tmp_path / "ids.csv"
    _write_ids(path)
    resp = await _upload(holder_client, holder_client.csrf, path, name="户籍迁入登记.csv")
    asset = await _profiled(holder_client, job_runtime, resp.json()["id"])
    assert asset["profile_status"] == "done"
    ident = _col(asset, "身份证号")
    assert ident["semantic_type"] == "resident_id" and ident["validity"] == 1.0
    assert not [r for r in asset["quality"]["reasons"] if r["code"] == "quality.invalid"]
    assert asset["quality"]["dimensions"]["validity"] == 1.0
    page = await holder_client.get(f"/my/data/{asset['id']}")
    assert page.status_code == 200 and "不符合" not in page.text and "100.0%" in page.text
