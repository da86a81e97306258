"""One trail scan per check: the window's compact rows in a table of their own, read by every query.

The five usage queries (ctlint.usage.sql) read the trail six times (session_usage reads it twice), and
Athena bills each read of the JSON by the bytes of whole partitions. Instead one CTAS reads the trail
once, for the window plus the role-assumption lookback, keeping only the columns the queries read
(and the request/response JSON of role assumptions alone) in Parquet; the same five query texts then
run on that table, billed by its few megabytes. The table is dropped and its objects deleted when the
check ends, whatever happened.

The table has the trail table's column names and types for every column the queries read, so the
queries are the very texts the local engine runs (no second dialect of them to keep equal).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ctlint.model import Window
from ctlint.usage import athena_ddl as ddl
from ctlint.usage.sql import ASSUME_EVENTS, ASSUME_LOOKBACK, Query, iso, validate_table, window_filter

if TYPE_CHECKING:
    from ctlint.usage.athena import AthenaEngine

STS = "sts.amazonaws.com"
NAME_PREFIX = "ctlint_scan_"


@dataclass(frozen=True)
class CompactScan:
    """The CTAS of one check: the table it makes, where its objects go, and its statement."""

    table: str  # bare name in the engine's database
    location: str | None  # s3://.../ of its objects; None: Athena chooses (the workgroup's location)
    select: Query  # the SELECT over the trail, `?` parameters in WHERE only
    statement: str  # CREATE TABLE ... AS <select>


def scan_table_name() -> str:
    """A fresh table name per check, so concurrent checks never share (or drop) each other's table."""
    return NAME_PREFIX + secrets.token_hex(8)


def compact_select(
    trail: str, window: Window, accounts: tuple[str, ...] | None, *, resources: bool = False
) -> Query:
    """The rows of `window` (and the role assumptions of the lookback before it) the usage queries read.

    Duplicate deliveries are dropped here, by the usage SQL's own rule (one row per eventid, eventtime,
    eventsource and eventname; rows without an eventid all stay), and the eventID and requestID are
    kept only for role assumptions, which count distinct coalesce(requestid, eventid). The queries'
    dedupe then keeps every row (their eventid is NULL or already unique), and the table holds no
    high-entropy column the other queries would pay to read.

    `resources=True` (suggest, fix; never check) also keeps `awsregion`, `resources` and every
    record's `requestparameters`, which the resource query (ctlint.usage.sql.resource_query) reads;
    the usage queries read Parquet columns, so they do not pay for them.
    """
    validate_table(trail)
    where, params = window_filter(window.start - ASSUME_LOOKBACK, window.end, accounts)
    names = ", ".join(f"'{name}'" for name in ASSUME_EVENTS)  # our constants, not input
    assume = f"eventsource = '{STS}' AND eventname IN ({names})"
    more = "awsregion, resources, " if resources else ""
    request = "requestparameters" if resources else f"CASE WHEN {assume} THEN requestparameters END"
    text = f"""WITH raw AS (
  SELECT eventid, eventtime, eventsource, eventname, errorcode, recipientaccountid, useridentity,
    {more}requestparameters, responseelements, requestid, account, "timestamp",
    row_number() OVER (PARTITION BY eventid, eventtime, eventsource, eventname ORDER BY eventid) AS copy_no
  FROM {trail}
  WHERE {where}
    AND (eventtime >= ? OR ({assume}))
)
SELECT CASE WHEN {assume} THEN eventid END AS eventid, eventtime, eventsource, eventname, errorcode,
  recipientaccountid, useridentity, {more}
  {request} AS requestparameters,
  CASE WHEN {assume} THEN responseelements END AS responseelements,
  CASE WHEN {assume} THEN requestid END AS requestid,
  account, "timestamp"
FROM raw
WHERE eventid IS NULL OR copy_no = 1"""
    return Query("compact_scan", text, (*params, iso(window.start)))


def compact_scan(
    database: str,
    trail: str,
    window: Window,
    accounts: tuple[str, ...] | None,
    *,
    output_location: str | None,
    table: str | None = None,
    resources: bool = False,
) -> CompactScan:
    """The CTAS writing the compact rows as Parquet, under output_location when the config names one."""
    name = ddl.check_identifier(table or scan_table_name(), key="scan table")
    ddl.check_identifier(database, key="athena.database")
    select = compact_select(trail, window, accounts, resources=resources)
    location = f"{output_location}ctlint-scan/{name}/" if output_location else None
    properties = ["format = 'PARQUET'", "write_compression = 'SNAPPY'"]
    if location is not None:
        properties.append(f"external_location = '{location}'")  # normalised s3:// URL of the config
    joined = ", ".join(properties)
    # CTAS is a Trino statement: identifiers in double quotes (the Hive DDL's backticks would not parse).
    statement = f'CREATE TABLE "{database}"."{name}"\nWITH ({joined})\nAS {select.text}'
    return CompactScan(name, location, select, statement)


def _table_location(engine: AthenaEngine, scan: CompactScan) -> str | None:
    if scan.location is not None:
        return scan.location
    try:
        table = engine.client("glue").get_table(DatabaseName=engine.settings.database, Name=scan.table)
    except Exception:  # not created (the CTAS failed) or not readable: nothing known to delete
        return None
    location = table["Table"].get("StorageDescriptor", {}).get("Location")
    return f"{location.rstrip('/')}/" if location else None


def drop_scan(engine: AthenaEngine, scan: CompactScan) -> None:
    """Drop the scan table and delete its objects; what cannot be removed is said on stderr, by name."""
    location = _table_location(engine, scan)
    database = engine.settings.database
    try:
        engine.run_query("drop-compact-scan", ddl.drop_table_sql(database, scan.table))
    except Exception as error:  # the check's answer is complete; a leftover table is not a wrong one
        engine.say(f"could not drop the scan table {database}.{scan.table} ({error}); drop it by hand.")
    if location is None or not location.startswith("s3://"):
        return
    bucket, _, prefix = location[len("s3://") :].partition("/")
    if not prefix.rstrip("/").split("/")[-1].startswith(NAME_PREFIX):
        return  # never delete under a prefix that is not a scan table's own
    s3: Any = engine.client("s3")
    try:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = s3.list_objects_v2(**kwargs)
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
                if answer.get("Errors"):
                    raise RuntimeError(answer["Errors"][0].get("Message") or answer["Errors"][0].get("Code"))
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return
    except Exception as error:
        engine.say(
            f"could not delete the scan table's objects under {location} ({error}); delete them by hand."
        )
