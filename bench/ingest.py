"""Ingest throughput: our upload path (reading + profiling) against DuckDB's bare CSV load.

    cd /work/main && .venv/bin/python bench/ingest.py [--rows 1000000] [--keep] [--rounds 3] [--file CSV]

1. Generates (in a temporary directory) a realistic Chinese enterprise register as a UTF-8 CSV:
   统一社会信用代码 (valid GB 32100 check characters), 企业名称, 法定代表人, 注册资本(万元), 成立日期,
   行政区划代码, 地址, 状态 (存续/在业/注销/吊销, with variants), 行业. Deterministic (seed 2026).
2. Times, in interleaved rounds (bench/_rounds.py: each round runs both sides back to back, alternating
   which goes first), (a) DuckDB's raw load, `CREATE TABLE t AS SELECT * FROM read_csv('<file>')` with
   auto-detection, in a fresh in-memory connection with threads=2, and (b) our path as the profiling job
   runs it: `listings.assets._profile_child.read_and_profile` (reading.prepare + profiling.profile_csv) in a
   child process bounded by the default budget (market.bounded), whose peak resident memory is reported.
3. Profiles once a 5,000-column file of one data row (the hostile file of issue 7) the same way, with the
   column limit raised to let it through, and reports its time and peak memory.
4. Prints human-readable lines to stderr; the last stdout line is one JSON object:
   {"bench":"ingest","rows":…,"bytes":…,"ratio":…,"ratio_spread":…,"ratios":[…],"rounds":…,
    "goal_ratio":0.3,"duckdb_load_s":…,"ours_s":…,"reading_s":…,"profile_s":…,"loaded_once":…,"linked":…,"peak_mb":…,
    "wide_columns":5000,"wide_s":…,"wide_peak_mb":…}
   ratio = the median over rounds of duckdb_load_s / ours_s (the same as ours rows/s over DuckDB's);
   the seconds are medians; peak_mb is the largest peak of the child over the rounds; loaded_once: DuckDB parsed
   the file once for reading and profiling; linked: the file was already exactly the prepared CSV (UTF-8, commas,
   CRLF, as csv.writer writes it), so the prepared CSV is a link to it, not a copy.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from stdnum.cn import uscc  # noqa: E402

from listings.profiling import COMMON_SURNAMES, region_table  # noqa: E402

HEADER = ["统一社会信用代码", "企业名称", "法定代表人", "注册资本(万元)", "成立日期", "行政区划代码", "地址", "状态", "行业"]
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WORDS = "华信达通宏盛泰和恒安康源兴隆鑫鼎昌明远创新科技智能数据云海天成中合瑞祥丰利金银博元正德".strip()
_KINDS = ("科技", "商贸", "建筑工程", "餐饮管理", "物流", "电子", "信息技术", "文化传媒", "农业开发", "医药", "汽车服务", "房地产开发")
_FORMS = (("有限公司", 60), ("有限责任公司", 15), ("股份有限公司", 5), ("集团有限公司", 2), ("厂", 3), ("合作社", 4),
          ("事务所", 2), ("中心", 3), ("商行", 6))
_STATES = (("存续", 55), ("在业", 20), ("存续（在营、开业、在册）", 5), ("注销", 12), ("吊销", 6), ("吊销，未注销", 2))
_INDUSTRIES = ("批发和零售业", "制造业", "建筑业", "租赁和商务服务业", "科学研究和技术服务业", "信息传输、软件和信息技术服务业",
               "住宿和餐饮业", "交通运输、仓储和邮政业", "农、林、牧、渔业", "房地产业", "居民服务、修理和其他服务业",
               "文化、体育和娱乐业", "金融业", "教育", "卫生和社会工作")
_ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "文化路", "胜利路", "科技园路", "工业大道", "长江路", "学府路")
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红建国志桂辉力永健世广浩宇轩涵欣怡诺泽远琪俊晨曦嘉婷雪梅燕新东"


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _names_by_code() -> tuple[list[str], dict[str, str]]:
    table = region_table()
    names: dict[str, str] = {}
    for code, entries in table.items():
        for _s, end, name in entries:
            if end is None:
                names[code] = name
    counties = sorted(c for c in names if not c.endswith("00"))
    return counties, names


def generate(path: Path, rows: int, seed: int = 2026) -> None:
    """Write `rows` enterprise registrations (column-wise random draws, then one csv.writer pass)."""
    rng = random.Random(seed)
    counties, names = _names_by_code()
    surnames = list(COMMON_SURNAMES[:80])
    idx = {c: i for i, c in enumerate(_ALPHABET)}
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

    def credit(code: str, i: int) -> str:
        if i % 7 == 0:  # some organisation codes carry letters
            org = "".join(rng.choices(_ALPHABET, k=9))
        else:
            org = f"{rng.randrange(10**9):09d}"
        body = ("91" if i % 10 else "92") + code + org
        total = sum(map(int.__mul__, map(idx.__getitem__, body), weights))
        return body + _ALPHABET[(31 - total) % 31]

    def place(code: str) -> tuple[str, str, str]:
        city = names.get(code[:4] + "00", "")
        city = "" if city in ("市辖区", "县") else city
        return names.get(code[:2] + "0000", ""), city, names[code]

    places = {code: place(code) for code in counties}
    codes = rng.choices(counties, k=rows)
    forms = rng.choices([f for f, _w in _FORMS], [w for _f, w in _FORMS], k=rows)
    states = rng.choices([s for s, _w in _STATES], [w for _s, w in _STATES], k=rows)
    industries = rng.choices(_INDUSTRIES, k=rows)
    kinds = rng.choices(_KINDS, k=rows)
    brands = [a + b for a, b in zip(rng.choices(_WORDS, k=rows), rng.choices(_WORDS, k=rows))]
    people = [s + g1 + (g2 if i % 3 else "") for i, (s, g1, g2) in enumerate(zip(
        rng.choices(surnames, k=rows), rng.choices(_GIVEN, k=rows), rng.choices(_GIVEN, k=rows)))]
    capitals = [f"{a * b:.2f}".rstrip("0").rstrip(".") for a, b in zip(
        rng.choices((10, 50, 100, 200, 500, 1000, 3000, 5000), k=rows), rng.choices((1, 1, 1, 0.5, 1.2), k=rows))]
    roads = rng.choices(_ROADS, k=rows)
    start = date(1985, 1, 1)
    days = [(start + timedelta(days=d)).isoformat() for d in range((date(2025, 12, 31) - start).days)]
    founded = rng.choices(days, k=rows)
    numbers = rng.choices([f"{n}号" for n in range(1, 1000)], k=rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(rows):
            code = codes[i]
            province, city, county = places[code]
            cc = credit(code, i)
            if i % 100_000 == 0:
                assert uscc.is_valid(cc), cc
            w.writerow([
                cc, f"{city.removesuffix('市')}{brands[i]}{kinds[i]}{forms[i]}", people[i], capitals[i],
                founded[i], code, f"{province}{city}{county}{roads[i]}{numbers[i]}", states[i], industries[i],
            ])


def time_duckdb(path: Path) -> float:
    import duckdb

    con = duckdb.connect(":memory:", config={"threads": 2})
    con.execute("SET enable_progress_bar = false")
    try:
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{path.as_posix()}')")
        elapsed = time.perf_counter() - t0
        n = con.execute("SELECT count(*) FROM t").fetchone()[0]
        _log(f"  duckdb raw load: {n} rows in {elapsed:.3f} s")
        return elapsed
    finally:
        con.close()


def time_ours(path: Path, workdir: Path, limits=None) -> dict:
    """Our whole path in a bounded child, as the profiling job runs it: seconds, the reading part, the
    child's peak memory, and the profile."""
    from listings.assets import _profile_child
    from listings.reading._limits import ReadLimits
    from market import bounded
    from market.config import Settings

    settings = Settings()
    budget = bounded.Budget(memory_bytes=settings.profile_memory_mb * 1024**2, seconds=settings.profile_seconds)
    out = workdir / "prepared"
    shutil.rmtree(out, ignore_errors=True)
    stages: list[tuple[float, str, float]] = []
    t0 = time.perf_counter()
    outcome = bounded.run(
        _profile_child.read_and_profile, str(path), str(out), filename=path.name,
        limits=limits or ReadLimits.from_settings(settings), threads=settings.profile_threads,
        duckdb_memory=f"{settings.profile_memory_mb // 2}MB", budget=budget,
        on_message=lambda m: stages.append((m[0], m[1], time.perf_counter() - t0)))
    elapsed = time.perf_counter() - t0
    reading_s = next((t for _f, s, t in stages if s == "profiling"), 0.0)
    _log(f"  ours: {elapsed:.3f} s (reading {reading_s:.3f} s, profiling {elapsed - reading_s:.3f} s), "
         f"peak {outcome.peak_bytes / 1024**2:.0f} MB")
    prepared, profile, _normalised = outcome.value  # (the 元 columns added beside amounts)
    # a file that is already exactly the prepared CSV is linked, not copied (listings.reading._bytecopy)
    linked = prepared.csv_path.stat().st_ino == path.stat().st_ino
    return {"seconds": elapsed, "reading_s": reading_s, "profile_s": elapsed - reading_s,
            "peak": outcome.peak_bytes, "profile": profile, "loaded": prepared.loaded, "linked": linked}


def wide_file(path: Path, columns: int = 5000) -> None:
    path.write_text(",".join(f"列{i}" for i in range(columns)) + "\n"
                    + ",".join(str(i % 10) for i in range(columns)) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated CSV and print its path")
    ap.add_argument("--rounds", "--repeat", type=int, default=3, help="interleaved rounds (at least 3)")
    ap.add_argument("--file", type=Path, help="reuse an already generated CSV")
    args = ap.parse_args(argv)

    from _rounds import interleave, median_of, summarize
    from listings.assets import _profile_child
    from listings.reading._limits import ReadLimits
    from market import bounded

    bounded.preload(_profile_child.PRELOAD)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        path = args.file or workdir / "enterprises.csv"
        if args.file is None:
            t0 = time.perf_counter()
            generate(path, args.rows)
            _log(f"generated {args.rows} rows ({path.stat().st_size / 1e6:.1f} MB) "
                 f"in {time.perf_counter() - t0:.1f} s: {path}")
        rows = args.rows
        size = path.stat().st_size
        wide = workdir / "wide.csv"
        wide_file(wide)
        # the fork server starts once per process (not per job): start it before timing anything
        time_ours(wide, workdir, ReadLimits(max_columns=5000))

        rounds = interleave(max(3, args.rounds), bare=lambda: time_duckdb(path),
                            ours=lambda: time_ours(path, workdir))
        profile = rounds[-1]["ours"]["profile"]
        assert profile["row_count"] == rows, profile["row_count"]
        for col in profile["columns"]:
            _log(f"  {col['name']:<12} {col['type']:<9} {str(col['semantic_type']):<16} "
                 f"validity={col['validity']} distinct={col['distinct_count']} nulls={col['null_count']}")
        wide_run = time_ours(wide, workdir, ReadLimits(max_columns=5000))
        assert len(wide_run["profile"]["columns"]) == 5000
        result = {"bench": "ingest", "rows": rows, "bytes": size}
        seconds = [{"bare": r["bare"], **r["ours"]} for r in rounds]
        result.update(summarize([{"bare": r["bare"], "ours": r["seconds"]} for r in seconds], ours="ours", bare="bare",
                                lower_is_better=True))
        result.update({
            "goal_ratio": 0.3,
            "duckdb_load_s": median_of(seconds, "bare"),
            "ours_s": median_of(seconds, "seconds"),
            "reading_s": median_of(seconds, "reading_s"),
            "profile_s": median_of(seconds, "profile_s"),
            "loaded_once": all(r["loaded"] for r in seconds),
            "linked": all(r["linked"] for r in seconds),
            "peak_mb": round(max(r["peak"] for r in seconds) / 1024**2),
            "wide_columns": 5000,
            "wide_bytes": wide.stat().st_size,
            "wide_s": round(wide_run["seconds"], 3),
            "wide_peak_mb": round(wide_run["peak"] / 1024**2),
        })
        _log(f"ratio {result['ratio']} (spread {result['ratio_spread']}, rounds {result['ratios']}; goal >= 0.3); "
             f"peak memory {result['peak_mb']} MB for {rows} rows, {result['wide_peak_mb']} MB for 5,000 columns")
        if args.keep:
            _log(f"kept: {path}")
        print(json.dumps(result, ensure_ascii=False))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
