"""The daily aggregate table of the Athena engine: its SQL, its day markers and the window plan. Pure.

One Parquet table, partitioned by `day` ('yyyy-MM-dd', projected), holds for every aggregated UTC day
the result rows of the five usage queries of ctlint.usage.sql run over that day, one row per result
row, told apart by the `query` column. Every query's result is mergeable across disjoint pieces of
time (sums of counts, min of first_seen, max of last_seen), so a check reads the run of aggregated
days with one GROUP BY over the table and the rest of its window from the trail, and merges
(ctlint.usage.merge).

Role assumptions: a window's assume_role count includes the 12 h before it (ASSUME_LOOKBACK). A day
therefore stores its assume_role rows counted from midnight only, and additionally those of its last
12 h (`assume_role_tail`): a window that starts at midnight of day D takes its lookback from the tail
of day D-1. session_usage keeps its own lookback per day, so sessions crossing midnight are whole.

A day counts as aggregated only with a valid marker object, written after the day's data and kept
outside the day prefixes (Athena reads every object under a partition's location):
`<aggregate location>_ctlint/days/YYYY-MM-DD.json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from ctlint.errors import EngineError
from ctlint.model import Window
from ctlint.usage import sql

SCHEMA_VERSION = 2  # of the table's columns and of what a day's rows mean; bump to invalidate markers
# 2: identity_usage rows (issue 17); days marked with 1 lack them and are read from the trail again.
TAIL = "assume_role_tail"
MARKER_DIR = "_ctlint/days/"
ONE_DAY = timedelta(days=1)

# (column, Athena DDL type, SQL type for CAST); `day` is the partition column.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("query", "string", "varchar"),
    ("account_id", "string", "varchar"),  # recipientaccountid
    ("principal_arn", "string", "varchar"),
    ("principal_type", "string", "varchar"),
    ("source_arn", "string", "varchar"),
    ("role_arn", "string", "varchar"),
    ("event_source", "string", "varchar"),
    ("event_name", "string", "varchar"),
    ("access_key_id", "string", "varchar"),
    ("calls", "bigint", "bigint"),  # calls; events for events_per_account; records read for event_stats
    ("counted", "bigint", "bigint"),  # event_stats only
    ("errors", "bigint", "bigint"),  # event_stats only
    ("first_seen", "string", "varchar"),
    ("last_seen", "string", "varchar"),
)
KEY_COLUMNS = tuple(name for name, _, _ in COLUMNS[1:9])

# Which output column of each usage query fills which aggregate column.
_MAPPING: Mapping[str, Mapping[str, str]] = {
    "principal_usage": {
        "account_id": "recipientaccountid",
        "principal_arn": "principal_arn",
        "principal_type": "principal_type",
        "event_source": "eventsource",
        "event_name": "eventname",
        "calls": "calls",
        "first_seen": "first_seen",
        "last_seen": "last_seen",
    },
    "assume_role": {
        "source_arn": "source_arn",
        "role_arn": "role_arn",
        "event_name": "eventname",
        "access_key_id": "access_key_id",
        "calls": "calls",
        "first_seen": "first_seen",
        "last_seen": "last_seen",
    },
    "session_usage": {
        "source_arn": "source_arn",
        "role_arn": "role_arn",
        "account_id": "recipientaccountid",
        "event_source": "eventsource",
        "event_name": "eventname",
        "calls": "calls",
        "first_seen": "first_seen",
        "last_seen": "last_seen",
    },
    "events_per_account": {"account_id": "recipientaccountid", "calls": "events"},
    "event_stats": {"calls": '"read"', "counted": "counted", "errors": "errors"},
    # Who behind a role: the session identity is stored in source_arn (the source of those calls).
    "identity_usage": {
        "account_id": "recipientaccountid",
        "role_arn": "principal_arn",
        "source_arn": "session_identity",
        "event_source": "eventsource",
        "event_name": "eventname",
        "calls": "calls",
        "first_seen": "first_seen",
        "last_seen": "last_seen",
    },
}
# The columns of each usage query's own result, in its order, as aggregate columns (for reading back).
_RESULT_SHAPE: Mapping[str, tuple[str, ...]] = {
    "principal_usage": (
        "account_id",
        "principal_arn",
        "principal_type",
        "event_source",
        "event_name",
        "calls",
        "first_seen",
        "last_seen",
    ),
    "assume_role": (
        "source_arn",
        "role_arn",
        "event_name",
        "access_key_id",
        "calls",
        "first_seen",
        "last_seen",
    ),
    "session_usage": (
        "source_arn",
        "role_arn",
        "account_id",
        "event_source",
        "event_name",
        "calls",
        "first_seen",
        "last_seen",
    ),
    "events_per_account": ("account_id", "calls"),
    "event_stats": ("calls", "counted", "errors"),
    "identity_usage": (
        "account_id",
        "role_arn",
        "source_arn",
        "event_source",
        "event_name",
        "calls",
        "first_seen",
        "last_seen",
    ),
}

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def day_text(day: date) -> str:
    return day.strftime("%Y-%m-%d")


def parse_day(text: str, *, what: str) -> date:
    """A YYYY-MM-DD date from the command line; EngineError-free, one sentence on failure."""
    from ctlint.errors import InputError

    if not isinstance(text, str) or not _DAY_RE.match(text.strip()):
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD).")
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date (YYYY-MM-DD).") from None


# ---------------------------------------------------------------- writing one day


@dataclass(frozen=True)
class DayStatement:
    """The SELECT whose rows are one day of the aggregate, and the UNLOAD that writes them."""

    day: date
    select: str  # Athena dialect, `?` placeholders
    params: tuple[str, ...]
    location: str  # s3://<aggregate location>day=YYYY-MM-DD/

    @property
    def unload(self) -> str:
        # The location was validated (bucket and prefix patterns) and the day is ours: no quote can occur.
        return (
            f"UNLOAD (\n{self.select}\n)\nTO '{self.location}'\n"
            "WITH (format = 'PARQUET', compression = 'SNAPPY')"
        )


def _wrap(label: str, name: str, text: str) -> str:
    mapping = _MAPPING[name]
    columns = []
    for column, _ddl_type, sql_type in COLUMNS:
        if column == "query":
            columns.append(f"'{label}' AS query")  # a constant of ours
        elif column in mapping:
            columns.append(f"CAST(q.{mapping[column]} AS {sql_type}) AS {column}")
        else:
            columns.append(f"CAST(NULL AS {sql_type}) AS {column}")
    return "SELECT " + ",\n  ".join(columns) + f"\nFROM (\n{text}\n) AS q"


def day_location(aggregate_location: str, day: date) -> str:
    return f"{aggregate_location}day={day_text(day)}/"


def day_statement(table: str, aggregate_location: str, day: date, accounts: Sequence[str]) -> DayStatement:
    """The usage queries over [day, day+1) (assumptions counted from midnight), plus the day's last 12 h
    of assumptions, as one UNION ALL in the aggregate table's columns."""
    window = Window(midnight(day), midnight(day + ONE_DAY))
    parts: list[str] = []
    params: tuple[str, ...] = ()
    for query in sql.usage_queries(table, window, accounts, assume_lookback=False):
        parts.append(_wrap(query.name, query.name, query.text))
        params += query.params
    tail_window = Window(window.end - sql.ASSUME_LOOKBACK, window.end)
    tail = next(
        q
        for q in sql.usage_queries(table, tail_window, accounts, assume_lookback=False)
        if q.name == "assume_role"
    )
    parts.append(_wrap(TAIL, "assume_role", tail.text))
    params += tail.params
    return DayStatement(day, "\nUNION ALL\n".join(parts), params, day_location(aggregate_location, day))


def verify_sql(aggregate_table: str) -> str:
    """Read one day back through the table (proves the projection finds the files); `?` = the day."""
    sql.validate_table(aggregate_table)
    return f'SELECT query, count(*) AS n FROM {aggregate_table} WHERE "day" = ? GROUP BY query ORDER BY query'


# ---------------------------------------------------------------- reading a run of days


@dataclass(frozen=True)
class RangeQuery:
    text: str
    params: tuple[str, ...]  # raw values (days); the engine quotes them for Athena
    days: int  # days in the run, which the event_stats group must count


def range_query(aggregate_table: str, first: date, last: date, tail_day: date | None) -> RangeQuery:
    """One query merging days first..last server-side (per key: sum, min, max), filtered on `day`.

    With `tail_day` (the day before `first`), that day's assume_role_tail rows come along, labelled
    as such, for a window starting at midnight of `first`.
    """
    sql.validate_table(aggregate_table)
    keys = ", ".join(KEY_COLUMNS)
    if tail_day is None:
        where = '"day" >= ? AND "day" <= ? AND query <> \'assume_role_tail\''
        params: tuple[str, ...] = (day_text(first), day_text(last))
    else:
        where = (
            '"day" >= ? AND "day" <= ?\n  AND (("day" >= ? AND query <> \'assume_role_tail\')'
            " OR (\"day\" = ? AND query = 'assume_role_tail'))"
        )
        params = (day_text(tail_day), day_text(last), day_text(first), day_text(tail_day))
    text = f"""SELECT query, {keys},
  sum(calls) AS calls, sum(counted) AS counted, sum(errors) AS errors,
  min(first_seen) AS first_seen, max(last_seen) AS last_seen, count(*) AS day_rows
FROM {aggregate_table}
WHERE {where}
GROUP BY query, {keys}"""
    return RangeQuery(text, params, (last - first).days + 1)


RANGE_COLUMNS = ("query", *KEY_COLUMNS, "calls", "counted", "errors", "first_seen", "last_seen", "day_rows")


def split_range_rows(
    rows: Iterable[Sequence[object]], days: int
) -> tuple[dict[str, list[tuple]], list[tuple]]:
    """The range query's rows as each usage query's own result rows (for sql.rows_to_raw_usage), and
    the tail's rows in assume_role's shape. Raises when the event_stats rows do not cover every day:
    a day whose data went missing must never read as a day without events."""
    results: dict[str, list[tuple]] = {name: [] for name in sql.QUERY_NAMES}
    tail: list[tuple] = []
    stats_days = 0
    for row in rows:
        record: dict[str, Any] = dict(zip(RANGE_COLUMNS, row, strict=True))  # an engine's values
        name = str(record["query"])
        shape_name = "assume_role" if name == TAIL else name
        if shape_name not in _RESULT_SHAPE:
            raise EngineError(f"the aggregate table holds rows of an unknown query {name!r}.")
        values = tuple(record[column] for column in _RESULT_SHAPE[shape_name])
        (tail if name == TAIL else results[name]).append(values)
        if name == "event_stats":
            stats_days += int(record["day_rows"] or 0)
    if stats_days != days:
        raise EngineError(
            f"the aggregate table holds {stats_days} of {days} marked days; rewrite them with "
            "`ctlint athena aggregate --force --since ... --until ...`."
        )
    return results, tail


# ---------------------------------------------------------------- markers


@dataclass(frozen=True)
class Marker:
    day: date
    accounts: tuple[str, ...]
    trail: str  # the trail location the day was read from
    rows: Mapping[str, int]
    written_at: str
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "schema_version": self.schema_version,
                    "day": day_text(self.day),
                    "accounts": sorted(self.accounts),
                    "trail": self.trail,
                    "rows": dict(sorted(self.rows.items())),
                    "written_at": self.written_at,
                },
                indent=1,
            )
            + "\n"
        )


def marker_key(prefix: str, day: date) -> str:
    """The marker's key in the aggregate bucket (`prefix` is the location's key prefix, '' or 'a/b/')."""
    return f"{prefix}{MARKER_DIR}{day_text(day)}.json"


def check_marker(body: bytes, day: date, accounts: Collection[str], trail: str) -> str | None:
    """None when the marker makes `day` usable for `accounts`, else why not (a phrase)."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "have unreadable markers"
    if not isinstance(data, dict):
        return "have unreadable markers"
    if data.get("schema_version") != SCHEMA_VERSION:
        return f"were aggregated with another schema version (not {SCHEMA_VERSION})"
    if data.get("day") != day_text(day):
        return "have markers naming another day"
    marked = data.get("accounts")
    if not isinstance(marked, list) or sorted(map(str, marked)) != sorted(set(accounts)):
        return "were aggregated for another set of accounts"
    if data.get("trail") != trail:
        return "were aggregated from another trail location"
    rows = data.get("rows")
    if not isinstance(rows, dict) or rows.get("event_stats") != 1:
        return "have markers without the day's row counts"
    return None


# ---------------------------------------------------------------- the window plan


@dataclass(frozen=True)
class Piece:
    """One part of a window. raw: the usage queries over [start, end) on the trail (`lookback`: count
    the assumptions of the 12 h before start, first piece only). aggregate: the days [start, end) from
    the aggregate table (`tail_day`: with that day's assume_role_tail). lookback: only the assumptions
    of [start, end), from the trail."""

    kind: str  # "raw" | "aggregate" | "lookback"
    start: datetime
    end: datetime
    lookback: bool = False
    tail_day: date | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start) // ONE_DAY


def full_days(window: Window) -> list[date]:
    """The UTC days lying wholly inside the window."""
    first = window.start.astimezone(timezone.utc)
    first_day = first.date() if first == midnight(first.date()) else first.date() + ONE_DAY
    last_day = window.end.astimezone(timezone.utc).date()  # exclusive
    return [first_day + ONE_DAY * i for i in range(max(0, (last_day - first_day).days))]


def lookback_day(window: Window) -> date | None:
    """The day whose assume_role_tail a window needs when it starts at midnight and that day is aggregated."""
    start = window.start.astimezone(timezone.utc)
    return start.date() - ONE_DAY if start == midnight(start.date()) else None


def plan(window: Window, aggregated: Collection[date]) -> tuple[Piece, ...]:
    """Split the window: runs of aggregated full days from the table, everything else from the trail
    in as few contiguous raw pieces as possible. No aggregated day: one raw piece, as without the table."""
    spans: list[tuple[str, datetime, datetime]] = []
    for day in full_days(window):
        kind = "aggregate" if day in aggregated else "raw"
        start, end = midnight(day), midnight(day + ONE_DAY)
        if spans and spans[-1][0] == kind and spans[-1][2] == start:
            spans[-1] = (kind, spans[-1][1], end)
        else:
            spans.append((kind, start, end))
    if not any(kind == "aggregate" for kind, _, _ in spans):
        return (Piece("raw", window.start, window.end, lookback=True),)
    # The partial days at both ends join their raw neighbours.
    if window.start < spans[0][1]:
        if spans[0][0] == "raw":
            spans[0] = ("raw", window.start, spans[0][2])
        else:
            spans.insert(0, ("raw", window.start, spans[0][1]))
    if spans[-1][2] < window.end:
        if spans[-1][0] == "raw":
            spans[-1] = ("raw", spans[-1][1], window.end)
        else:
            spans.append(("raw", spans[-1][2], window.end))
    pieces: list[Piece] = []
    for index, (kind, start, end) in enumerate(spans):
        if kind == "raw":
            pieces.append(Piece("raw", start, end, lookback=index == 0))
        elif index == 0:
            before = start.date() - ONE_DAY
            if before in aggregated:
                pieces.append(Piece("aggregate", start, end, tail_day=before))
            else:
                pieces.append(Piece("lookback", start - sql.ASSUME_LOOKBACK, start))
                pieces.append(Piece("aggregate", start, end))
        else:
            pieces.append(Piece("aggregate", start, end))
    return tuple(pieces)


def group_days(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) runs, for short messages."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def count_days(count: int) -> str:
    return f"{count} day" + ("" if count == 1 else "s")


def describe_days(days: Iterable[date]) -> str:
    runs = group_days(days)
    text = ", ".join(day_text(a) if a == b else f"{day_text(a)}..{day_text(b)}" for a, b in runs[:3])
    return text + (f" and {len(runs) - 3} more runs" if len(runs) > 3 else "")
