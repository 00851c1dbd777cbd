"""Text encodings: Big5 is not read as GBK, certain files are read without a question, uncertain ones ask."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from listings import reading
from listings.reading import _encoding as _reading_encoding
from listings.demo import tables as demo_tables
from listings.reading import EncodingQuestion, prepare

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"

# traditional place names, libraries and addresses, as a Taiwan, Hong Kong or Macao source writes them
CITIES = ["臺北市", "新北市", "桃園市", "臺中市", "臺南市", "高雄市", "基隆市", "新竹市", "嘉義市", "宜蘭縣",
          "彰化縣", "南投縣", "雲林縣", "屏東縣", "花蓮縣", "臺東縣", "澎湖縣", "金門縣"]
DISTRICTS = ["中正區", "大同區", "中山區", "松山區", "大安區", "萬華區", "信義區", "士林區", "北投區", "內湖區",
             "南港區", "文山區", "鳳山區", "東區", "北區"]
LIBRARIES = ["市立圖書館", "市立圖書館總館", "公共圖書館", "兒童圖書館", "圖書館分館", "文化中心圖書館",
             "國立圖書館", "社區閱覽室"]
STREETS = ["建國南路", "忠孝東路", "仁愛路", "和平東路", "復興北路", "民族路", "中華路", "光復路", "新光路",
           "中正路", "環河南路", "高士威道", "彌敦道", "皇后大道中"]


def big5_libraries(rows: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["名稱,縣市,地址,電話,藏書量"]
    for _ in range(rows):
        city, district = rng.choice(CITIES), rng.choice(DISTRICTS)
        name = f"{city}{rng.choice(LIBRARIES)}"
        address = f"{city}{district}{rng.choice(STREETS)}{rng.randint(1, 3)}段{rng.randint(1, 300)}號"
        lines.append(f"{name},{city},{address},0{rng.randint(2, 8)}-{rng.randint(2000000, 29999999)},"
                     f"{rng.randint(1000, 900000)}")
    return "\n".join(lines) + "\n"


def _prepare(tmp_path: Path, data: bytes, name: str = "t.csv", **kw) -> reading.PreparedTable:
    tmp_path.mkdir(parents=True, exist_ok=True)
    src = tmp_path / ("src-" + name)
    src.write_bytes(data)
    return prepare(src, tmp_path / "out", filename=name, **kw)


def _rows(table: reading.PreparedTable) -> list[list[str]]:
    with table.csv_path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def _expected(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# --- Big5 --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows", [1, 3, 40, 3000])
def test_big5_libraries_are_read_as_big5(tmp_path, rows):
    text = big5_libraries(rows)
    assert text.encode("big5").decode("gb18030", errors="strict")  # the trap: GB18030 decodes it too
    t = _prepare(tmp_path, text.encode("big5"))
    assert t.encoding == "big5" and t.row_count == rows
    assert _rows(t) == _expected(text)


def test_the_reported_example(tmp_path):
    text = "名稱,地址\n臺北市立圖書館,臺北市大安區建國南路二段125號\n國立臺灣圖書館,新北市中和區中和路100號\n"
    assert "カミ瓜" in text.encode("big5").decode("gb18030")  # what the issue saw (籓カミ瓜繻 and private-use marks)
    t = _prepare(tmp_path, text.encode("big5"))
    assert t.encoding == "big5" and _rows(t)[1][0] == "臺北市立圖書館"


def test_big5_hkscs(tmp_path):
    text = "名稱,備註\n香港中央圖書館,喺銅鑼灣\n九龍公共圖書館,冇問題嘅\n屯門公共圖書館,佢哋咗啲㗎\n"
    t = _prepare(tmp_path, text.encode("big5hkscs"))
    assert t.encoding == "big5-hkscs" and _rows(t) == _expected(text)


def test_big5_after_an_ascii_start_beyond_the_sniffed_bytes(tmp_path):
    lines = ["code,name"] + [f"{i:06d},abc" for i in range(12_000)]
    lines += [f"{900000 + i},{row.split(',')[0]}" for i, row in enumerate(big5_libraries(30).splitlines()[1:])]
    t = _prepare(tmp_path, ("\n".join(lines) + "\n").encode("big5"), "late.csv")
    assert t.encoding == "big5" and _rows(t)[-1][1].endswith(("館", "室"))
    assert any("BIG5" in w for w in t.warnings)


def test_utf16_without_a_byte_order_mark(tmp_path):
    text = "名稱\t數量\n臺北市立圖書館\t1\n高雄市立圖書館\t2\n"
    for codec in ("utf-16-le", "utf-16-be"):
        t = _prepare(tmp_path / codec, text.encode(codec), "u.txt")
        assert (t.encoding, t.delimiter, _rows(t)) == (codec, "\t", _expected(text.replace("\t", ",")))


# --- certain files stay certain -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in REALDATA.iterdir() if p.suffix in (".csv", ".tsv")))
def test_real_text_files_need_no_question(tmp_path, name):
    t = prepare(REALDATA / name, tmp_path / "out", filename=name)
    assert t.encoding == ("gbk" if name.startswith("cnemc") else "utf-8")


def test_demo_text_tables_need_no_question(tmp_path):
    tables = [t for t in demo_tables.demo_tables() if t.encoding != "xlsx"]
    assert any(t.encoding == "gbk" for t in tables)
    for table in tables:
        path = tmp_path / table.filename
        table.write(path)
        got = prepare(path, tmp_path / ("out-" + table.key), filename=table.filename)
        assert got.encoding == table.encoding, table.key


# --- uncertain files ask -------------------------------------------------------------------------------------------

AMBIGUOUS = "地方,基本\n计划,方法\n"  # its GBK bytes read as Big5 give 華源,價掛 / 數赫,源楊: everyday characters too


def test_an_ambiguous_short_file_asks_with_the_rows_under_each_candidate(tmp_path):
    with pytest.raises(EncodingQuestion) as asked:
        _prepare(tmp_path, AMBIGUOUS.encode("gbk"))
    candidates = {c["encoding"]: c for c in asked.value.candidates}
    assert set(candidates) == {"gbk", "big5"}
    assert candidates["gbk"]["rows"] == _expected(AMBIGUOUS)
    assert candidates["big5"]["rows"] == _expected(AMBIGUOUS.encode("gbk").decode("big5"))
    assert not (tmp_path / "out").exists()  # nothing half-made
    # the holder's choice is honoured, whichever it is
    assert _rows(_prepare(tmp_path, AMBIGUOUS.encode("gbk"), encoding="gbk")) == _expected(AMBIGUOUS)
    other = _prepare(tmp_path, AMBIGUOUS.encode("gbk"), encoding="big5")
    assert other.encoding == "big5" and _rows(other)[0] == ["華源", "價掛"]
    json.dumps(asked.value.candidates, ensure_ascii=False)  # stored on the version as JSON


def test_the_question_survives_a_process_boundary():
    import pickle

    question = EncodingQuestion([{"encoding": "gbk", "score": 1.0, "rows": [["地方"]]}])
    assert pickle.loads(pickle.dumps(question)).candidates == question.candidates


def test_a_weak_only_reading_asks():
    # Shift-JIS Japanese decodes as GB18030 too, into characters nobody writes together
    with pytest.raises(EncodingQuestion) as asked:
        _reading_encoding.judge("名前,住所\nアイウエオ,カキクケコ\nサシスセソ,タチツテト\n".encode("shift_jis"), True)
    assert asked.value.candidates[0]["score"] < _reading_encoding.WEAK


def test_plausibility_ranks_traditional_with_simplified():
    p = _reading_encoding.plausibility
    assert p("臺北市立圖書館") == p("台北市立图书馆") == 1.0
    assert p("籓カミ瓜繻") == 0.0 and p("abc, 123") == 1.0


# --- for all inputs --------------------------------------------------------------------------------------------------

COMMON = sorted({ch for entry in json.loads((Path(_reading_encoding.__file__).parent.parent / "data" /
                                             "hanzi_frequency.json").read_text(encoding="utf-8"))["ranks"][:2500]
                 for ch in entry[:1]} - set("无"))  # 无 alone is a missing-value marker, written as an empty cell
cells = st.text(alphabet=COMMON, min_size=1, max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(cells, cells), min_size=1, max_size=8), encoding=st.sampled_from(["gb18030", "utf-8"]))
def test_common_chinese_is_read_back_exactly(tmp_path_factory, rows, encoding):
    """Never silently wrong: the text comes back exactly, or the holder is asked and the right reading is offered."""
    tmp = tmp_path_factory.mktemp("prop")
    text = "编号,名称,地址\n" + "".join(f"{i},{a},{b}\n" for i, (a, b) in enumerate(rows, 1))
    data = text.encode(encoding)
    try:
        table = _prepare(tmp, data)
    except EncodingQuestion as asked:
        assert encoding != "utf-8"
        right = [c for c in asked.candidates if c["encoding"] in ("gbk", "gb18030")]
        assert right and right[0]["rows"] == _expected(text)[: _reading_encoding.PREVIEW_ROWS]
        table = _prepare(tmp, data, encoding=right[0]["encoding"])
    assert _rows(table) == _expected(text)


def test_the_frequency_table_is_what_its_script_makes():
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "hanzi_frequency.py"
    spec = importlib.util.spec_from_file_location("hanzi_frequency", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads(module.OUT.read_text(encoding="utf-8")) == module.build()
