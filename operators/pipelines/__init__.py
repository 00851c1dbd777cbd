"""Derived products by pipelines: an operator's SQL over in-scope sources, checked with sqlglot, run on
DuckDB (or Spark) as a job, its output a new version of a derived asset with recorded lineage."""

from operators.pipelines._define import (  # noqa: F401
    authorize,
    create_pipeline,
    get_pipeline,
    list_pipelines,
    schemas_of,
)
from operators.pipelines._runs import execute_run, get_run, lineage_of, rerun_due, start_run  # noqa: F401
from operators.pipelines.functions import DESCRIPTIONS as FUNCTION_DESCRIPTIONS  # noqa: F401
