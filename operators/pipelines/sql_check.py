"""The check every pipeline's SQL passes before it is stored and again before it runs: one SELECT that
reads only its declared sources, by name, and calls only allowed functions; and which columns of each
source it reads, so a scope that narrows an asset to some columns can be enforced.

The engines are locked down as well (operators.pipelines.engines); this check is the first wall, and
the one that gives the operator a clear reason. Refusals are DomainErrors with stable codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from market import sql_limits
from market.errors import DomainError
from market.i18n import N_
from operators.pipelines import functions

MAX_SQL_CHARS = 20_000
# a source's name as the SQL reads it: a plain identifier, so it needs no quoting in either engine
SOURCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
# statements and clauses that are not a plain query, wherever they appear in the tree
_FORBIDDEN_NODES = ("Insert", "Update", "Delete", "Create", "Drop", "Alter", "Command", "Copy", "Attach", "Detach",
                    "Pragma", "Set", "Use", "Merge", "TruncateTable", "Lateral", "Unnest", "Into", "Placeholder",
                    "Parameter", "Transaction", "Commit", "Rollback", "Describe", "Show", "Install", "Load",
                    "Export", "Summarize", "Changes")


def _forbidden_nodes() -> tuple[type, ...]:
    # sqlglot versions differ in which statement classes they have: keep the ones this one has
    return tuple(getattr(exp, n) for n in _FORBIDDEN_NODES if isinstance(getattr(exp, n, None), type))


@dataclass
class Checked:
    tree: exp.Expression  # the parsed query, as written
    columns: dict[str, list[str]] = field(default_factory=dict)  # source name → columns read (their own spelling)
    # output columns that copy a source's direct identifier unchanged (dropped when the pipeline asks)
    identifier_outputs: list[str] = field(default_factory=list)


def _refuse(code: str, message: str, **params) -> DomainError:
    return DomainError(code, message, status_code=422, **params)


def check_names(names: list[str]) -> None:
    for name in names:
        if not isinstance(name, str) or not SOURCE_NAME.match(name):
            raise _refuse("pipeline.source_name_invalid",
                          N_("数据来源名称须以字母开头，只能由字母、数字和下划线组成：{name}"), name=str(name)[:64])
        if name.lower() in functions.BUILTINS:
            raise _refuse("pipeline.source_name_invalid",
                          N_("数据来源名称须以字母开头，只能由字母、数字和下划线组成：{name}"), name=name)


def parse(sql: str) -> exp.Expression:
    """The one query of `sql`, or a refusal."""
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse("pipeline.sql_empty", N_("请填写加工 SQL"))
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse("pipeline.sql_too_long", N_("加工 SQL 不能超过 {n} 个字符"), n=MAX_SQL_CHARS)
    try:
        statements = sql_limits.parse(sql, read="duckdb")
    except sql_limits.TooDeep:
        raise _refuse("pipeline.sql_too_deep", N_("加工 SQL 嵌套过深（超过 {n} 层），请简化后再试"),
                      n=sql_limits.MAX_DEPTH) from None
    except (ParseError, sqlglot.errors.TokenError) as exc:
        raise _refuse("pipeline.sql_syntax", N_("加工 SQL 有语法错误：{detail}"), detail=str(exc).splitlines()[0][:200]) from None
    if len(statements) != 1:
        raise _refuse("pipeline.sql_not_single_select", N_("加工 SQL 只能是一条 SELECT 查询"))
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise _refuse("pipeline.sql_not_single_select", N_("加工 SQL 只能是一条 SELECT 查询"))
    bad = next(iter(tree.find_all(*_forbidden_nodes())), None)
    if bad is not None:
        raise _refuse("pipeline.sql_forbidden", N_("加工 SQL 不能包含 {what}"), what=type(bad).__name__.upper())
    return tree


def _check_tables(tree: exp.Expression, sources: set[str]) -> None:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            # read_csv(...), range(...), a table function of any kind: reads something undeclared
            raise _refuse("pipeline.table_function", N_("加工 SQL 只能读取声明的数据来源，不能调用表函数：{name}"),
                          name=(table.this.sql("duckdb") if table.this else "")[:60])
        if table.args.get("db") or table.args.get("catalog"):
            raise _refuse("pipeline.undeclared_source", N_("加工 SQL 读取了未声明的数据来源：{name}"), name=table.sql("duckdb")[:60])
        name = table.name.lower()
        if name not in sources and name not in ctes:
            raise _refuse("pipeline.undeclared_source", N_("加工 SQL 读取了未声明的数据来源：{name}"), name=table.name[:60])


def _check_functions(tree: exp.Expression) -> None:
    for fn in tree.find_all(exp.Func):
        if isinstance(fn, exp.Anonymous):
            if fn.name.lower() in functions.BUILTINS:
                continue
            name = fn.name
        elif type(fn).__name__ in functions.ALLOWED_FUNCTIONS:
            continue
        else:
            name = fn.sql_name() if hasattr(fn, "sql_name") else type(fn).__name__
        raise _refuse("pipeline.function_not_allowed", N_("加工 SQL 不能调用函数 {name}（不在允许清单中）"), name=str(name)[:60])


def check(sql: str, schemas: dict[str, dict[str, str]], identifiers: dict[str, set[str]] | None = None) -> Checked:
    """Check `sql` against the declared sources' schemas ({name: {column: SQL type}}); return the parsed
    query and the columns it reads of each source. `identifiers` ({name: {column}}) are the sources'
    direct identifiers, to find output columns that copy one unchanged."""
    check_names(list(schemas))
    tree = parse(sql)
    lower = {name.lower(): name for name in schemas}
    _check_tables(tree, set(lower))
    _check_functions(tree)
    spelled = {name.lower(): {c.lower(): c for c in cols} for name, cols in schemas.items()}
    try:
        qualified = qualify(tree.copy(), schema={n: dict(cols) for n, cols in schemas.items()}, dialect="duckdb",
                            validate_qualify_columns=True, quote_identifiers=False)
    except OptimizeError as exc:
        raise _refuse("pipeline.sql_unresolved", N_("加工 SQL 引用了数据来源中没有的字段：{detail}"),
                      detail=str(exc).splitlines()[0][:200]) from None
    read: dict[str, set[str]] = {}
    for scope in traverse_scope(qualified):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table) and source.name.lower() in lower:
                real = spelled[source.name.lower()].get(column.name.lower())
                if real is not None:
                    read.setdefault(lower[source.name.lower()], set()).add(real)
    if copies_raw_rows(qualified, lower):
        raise _refuse("pipeline.raw_copy", N_("加工结果不能是原始数据的直接副本（原始数据不出域）：请至少对一个字段做脱敏、泛化或汇总"))
    out = Checked(tree=tree, columns={name: sorted(cols) for name, cols in read.items()})
    if identifiers:
        out.identifier_outputs = _identifier_outputs(qualified, identifiers, lower)
    return out


def _identifier_outputs(qualified: exp.Expression, identifiers: dict[str, set[str]], lower: dict[str, str]) -> list[str]:
    """Output columns of the outermost SELECT that are a bare reference to a source's direct identifier."""
    root = qualified
    while isinstance(root, exp.SetOperation):
        root = root.this
    if not isinstance(root, exp.Select):
        return []
    top = next(iter(traverse_scope(qualified)[-1:]), None)
    found = []
    for projection in root.expressions:
        inner = projection.unalias()
        if not isinstance(inner, exp.Column) or top is None:
            continue
        source = top.sources.get(inner.table)
        if isinstance(source, exp.Table) and source.name.lower() in lower:
            ids = {c.lower() for c in identifiers.get(lower[source.name.lower()], set())}
            if inner.name.lower() in ids:
                found.append(projection.alias_or_name)
    return found



def _raw_select(select: exp.Expression, scope, lower: dict[str, str]) -> bool:
    """Whether this SELECT hands back source rows as they are (see `copies_raw_rows`)."""
    if isinstance(select, exp.SetOperation):
        by_node = {id(s.expression): s for s in traverse_scope(select)}
        return all(_raw_select(branch, by_node.get(id(branch)), lower) for branch in (select.this, select.expression))
    if not isinstance(select, exp.Select) or scope is None:
        return False
    if select.args.get("group") or select.args.get("distinct") or any(p.find(exp.AggFunc) for p in select.expressions):
        return False
    for projection in select.expressions:
        inner = projection.unalias()
        if isinstance(inner, exp.Star):
            continue
        if not isinstance(inner, exp.Column):
            return False
        source = scope.sources.get(inner.table)
        if isinstance(source, exp.Table):
            continue
        # a column of a CTE or subquery: raw only if that one hands it back raw too
        inner_select = getattr(source, "expression", None)
        if inner_select is None or not _raw_column(inner_select, inner.name, source, lower):
            return False
    return True


def _raw_column(select: exp.Expression, name: str, scope, lower: dict[str, str]) -> bool:
    if not isinstance(select, exp.Select):
        return False
    if select.args.get("group") or select.args.get("distinct"):
        return False
    for projection in select.expressions:
        if projection.alias_or_name.lower() == name.lower():
            inner = projection.unalias()
            if not isinstance(inner, exp.Column):
                return False
            source = scope.sources.get(inner.table)
            if isinstance(source, exp.Table):
                return True
            nested = getattr(source, "expression", None)
            return nested is not None and _raw_column(nested, inner.name, source, lower)
    return False


def copies_raw_rows(qualified: exp.Expression, lower: dict[str, str]) -> bool:
    """Whether the (qualified) query only hands rows of its sources back as they are: no aggregation, and
    every output column a bare source column, directly or through CTEs and subqueries. Such a product
    would be the raw data leaving its domain (原始数据不出域), so it is refused; masking, generalising or
    aggregating any column makes it a product."""
    scopes = traverse_scope(qualified)
    root = scopes[-1] if scopes else None
    return _raw_select(qualified, root, lower)
