"""Pipeline throughput: a masking pipeline through our engine path against the same SQL in plain DuckDB.

    .venv/bin/python bench/pipeline.py [--rows 1000000] [--rounds 3]

1. Generates (in a temporary directory, with DuckDB, deterministically) a visits table as a UTF-8 CSV:
   身份证号 (18 characters, some ending in X), 手机号, 区划代码, 就诊日期, 次数.
2. Times, in interleaved rounds (bench/_rounds.py), (a) plain DuckDB: a fresh connection reads the CSV with
   auto-detection, gets the same built-in macros (the SQL calls them), and COPYs the query's result to a
   CSV; and (b) our path without the HTTP and job layers: `operators.pipelines.engines.run_duckdb`, which
   reads the source with the explicit schema (text, then TRY_CAST), defines the macros, locks the
   connection down (no external access but the output directory, no extensions, limits, locked
   configuration, a timer that interrupts), materialises the result, checks k-anonymity over
   (地市, 月份) and writes the CSV. Same threads and memory limit on both sides.
3. Prints human-readable lines to stderr; the last stdout line is one JSON object:
   {"bench":"pipeline","rows":…,"ratio":…,"floor":0.5,"our_s":…,"bare_s":…,"our_rows_per_s":…,
    "bare_rows_per_s":…,"ratio_spread":…,"ratios":[…],"rounds":…}
   ratio = the median over rounds of bare_s / our_s (ours rows/s over plain DuckDB's); seconds are medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "bench"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from _rounds import interleave, summarize  # noqa: E402

FLOOR = 0.5
THREADS = 2
MEMORY_MB = 2048
SQL = ("SELECT mask_id(身份证号) AS 证件, mask_phone(手机号) AS 电话, region_city(区划代码) AS 地市, "
       "date_month(就诊日期) AS 月份, 次数 FROM visits")
COLUMNS = (("身份证号", "VARCHAR"), ("手机号", "VARCHAR"), ("区划代码", "VARCHAR"), ("就诊日期", "DATE"),
           ("次数", "BIGINT"))


def generate(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT (330100 + (i % 7) * 2 + 2)::VARCHAR || strftime(DATE '1950-01-01' + (i % 20000)::INTEGER, '%Y%m%d')
               || lpad((i % 1000)::VARCHAR, 3, '0') || CASE WHEN i % 11 = 0 THEN 'X' ELSE (i % 10)::VARCHAR END
                 AS 身份证号,
               '13' || lpad((i % 1000000000)::VARCHAR, 9, '0') AS 手机号,
               (330100 + (i % 7) * 2 + 2)::VARCHAR AS 区划代码,
               DATE '2024-01-01' + (i % 366)::INTEGER AS 就诊日期,
               (i % 9) + 1 AS 次数
        FROM range({int(rows)}) t(i)) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()


def run_bare(src: Path, out: Path) -> float:
    import duckdb

    from operators.pipelines import functions

    started = time.perf_counter()
    con = duckdb.connect(config={"threads": THREADS, "memory_limit": f"{MEMORY_MB}MB"})
    con.execute("CREATE TABLE visits AS SELECT * FROM read_csv(?)", [str(src)])
    for statement in functions.macro_statements():
        con.execute(statement)
    con.execute(f"COPY ({SQL}) TO ? (HEADER, DELIMITER ',')", [str(out)])
    con.close()
    return time.perf_counter() - started


def run_ours(src: Path, out: Path) -> float:
    from operators.pipelines import engines

    started = time.perf_counter()
    task = engines.Task(sources=(engines.Source("visits", str(src), COLUMNS),), sql=SQL, out_path=str(out),
                        k=5, k_columns=("地市", "月份"), memory_mb=MEMORY_MB, threads=THREADS, seconds=600)
    engines.run_duckdb(task)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        src = work / "visits.csv"
        t0 = time.perf_counter()
        generate(src, args.rows)
        print(f"generated {args.rows:,} rows ({src.stat().st_size / 1024**2:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
        (work / "bare").mkdir()
        (work / "ours").mkdir()
        rounds = interleave(args.rounds, bare=lambda: run_bare(src, work / "bare" / "out.csv"),
                            ours=lambda: run_ours(src, work / "ours" / "out.csv"))
        # the same rows out of both (ours has the same columns; the ID column is masked text on both)
        with (work / "bare" / "out.csv").open(encoding="utf-8") as a, (work / "ours" / "out.csv").open(
                encoding="utf-8") as b:
            if sum(1 for _ in a) != sum(1 for _ in b):
                raise SystemExit("the two sides wrote different row counts")
        our_s = statistics.median(r["ours"] for r in rounds)
        bare_s = statistics.median(r["bare"] for r in rounds)
        result = {"bench": "pipeline", "rows": args.rows, "floor": FLOOR, "our_s": round(our_s, 3),
                  "bare_s": round(bare_s, 3), "our_rows_per_s": round(args.rows / our_s),
                  "bare_rows_per_s": round(args.rows / bare_s)}
        result.update(summarize(rounds, ours="ours", bare="bare", lower_is_better=True))
        for i, r in enumerate(rounds, 1):
            print(f"round {i}: plain DuckDB {r['bare']:.2f} s, ours {r['ours']:.2f} s", file=sys.stderr)
        print(f"ours {result['our_rows_per_s']:,} rows/s, plain DuckDB {result['bare_rows_per_s']:,} rows/s, "
              f"ratio {result['ratio']:.2f} (floor {FLOOR})", file=sys.stderr)
        print(json.dumps(result, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
