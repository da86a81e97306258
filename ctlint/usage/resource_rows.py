"""The resource_usage query's groups -> ResourceUsageRow, identically for every engine.

Both engines run the same query text (ctlint.usage.sql.resource_query) and hand its plain rows here:
every value is decoded from JSON text and turned into ARNs by ctlint.usage.resource_arns with the
catalog's ARN formats, then summed per (account, principal, event, ARN). Athena's strings and DuckDB's
ints are both accepted, and two groups that differ only in how an engine spelt the same JSON value
(spacing, escapes) add up to the same row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import orjson

from ctlint.catalog import Catalog
from ctlint.errors import EngineError
from ctlint.gcpause import cyclic_gc_paused
from ctlint.model import ResourceUsageRow
from ctlint.usage.resource_arns import (
    MAX_PER_RECORD,
    PARAMETERS,
    FormatLookup,
    catalog_formats,
    context_for,
    record_arns,
)
from ctlint.usage.resource_bound import UNNAMED
from ctlint.usage.sql import parse_time

_NOTHING = object()


def _decoded(text: object) -> object:
    if text is None:
        return _NOTHING
    try:
        return orjson.loads(text if isinstance(text, (str, bytes)) else str(text))
    except orjson.JSONDecodeError:
        return _NOTHING


def default_formats() -> FormatLookup:
    catalog = Catalog.load()
    return catalog_formats(catalog.resource_types, catalog.service_actions)


def resource_rows(
    groups: Iterable[tuple], formats: FormatLookup | None = None
) -> tuple[ResourceUsageRow, ...]:
    """ResourceUsageRows from the resource_usage query's rows, sorted. A group whose ARNs leave some action
    of its event without a resource of a type it takes also gives a row with resource UNNAMED."""
    from ctlint.events import names_every_action  # events maps rows; it imports this package lazily

    lookup = formats if formats is not None else default_formats()
    width = 5 + len(PARAMETERS) + MAX_PER_RECORD + 3
    found: dict[tuple[str, str, str, str, str], list] = {}
    with cyclic_gc_paused():
        for row in groups:
            if len(row) != width:
                raise EngineError(f"the resource_usage query returned {len(row)} columns instead of {width}.")
            account, principal, source, name, region = (None if v is None else str(v) for v in row[:5])
            if principal is None or source is None or name is None:
                continue
            params = {}
            for parameter, text in zip(PARAMETERS, row[5 : 5 + len(PARAMETERS)], strict=True):
                value = _decoded(text)
                if value is not _NOTHING and value is not None:
                    params[parameter] = value
            arns = [None if v is None else str(v) for v in row[5 + len(PARAMETERS) : -3]]
            calls = int(row[-3]) if row[-3] is not None else 0
            first, last = parse_time(row[-2]), parse_time(row[-1])
            context = context_for(principal, region, account)
            named = list(
                record_arns(source, [a for a in arns if a is not None], params, context, lookup, name)
            )
            if not names_every_action(source, name, named):
                named.append(UNNAMED)
            for arn in named:
                key = (account or "", principal, source, name, arn)
                use = found.get(key)
                if use is None:
                    found[key] = [calls, first, last]
                else:
                    use[0] += calls
                    use[1] = _earlier(use[1], first)
                    use[2] = _later(use[2], last)
    return tuple(
        ResourceUsageRow(account, principal, source, name, arn, count, first, last)
        for (account, principal, source, name, arn), (count, first, last) in sorted(found.items())
    )


def _earlier(a: datetime, b: datetime) -> datetime:
    return b if b < a else a


def _later(a: datetime, b: datetime) -> datetime:
    return b if b > a else a
