"""An aggregate query over 1,000,000 rows through the sandbox's path (sqlglot checks, a fresh locked DuckDB
loading the prepared CSV with the profile's types, the rewritten query with per-group source counts, the
WHERE measure, k suppression) against the same query in plain DuckDB on the same file, in the same run.

    python bench/sandbox.py [--rows 1000000] [--rounds 3]

The last line is JSON with `ratio` = plain seconds / sandbox seconds (median of rounds; floor 0.5).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from listings.sandbox import checks, engine  # noqa: E402

SQL = ("SELECT 区县, substr(年月, 1, 4) AS 年, count(*) AS 人次, sum(费用) AS 合计, round(avg(费用), 2) AS 平均 "
       "FROM data WHERE 费用 > 10 GROUP BY 区县, 年 ORDER BY 区县, 年")
TYPES = [("区县", "VARCHAR"), ("年月", "VARCHAR"), ("身份证号", "VARCHAR"), ("费用", "DOUBLE")]
DISTRICTS = ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区",
             "桐庐县", "淳安县", "建德市"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _write(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("区县,年月,身份证号,费用\n")
        for i in range(rows):
            fh.write(f"{DISTRICTS[i % 13]},{2019 + i % 7}-{i % 12 + 1:02d},33010{i:013d},{rng.random() * 500:.2f}\n")


def _plain(path: str) -> tuple[float, list]:
    started = time.perf_counter()
    con = duckdb.connect(":memory:", config={"threads": 1})
    spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in TYPES) + "}"
    con.execute(f"CREATE TABLE data AS SELECT * FROM read_csv('{path}', header = true, auto_detect = false, "
                f"columns = {spec})")
    rows = con.execute(SQL).fetchall()
    con.close()
    return time.perf_counter() - started, rows


def _sandbox(path: str) -> tuple[float, list]:
    started = time.perf_counter()
    plan = checks.check(SQL, columns=[n for n, _t in TYPES], personal={"身份证号"})
    outcome = engine.execute(path, TYPES, plan, engine.Limits(seconds=60, memory_mb=1024, threads=1,
                                                              max_rows=100_000))
    assert outcome.where_kept >= 10 and outcome.where_total - outcome.where_kept >= 10
    _names, rows, _suppressed = engine.apply_k(outcome, 10)
    return time.perf_counter() - started, rows


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    try:
        path = workdir / "data.csv"
        _write(path, args.rows)
        _log(f"{args.rows} rows written ({path.stat().st_size / 1024**2:.0f} MB)")
        ratios, plain_s, sandbox_s = [], [], []
        for n in range(args.rounds):
            p, plain_rows = _plain(str(path))
            s, sandbox_rows = _sandbox(str(path))
            assert [list(r) for r in plain_rows] == sandbox_rows, "the sandbox answered differently"
            plain_s.append(p)
            sandbox_s.append(s)
            ratios.append(p / s)
            _log(f"round {n + 1}: plain {p:.3f} s, sandbox {s:.3f} s, ratio {p / s:.3f}")
        result = {"rows": args.rows, "plain_seconds": round(statistics.median(plain_s), 3),
                  "sandbox_seconds": round(statistics.median(sandbox_s), 3),
                  "ratio": round(statistics.median(ratios), 3), "ratios": [round(r, 3) for r in ratios],
                  "floor": 0.5}
        print(json.dumps(result, ensure_ascii=False))
        return 0 if result["ratio"] >= 0.5 else 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
