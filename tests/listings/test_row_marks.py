"""Row marks: an excerpt of a delivered file without its header (some hundred rows, in any order, possibly
mixed with another recipient's rows) still names its recipient; too few rows, a stripped or a forged
excerpt names nobody, never a wrong recipient."""

from __future__ import annotations

import csv
import io
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import login, make_listing, make_user
from listings import pricing
from listings.entitlements import _row_marks, marks
from listings.tables import DeliveryMark, Entitlement
from order_steps import buy

STREETS = ["湖滨街道", "清波街道", "小营街道", "望江街道", "南星街道", "紫阳街道", "文新街道", "翠苑街道",
           "灵隐街道", "北山街道", "西溪街道", "古荡街道", "蒋村街道", "留下街道", "转塘街道", "双浦镇"]
DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区"]


def _table(rows: int = 700) -> bytes:
    rng = random.Random(7)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["区划代码", "区县", "街道", "常住人口", "面积"])
    for i in range(rows):
        w.writerow([330102 + i, rng.choice(DISTRICTS), rng.choice(STREETS), rng.randint(1000, 90000),
                    f"{rng.uniform(1, 90):.1f}"])
    return out.getvalue().encode()


def _rows(text: str) -> list[str]:
    """The data lines of a delivered file, each with its line end, as a person copies them."""
    return text.splitlines(keepends=True)[1:]


async def _order_and_download(client, job_runtime, holder: dict, listing: dict, plan: dict,
                              buyer: dict) -> tuple[int, str]:
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"], plan_id=plan["id"])
    eid = order["entitlement_id"]
    await login(client, buyer)
    resp = await client.get(f"/api/v1/entitlements/{eid}/versions/1/file")
    assert resp.status_code == 200, resp.text
    client.cookies.clear()
    return eid, resp.content.decode("utf-8-sig")


async def _trace(client, csrf: str, text: str) -> dict:
    resp = await client.post("/api/v1/trace", headers={"X-CSRF-Token": csrf},
                             files={"file": ("excerpt.csv", text.encode(), "text/csv")})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_an_excerpt_without_the_header_names_its_recipient(client, job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, delivery="file", content=_table(),
                              plans=[pricing.PlanSpec(kind="free", name="免费下载")])
    listing, plan = data["listing"], data["plans"][0]
    buyer_a, buyer_b = await make_user(["buyer"]), await make_user(["buyer"])
    eid_a, text_a = await _order_and_download(client, job_runtime, holder, listing, plan, buyer_a)
    eid_b, text_b = await _order_and_download(client, job_runtime, holder, listing, plan, buyer_b)

    # what the buyer parses: every number, code and empty cell as uploaded; text cells differ only by
    # invisible characters, and only one cell per row
    original = list(csv.reader(io.StringIO(_table().decode())))
    delivered = list(csv.reader(io.StringIO(text_a)))
    assert len(delivered) == len(original)
    for got, want in zip(delivered[1:], original[1:]):
        assert [got[0], got[3], got[4]] == [want[0], want[3], want[4]]
        assert [marks.strip(c) for c in got] == want
        assert sum(c != w for c, w in zip(got, want)) == 1

    regulator = await make_user(["regulator"])
    csrf = await login(client, regulator)
    rows_a, rows_b = _rows(text_a), _rows(text_b)

    # 300 rows from the middle, no header: the recipient, its entitlement and order, from the rows alone
    found = await _trace(client, csrf, "".join(rows_a[200:500]))
    [mark] = found["marks"]
    assert mark["recipient_credit_code"] == buyer_a["org"]["credit_code"]
    [granted] = await Entitlement.select(Entitlement.source_ref).where(Entitlement.id == eid_a)
    assert granted["source_ref"].startswith("order:")
    assert mark["entitlement_id"] == eid_a and mark["order"] == granted["source_ref"]  # the mark names the order
    assert mark["listing_id"] == listing["id"] and mark["version"] == 1
    assert not mark["in_header"] and mark["rows_supporting"] == 300
    assert found["marked_rows"] == 300 and found["unattributed_rows"] == 0

    # shuffled (a re-sorted sheet), a random subset
    shuffled = random.Random(3).sample(rows_a, 300)
    [mark] = (await _trace(client, csrf, "".join(shuffled)))["marks"]
    assert mark["entitlement_id"] == eid_a

    # rows of two recipients' files mixed: both named, nobody else
    mixed = random.Random(4).sample(rows_a[:350], 200) + random.Random(5).sample(rows_b[350:], 200)
    random.Random(6).shuffle(mixed)
    found = await _trace(client, csrf, "".join(mixed))
    assert sorted(m["entitlement_id"] for m in found["marks"]) == sorted([eid_a, eid_b])
    assert found["unattributed_rows"] == 0

    # 20 rows: never a wrong recipient; 8 rows: too few to name anyone, and said so
    few = (await _trace(client, csrf, "".join(random.Random(8).sample(rows_a, 20))))["marks"]
    assert {m["entitlement_id"] for m in few} <= {eid_a}
    found = await _trace(client, csrf, "".join(rows_a[40:48]))
    assert found["marks"] == [] and found["unattributed_rows"] == 8

    # stripped, or re-marked under another key (a forgery blaming buyer B): nobody
    assert (await _trace(client, csrf, marks.strip("".join(rows_a[200:500]))))["marks"] == []
    mark_b = await DeliveryMark.select().where(DeliveryMark.entitlement == eid_b).first()
    forged = b"".join(marks.mark_csv([marks.strip(text_a).encode()], "", bom=False,
                                     rows=marks.row_marker(mark_b["id"], b"f" * 32))).decode()
    assert (await _trace(client, csrf, forged))["marks"] == []

    # the whole file still names its recipient by the header mark and by its rows
    [mark] = (await _trace(client, csrf, text_a))["marks"]
    assert mark["in_header"] and mark["rows_supporting"] == 700 and mark["entitlement_id"] == eid_a

    # the regulator's page shows who and on how many rows; and when the rows are too few
    resp = await client.post("/trace", data={"_csrf": csrf},
                             files={"file": ("excerpt.csv", "".join(rows_a[200:500]).encode(), "text/csv")})
    assert resp.status_code == 200, resp.text
    assert buyer_a["org"]["name"] in resp.text and "300 行数据的标记" in resp.text
    assert 'data-testid="trace-insufficient"' not in resp.text
    resp = await client.post("/trace", data={"_csrf": csrf},
                             files={"file": ("excerpt.csv", "".join(rows_a[40:48]).encode(), "text/csv")})
    assert 'data-testid="trace-insufficient"' in resp.text and buyer_a["org"]["name"] not in resp.text


# ---- the marks alone, for all inputs ------------------------------------------------------------------

_TEXT = st.text(alphabet="上城区西湖街道社区说明公园 ab,\"\n'", min_size=0, max_size=12)
_NUMBER = st.one_of(st.integers(-10**9, 10**12).map(str), st.floats(allow_nan=False, allow_infinity=False).map(repr),
                    st.just(""), st.sampled_from(["2025-03-01", "2025年3月", "40万元", "N/A", "91330100MA27XL0Q8B"]))


@st.composite
def _tables(draw):
    """A header and rows: every row has one text cell with Chinese characters (so it carries a mark), among
    numbers, dates, amounts, codes, empty cells and free text with commas, quotes and newlines."""
    texts = draw(st.lists(_TEXT, min_size=1, max_size=6))
    numbers = draw(st.lists(_NUMBER, min_size=1, max_size=6))
    names = draw(st.lists(st.sampled_from(DISTRICTS + STREETS), min_size=1, max_size=4))
    shape = draw(st.lists(st.sampled_from(["text", "number", "name"]), min_size=0, max_size=4))
    rng = random.Random(draw(st.integers(0, 2**32)))
    n = draw(st.integers(300, 600))
    rows = []
    for _ in range(n):
        row = [rng.choice(names)]
        for kind in shape:
            row.append(rng.choice(texts if kind == "text" else numbers if kind == "number" else names))
        rows.append(row)
    return ["名称"] + [f"列{i}" for i in range(len(shape))], rows


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _scan(text: str, secret: bytes, chunk: int) -> tuple[list[int], dict]:
    scanner = marks.Scanner(secret)
    data = text.encode()
    for i in range(0, len(data), chunk):
        scanner.feed(data[i:i + chunk])
    return scanner.finish(), scanner.evidence()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(table=_tables(), mark_id=st.integers(0, 2**31 - 1), data=st.data())
def test_any_few_hundred_rows_trace_back_and_a_tampered_key_never_does(table, mark_id, data):
    header, rows = table
    secret = b"s" * 32
    source = _csv([header] + rows)
    out = b"".join(marks.mark_csv([source.encode()], marks.stamp(mark_id, secret), bom=False,
                                  rows=marks.row_marker(mark_id, secret))).decode()
    delivered = list(csv.reader(io.StringIO(out)))
    # nothing but the invisible characters changed, numbers and the like not at all
    assert marks.strip(out) == source
    for got, want in zip(delivered[1:], rows):
        assert sum(g != w for g, w in zip(got, want)) == 1
        assert all(g == w for g, w in zip(got, want) if _row_marks._tier(w) == 0)
    # a random subset of at least 300 rows, shuffled, without the header, read in random chunks
    rng = data.draw(st.randoms(use_true_random=False))
    picked = rng.sample(range(len(rows)), data.draw(st.integers(300, len(rows))))
    excerpt = _csv([delivered[1 + i] for i in picked])
    chunk = data.draw(st.integers(1, 4096))
    found, evidence = _scan(excerpt, secret, chunk)
    assert found == [mark_id] and evidence["rows"][mark_id] == len(picked) and evidence["header"] == []
    assert _scan(excerpt, b"t" + secret[1:], chunk)[0] == []
    assert _scan(out, b"t" + secret[1:], chunk)[0] == []


def test_two_files_mixed_and_a_corrupted_row():
    secret = b"s" * 32
    rows = [[f"第{i}号", "上城区", str(i)] for i in range(400)]
    files = {}
    for mark_id in (11, 2**31 - 5):
        out = b"".join(marks.mark_csv([_csv([["a", "b", "c"]] + rows).encode()], "", bom=False,
                                      rows=marks.row_marker(mark_id, secret))).decode()
        files[mark_id] = out.splitlines(keepends=True)[1:]
    mixed = files[11][:150] + files[2**31 - 5][150:300]
    # a damaged symbol is one wrong vote among many
    mixed[0] = mixed[0].replace("\u200b", "\u200c", 1) if "\u200b" in mixed[0] else mixed[0].replace("\u200c", "\u200b", 1)
    random.Random(1).shuffle(mixed)
    found, evidence = _scan("".join(mixed), secret, 1000)
    assert sorted(found) == [11, 2**31 - 5] and evidence["unattributed_rows"] <= 1


def test_which_cells_carry_the_mark():
    tier = _row_marks._tier
    assert [tier(v) for v in ("上城区", "Hello world", "说明：见附件")] == [2, 2, 2]
    assert tier("杭州市西湖区文三路90号") == 1
    for value in ("", "12.5", "-3", "2025-03-01", "2025年3月", "第3季度", "40万元", "24,500(万元)", "N/A", "无",
                  "true", "91330100MA27XL0Q8B", "ABC", "1e5", "上城区\u200b"):
        assert tier(value) == 0, value


def test_tracing_examines_a_bounded_number_of_rows(monkeypatch):
    secret = b"s" * 32
    rows = [["上城区", str(i)] for i in range(200)]
    out = b"".join(marks.mark_csv([_csv([["a", "b"]] + rows).encode()], "", bom=False,
                                  rows=marks.row_marker(5, secret))).decode()
    monkeypatch.setattr(marks.Scanner, "MAX_ROWS", 50)
    found, evidence = _scan(out, secret, 64)
    assert found == [5] and evidence["rows_capped"] and evidence["rows_examined"] == 50
    assert evidence["marked_rows"] == 49  # the header is the first of the 50 lines
