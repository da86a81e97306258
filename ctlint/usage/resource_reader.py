"""Reading one CloudTrail file's resource evidence for the local engine (worker processes).

Only `collect(..., resources=True)` reads this (suggest, fix): `check` never pays for it, and the
per-file cache of the usage rows is untouched. A record becomes a row of RESOURCE_COLUMNS when it holds
evidence: a `resources[]` entry or one of the requestParameters keys of
ctlint.usage.resource_arns.PARAMETERS. Those keys are kept (and nothing else of the request) as JSON
text in `requestparameters`, so the shared resource query's `json_extract` reads the same values it
reads from Athena's full column; the first MAX_PER_RECORD `resources[]` ARNs are kept as a list, as
Athena's `resources` array holds them (keys matched case-insensitively, like the JsonSerDe).

*aggregate* mode collapses records that agree on every column but eventID and time into one row with
`ct_weight` and its first and last eventtime (per UTC day), as ctlint.usage.reader does; *raw* mode keeps
one row per record with its eventID, for files the engine must let the SQL dedupe or split at a bound.
Files that are unreadable here were judged by the usage read already: they yield no rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import pyarrow as pa

from ctlint.usage import reader
from ctlint.usage.reader import _text
from ctlint.usage.resource_arns import MAX_ARN, MAX_PER_RECORD, PARAMETERS

RESOURCE_COLUMNS = (
    "account",
    "eventtime",
    "ct_eventtime_last",
    "ct_weight",
    "eventsource",
    "eventname",
    "errorcode",
    "ui_type",
    "ui_arn",
    "issuer_arn",
    "eventid",
    "awsregion",
    "requestparameters",
    "resources",
)
_ARNS = pa.list_(pa.struct([pa.field("arn", pa.string())]))
SCHEMA = pa.schema(
    [pa.field("file_id", pa.int32())]
    + [
        pa.field(name, pa.int64() if name == "ct_weight" else _ARNS if name == "resources" else pa.string())
        for name in RESOURCE_COLUMNS
    ]
)


@dataclass(frozen=True)
class Counted:
    records: int  # what the engine's progress line counts


@dataclass(frozen=True)
class ResourceBatch:
    file_ids: tuple[int, ...]
    results: list[Counted]
    rows: pa.Table  # SCHEMA


def _resource_arns(value: object) -> tuple[str | None, ...]:
    if type(value) is not list:
        return ()
    out: list[str | None] = []
    for entry in value[:MAX_PER_RECORD]:
        if type(entry) is dict:
            lowered = {str(k).lower(): v for k, v in entry.items()}
            out.append(_text(lowered.get("arn")))
        else:
            out.append(None)
    return tuple(out)


def _parameters(value: object) -> str | None:
    """The parameters the table reads, as JSON text. A string longer than any value a handler accepts
    (MAX_ARN) becomes `false`, which every handler refuses alike: an attacker's megabyte-long name
    costs neither the table nor the group key."""
    if type(value) is not dict:
        return None
    kept = {
        key: False if type(value[key]) is str and len(value[key]) > MAX_ARN else value[key]
        for key in PARAMETERS
        if key in value
    }
    return orjson.dumps(kept).decode() if kept else None


def file_rows(path: str, mode: str) -> tuple[list[tuple], int]:
    """The resource rows of one file (RESOURCE_COLUMNS order) and its record count."""
    try:
        records, _ = reader._parse(reader._read_bytes(path))
    except (reader._Unreadable, reader._NotEvents):
        return [], 0
    raw = mode == "raw"
    rows: list[tuple] = []
    groups: dict[tuple, list] = {}
    for record in records:
        if type(record) is not dict:
            continue
        if record.get("eventCategory") == "Insight" or record.get("eventType") == "AwsCloudTrailInsight":
            continue
        request = _parameters(record.get("requestParameters"))
        arns = _resource_arns(record.get("resources"))
        source, name = _text(record.get("eventSource")), _text(record.get("eventName"))
        # A record without evidence is kept too: it is a call that named no resource, which stops its
        # actions from being narrowed to the resources other calls named (resource_rows marks it).
        moment = reader.normalise_time(record.get("eventTime"))
        if moment is None or not source or not name:
            continue  # counted as unreadable by the usage read
        ui = record.get("userIdentity")
        ui = ui if type(ui) is dict else {}
        context = ui.get("sessionContext")
        issuer = context.get("sessionIssuer") if type(context) is dict else None
        issuer_arn = _text(issuer.get("arn")) if type(issuer) is dict else None
        account = _text(record.get("recipientAccountId"))
        if account is None:
            account = _text(ui.get("accountId"))
        error = _text(record.get("errorCode")) or None
        region = _text(record.get("awsRegion"))
        identity = (_text(ui.get("type")), _text(ui.get("arn")), issuer_arn)
        if raw:
            event_id = _text(record.get("eventID"))
            rows.append(
                (account, moment, moment, 1, source, name, error, *identity, event_id, region, request, arns)
            )
            continue
        key = (account, moment[:10], source, name, error, *identity, region, request, arns)
        group = groups.get(key)
        if group is None:
            groups[key] = [1, moment, moment]
        else:
            group[0] += 1
            if moment < group[1]:
                group[1] = moment
            elif moment > group[2]:
                group[2] = moment
    for key, (count, first, last) in groups.items():
        rows.append((key[0], first, last, count, *key[2:8], None, *key[8:]))
    return rows, len(records)


def read_resource_batch(batch: Sequence[tuple[int, tuple[str, int, int, str]]]) -> ResourceBatch:
    """Read files (file_id, (path, size, mtime_ns, mode)) into one Arrow table of SCHEMA."""
    owners: list[int] = []
    rows: list[tuple] = []
    results: list[Counted] = []
    for file_id, (path, _size, _mtime, mode) in batch:
        found, records = file_rows(path, mode)
        owners.extend([file_id] * len(found))
        rows.extend(found)
        results.append(Counted(records))
    columns: list = list(zip(*rows, strict=True)) if rows else [()] * len(RESOURCE_COLUMNS)
    arrays = [pa.array(owners, type=pa.int32())]
    for field_, values in zip(list(SCHEMA)[1:], columns, strict=True):
        if field_.name == "resources":
            values = [[{"arn": arn} for arn in arns] for arns in values]
        arrays.append(pa.array(values, type=field_.type))
    return ResourceBatch(
        tuple(file_id for file_id, _ in batch), results, pa.Table.from_arrays(arrays, schema=SCHEMA)
    )
