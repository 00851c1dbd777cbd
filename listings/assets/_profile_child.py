"""Reading and profiling one upload in a bounded child process (market.bounded), for the profiling job.

The child touches only files: the upload in, the prepared CSV and the profile out. The database, the
object store and the audit stay with the parent, which records the outcome (or the reason the child
was stopped) on the version.
"""

from __future__ import annotations

from pathlib import Path

from market import bounded

# what the fork server imports once, so that each child starts in milliseconds
PRELOAD = ("listings.assets._profile_child", "listings.reading", "listings.profiling", "openpyxl", "xlrd", "duckdb",
           "listings.assets._warm")


def read_and_profile(src: str, out: str, *, filename: str, limits, threads: int, duckdb_memory: str,
                     encoding: str | None = None):
    """reading.prepare, the 元 columns beside amounts written with units, then profiling.profile_csv;
    progress goes to the parent as (fraction, stage). Returns (prepared, profile, normalised amounts).
    `encoding`: the holder's choice after an EncodingQuestion (which crosses back to the parent as is)."""
    from listings import profiling, reading
    from listings.profiling import amounts

    bounded.report((0.05, "reading"))
    # one connection for both: a big clean CSV is parsed once, while it is checked (reading._loaded)
    con = profiling.connect(threads=threads, memory_limit=duckdb_memory, spill=Path(out) / ".profile-spill")
    try:
        prepared = reading.prepare(Path(src), Path(out), filename=filename, limits=limits, con=con,
                                   encoding=encoding)
        # amounts written with units (30(万), 1.2亿元) get a column in 元 beside them, before profiling, so the
        # new columns are profiled too; the table loaded while reading no longer matches the file then
        normalised = amounts.add_normalised_columns(prepared.csv_path, prepared.columns)
        if normalised and prepared.loaded:
            con.execute("DROP TABLE IF EXISTS t")
            prepared.loaded = False
        bounded.report((0.2, "profiling"))
        last = [0.0, ""]

        def progress(fraction: float, stage: str) -> None:
            # a 5,000-column table reports per column: one message per 1 % or per stage is plenty
            if stage != last[1] or fraction - last[0] >= 0.01:
                last[:] = [fraction, stage]
                bounded.report((0.2 + 0.7 * fraction, stage))

        profile = profiling.profile_csv(prepared.csv_path, prepared.columns, progress=progress, con=con,
                                        loaded=prepared.loaded)
    finally:
        con.close()
    return prepared, profile, normalised
