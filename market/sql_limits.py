"""Parsing SQL that users write (sandbox queries, operators' pipelines) within bounds.

sqlglot parses and walks recursively, so a query of a few kilobytes nested thousands deep (((((1))))) or
NOT NOT NOT … raises RecursionError, which would surface as a 500 instead of a refusal. Here the
parse is guarded and the tree's depth measured without recursion, so every later walk over an accepted
tree is shallow; callers turn TooDeep into their own refusal in the user's language.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

MAX_DEPTH = 64  # real queries nest a handful of levels; this leaves room for generated ones


class TooDeep(ValueError):
    """The query nests deeper than MAX_DEPTH (or too deep for the parser)."""


def depth(tree: exp.Expression) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.iter_expressions())
    return deepest


def parse(sql: str, *, read: str = "duckdb", max_depth: int = MAX_DEPTH) -> list[exp.Expression]:
    """sqlglot.parse (its ParseError and TokenError pass through), refusing nesting beyond max_depth."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=read) if s is not None]
    except RecursionError:
        raise TooDeep(max_depth) from None
    if any(depth(s) > max_depth for s in statements):
        raise TooDeep(max_depth)
    return statements
