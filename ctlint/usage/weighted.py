"""The usage SQL over a table whose rows may stand for several equal events (a mechanical rewrite).

The local engine collapses records that agree on every column the SQL reads into one row with
`ct_weight` (how many) and `ct_eventtime_last` (the latest; `eventtime` holds the earliest). This module
rewrites the *one* usage SQL text (`ctlint.usage.sql`) so that it computes over such a table exactly
what it computes over one row per event, without restating any of its semantics:

- a plain select (no aggregate, no DISTINCT) from one weighted source passes the two columns on, so
  the CTEs (`raw`, `events`, `assumed`) stay weighted; a DISTINCT select is a set and is not weighted;
- in an aggregating select over one weighted source: `count(*)` → `coalesce(sum(w), 0)`,
  `count_if(c)` → `coalesce(sum(CASE WHEN c THEN w ELSE 0 END), 0)`, `max(eventtime)` →
  `max(ct_eventtime_last)`; `min`, other `max` and `count(DISTINCT ...)` do not depend on multiplicity
  and stay. Any other aggregate raises, so a future change of the SQL fails loudly instead of wrongly.

What the rewrite cannot see, the engine guarantees: a row's events all lie on the same side of every
time bound of the query (rows straddling the window start or end are replaced by one row per event of
their file), and rows that could be duplicate deliveries keep their eventID (files sharing an eventID
are read one row per event, so the SQL's own dedupe decides).
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from ctlint.errors import EngineError

WEIGHT = "ct_weight"
LAST = "ct_eventtime_last"


def _sources(select: exp.Select) -> list[tuple[str, str]]:
    """(source name, alias or name) of the FROM and JOIN tables of a select."""
    out = []
    from_ = select.args.get("from_") or select.args.get("from")
    items = ([from_.this] if from_ is not None else []) + [j.this for j in select.args.get("joins") or []]
    for item in items:
        if isinstance(item, exp.Table):
            out.append((item.name, item.alias_or_name))
        else:  # a subquery: not used by the usage SQL
            raise EngineError("the weighted rewrite does not support subqueries in FROM.")
    return out


def _aggregates(select: exp.Select) -> list[exp.AggFunc]:
    found = []
    for projection in select.expressions:
        for node in projection.find_all(exp.AggFunc):
            if node.find_ancestor(exp.Window, exp.Select) is not None and isinstance(
                node.find_ancestor(exp.Window, exp.Select), exp.Window
            ):
                continue
            found.append(node)
    return found


@functools.lru_cache(maxsize=256)  # a pure rewrite of the same few texts, asked for on every collect
def weighted(text: str, table: str) -> str:
    """The Athena-dialect query `text` rewritten for a weighted `table` (still Athena dialect)."""
    tree = sqlglot.parse_one(text, read="athena")
    weighted_names = {table.lower()}
    selects = list(tree.find_all(exp.Select))
    passed: set[int] = set()

    def heavy_alias(select: exp.Select) -> str | None:
        heavy = [alias for name, alias in _sources(select) if name.lower() in weighted_names]
        if len(heavy) > 1:
            raise EngineError("the weighted rewrite does not support joining two weighted sources.")
        return heavy[0] if heavy else None

    changed = True
    while changed:  # pass the weight through plain selects (CTEs may be listed in any order)
        changed = False
        for select in selects:
            if (
                id(select) in passed
                or _aggregates(select)
                or select.args.get("group")
                or select.args.get("distinct")
            ):
                continue
            alias = heavy_alias(select)
            if alias is None:
                continue
            select.select(exp.column(WEIGHT, table=alias), exp.column(LAST, table=alias), copy=False)
            passed.add(id(select))
            if isinstance(select.parent, exp.CTE):
                weighted_names.add(select.parent.alias_or_name.lower())
            changed = True
    for select in selects:
        aggregates = _aggregates(select)
        if not aggregates:
            continue
        alias = heavy_alias(select)
        if alias is None:
            continue
        weight = exp.column(WEIGHT, table=alias)
        for node in aggregates:
            if isinstance(node, exp.Count):
                if isinstance(node.this, exp.Star):
                    node.replace(exp.func("coalesce", exp.Sum(this=weight.copy()), exp.Literal.number(0)))
                elif isinstance(node.this, exp.Distinct):
                    continue
                else:
                    raise EngineError(f"the weighted rewrite does not support {node.sql()}.")
            elif isinstance(node, exp.CountIf):
                case = exp.Case(
                    ifs=[exp.If(this=node.this.copy(), true=weight.copy())], default=exp.Literal.number(0)
                )
                node.replace(exp.func("coalesce", exp.Sum(this=case), exp.Literal.number(0)))
            elif isinstance(node, exp.Max):
                column = node.this
                if isinstance(column, exp.Column) and column.name.lower() == "eventtime":
                    node.set("this", exp.column(LAST, table=column.table or None))
            elif isinstance(node, exp.Min):
                continue
            else:
                raise EngineError(f"the weighted rewrite does not support the aggregate {node.sql()}.")
    return tree.sql(dialect="athena")


@functools.lru_cache(maxsize=256)
def without_dedupe(text: str) -> str:
    """`text` with the duplicate-delivery window (`row_number() OVER (PARTITION BY eventid, ...)`) as 1.

    For an engine that guarantees no two rows of the table share an eventID: then every row is its
    event's first copy and the window, the costliest step of four of the five queries, decides nothing.
    """
    tree = sqlglot.parse_one(text, read="athena")
    found = 0
    for window in list(tree.find_all(exp.Window)):
        partition = window.args.get("partition_by") or []
        if isinstance(window.this, exp.RowNumber) and any(
            isinstance(column, exp.Column) and column.name.lower() == "eventid" for column in partition
        ):
            window.replace(exp.Literal.number(1))
            found += 1
    if "row_number" in text.lower() and not found:
        raise EngineError("the usage SQL's dedupe window was not found; refusing to guess.")
    return tree.sql(dialect="athena")
