"""Reading one CloudTrail file into the few values the usage SQL reads (runs in worker processes).

A file becomes rows of one flat shape (`ROW_COLUMNS`). In *aggregate* mode, records that agree on every
column the SQL reads except the event's identity and exact time are collapsed into one row carrying
their number (`ct_weight`) and their first and last eventtime; the day is part of the key, so a row never
spans midnight. STS AssumeRole* records are always kept one row each (the role-assumption query needs
their ids and request/response values). In *raw* mode every record is its own row with its eventID.
Collapsing equal rows is a multiset compression, not an interpretation: who the principal is, what
counts as an error, the window, sessions and duplicates stay in the one SQL text (see
`ctlint.usage.weighted`).

Also per file: how many records were unreadable (no eventSource/eventName/readable eventTime) and the
first such problem, and the 64-bit identity keys of the records' eventIDs, with which the engine finds
files that share events (duplicate deliveries) and reads those files raw so the SQL dedupes them.

Values are normalised exactly as the previous DuckDB loader did: eventTime in CloudTrail's form
(`2026-06-01T12:00:00Z`, ISO variants with a space, fractions or an offset are converted to UTC; no zone
means UTC), account = recipientAccountId else userIdentity.accountId, an empty errorCode is none, and
request/response values are reduced to roleArn/principalArn and provider/credentials.accessKeyId for
AssumeRole* records only (no session token is ever held).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, timezone
from typing import Literal

import msgspec
import numpy as np
import orjson

try:  # ISA-L's inflater is 2-3x faster than zlib; gzip is the fallback
    from isal import igzip as _gzip
except ImportError:  # pragma: no cover
    import gzip as _gzip  # type: ignore[no-redef]  # the fallback: same decompress() as igzip

from ctlint.isotime import fromisoformat
from ctlint.usage import filekind
from ctlint.usage.sql import ASSUME_EVENTS

ROW_COLUMNS = (
    "account",
    "eventtime",
    "ct_eventtime_last",
    "ct_weight",
    "eventsource",
    "eventname",
    "errorcode",
    "ui_type",
    "ui_principalid",
    "ui_arn",
    "ui_invokedby",
    "ui_accesskeyid",
    "issuer_arn",
    "requestparameters",
    "responseelements",
    "eventid",
    "requestid",
    "source_identity",  # userIdentity.sessionContext.sourceIdentity: who is behind a shared role
)
_ASSUME = frozenset(ASSUME_EVENTS)
_STS = "sts.amazonaws.com"
_FAST_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\dZ\Z").match
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$")
_WRAPPED = re.compile(rb'^\s*\{\s*"Records"\s*:')
_EMPTY: dict = {}
_NULL = msgspec.Raw(b"null")
# eventTime -> normalised form, or False when unreadable (per process)
_TIMES: dict[str | None, str | Literal[False]] = {}


@dataclass
class FileResult:
    path: str
    size: int
    mtime_ns: int
    mode: str  # "aggregate" | "raw"
    error: str | None = None  # the whole file is unreadable: text after "CloudTrail file <path> "
    bad: int = 0  # unreadable records
    problem: str | None = None  # the first of them: text after "CloudTrail file <path>: "
    records: int = 0  # readable records
    rows: list = field(default_factory=list)  # tuples in ROW_COLUMNS order
    ids: bytes = b""  # array('Q') of identity keys of records with an eventID
    time_min: str | None = None
    time_max: str | None = None
    kind: str = filekind.EVENTS  # or a neighbour holding no events (filekind.DIGEST, filekind.INSIGHT)


class _Unreadable(Exception):
    pass


class _NotEvents(Exception):
    """The file is a digest or Insights file: no events to read, and nothing wrong with it."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


_GZIP_MAGIC = b"\x1f\x8b"


def _text(value):
    """A JSON value as DuckDB's VARCHAR column would hold it."""
    if value is None or type(value) is str:
        return value
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return orjson.dumps(value).decode()
    return str(value)


_UUID_HEAD = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-").match


def identity_key(event_id) -> int:
    """64 bits of an eventID (a UUID's first 16 hex digits, else a hash). Equal ids give equal keys."""
    if type(event_id) is str and len(event_id) == 36 and event_id.isascii() and _UUID_HEAD(event_id):
        return int(event_id[:8] + event_id[9:13] + event_id[14:18], 16)
    return int.from_bytes(
        hashlib.blake2b(str(event_id).encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
    )


_DAYS: dict[str, bool] = {}


def _valid_day(text: str) -> bool:
    ok = _DAYS.get(text)
    if ok is None:
        try:
            date.fromisoformat(text)
            ok = True
        except ValueError:
            ok = False
        _DAYS[text] = ok
    return ok


def normalise_time(value) -> str | None:
    """eventTime in CloudTrail's form, or None when unreadable."""
    if type(value) is str and _FAST_TIME(value) and _valid_day(value[:10]):
        return value
    text = _text(value)
    if text is None or not _TIME.match(text):
        return None
    iso = text[:-1] + "+00:00" if text.endswith("Z") else text
    if len(iso) > 5 and iso[-5] in "+-" and iso[-3] != ":" and iso[-4:].isdigit():
        iso = iso[:-2] + ":" + iso[-2:]
    try:
        moment = fromisoformat(iso)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if path.endswith(".gz") or data.startswith(_GZIP_MAGIC):  # a .json that is gzip all the same
            data = _gzip.decompress(data)
    except Exception as error:  # OSError, EOFError, zlib/isal errors
        raise _Unreadable(f"cannot be read: {error}.") from error
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise _Unreadable("is empty.")
    other = filekind.describe_bytes(data[:8])
    if other is not None:
        raise _Unreadable(f"is not a CloudTrail log file: it is {other}.")
    return data


def _not_json(data: bytes, error: Exception) -> _Unreadable:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return _Unreadable("is not a CloudTrail log file: it is binary data, not UTF-8 JSON text.")
    return _Unreadable(f"is not readable CloudTrail JSON: {error}")


def _lookup_events(events: object) -> list:
    """The records inside `aws cloudtrail lookup-events` output: each item's CloudTrailEvent is JSON text."""
    if type(events) is not list:
        raise _Unreadable("is not readable lookup-events output: Events is not a list")
    records = []
    for number, item in enumerate(events, 1):
        text = item.get("CloudTrailEvent") if type(item) is dict else None
        if type(text) is not str:
            raise _Unreadable(
                f"is not readable lookup-events output: event {number} has no CloudTrailEvent text"
            )
        try:
            records.append(orjson.loads(text))
        except orjson.JSONDecodeError as error:
            raise _Unreadable(
                f"is not readable lookup-events output: the CloudTrailEvent of event {number} is not JSON: {error}"
            ) from error
    return records


def _not_cloudtrail(obj: object) -> _Unreadable:
    return _Unreadable(
        f"is not a CloudTrail log file: it is {filekind.describe_json(obj)}; {filekind.EXPECTED}"
    )


def _parse(data: bytes) -> tuple[list, bool]:
    """The records of a file as dicts and whether it was `{"Records": [...]}`. Raises _Unreadable."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        if _WRAPPED.match(data[:64]):
            raise _not_json(data, error) from error
        try:  # NDJSON
            obj = [orjson.loads(line) for line in data.splitlines() if line.strip()]
        except orjson.JSONDecodeError as error2:
            raise _not_json(data, error2) from error2
        if obj and not any(filekind.looks_like_event(record) for record in obj):
            raise _not_cloudtrail(obj) from None
        return obj, False
    if type(obj) is dict and "Records" in obj:
        records = obj["Records"]
        if records is None:
            return [], True
        if type(records) is not list:
            raise _Unreadable("is not readable CloudTrail JSON: Records is not a list")
        return records, True
    if type(obj) is dict and "Events" in obj:
        return _lookup_events(obj["Events"]), False
    if filekind.is_digest(obj):
        raise _NotEvents(filekind.DIGEST)
    if type(obj) is dict:
        if not filekind.looks_like_event(obj):
            raise _not_cloudtrail(obj)
        return [obj], False
    if type(obj) is list:
        if obj and not any(filekind.looks_like_event(record) for record in obj):
            raise _not_cloudtrail(obj)
        return obj, False
    raise _Unreadable(
        'is not readable CloudTrail JSON: neither a record, a list of records nor {"Records": [...]}'
    )


class Issuer(msgspec.Struct, gc=False):
    arn: str | None = None


class Context(msgspec.Struct, gc=False):
    sessionIssuer: Issuer | None = None
    sourceIdentity: str | None = None


class Identity(msgspec.Struct, gc=False):
    type: str | None = None
    principalId: str | None = None
    arn: str | None = None
    accountId: str | None = None
    invokedBy: str | None = None
    accessKeyId: str | None = None
    sessionContext: Context | None = None


class Record(msgspec.Struct, gc=False):
    """The fields of a CloudTrail record the usage SQL reads; every other field is skipped unparsed."""

    eventTime: str | None = None
    eventSource: str | None = None
    eventName: str | None = None
    errorCode: str | None = None
    eventID: str | None = None
    requestID: str | None = None
    recipientAccountId: str | None = None
    userIdentity: Identity | None = None
    requestParameters: msgspec.Raw = _NULL
    responseElements: msgspec.Raw = _NULL
    eventType: str | None = None
    eventCategory: str | None = None


class Wrapped(msgspec.Struct, gc=False):
    Records: list[Record] | None = None


_DECODE_WRAPPED = msgspec.json.Decoder(Wrapped).decode
_NO_IDENTITY = Identity()


def _from_dict(record: dict) -> Record:
    """A record of unusual shape (numbers or objects where strings belong) as DuckDB would have read it."""
    ui = record.get("userIdentity")
    identity = None
    if type(ui) is dict:
        context = ui.get("sessionContext")
        issuer = context.get("sessionIssuer") if type(context) is dict else None
        identity = Identity(
            type=_text(ui.get("type")),
            principalId=_text(ui.get("principalId")),
            arn=_text(ui.get("arn")),
            accountId=_text(ui.get("accountId")),
            invokedBy=_text(ui.get("invokedBy")),
            accessKeyId=_text(ui.get("accessKeyId")),
            sessionContext=Context(
                Issuer(_text(issuer.get("arn"))) if type(issuer) is dict else None,
                _text(context.get("sourceIdentity")),
            )
            if type(context) is dict
            else None,
        )
    return Record(
        eventTime=_text(record.get("eventTime")),
        eventSource=_text(record.get("eventSource")),
        eventName=_text(record.get("eventName")),
        errorCode=_text(record.get("errorCode")),
        eventID=_text(record.get("eventID")),
        requestID=_text(record.get("requestID")),
        recipientAccountId=_text(record.get("recipientAccountId")),
        userIdentity=identity,
        requestParameters=msgspec.Raw(orjson.dumps(record.get("requestParameters"))),
        responseElements=msgspec.Raw(orjson.dumps(record.get("responseElements"))),
        eventType=_text(record.get("eventType")),
        eventCategory=_text(record.get("eventCategory")),
    )


def _records(data: bytes) -> tuple[list[Record], bool]:
    """Fast path: typed decoding of {"Records": [...]} that skips unread fields; else the tolerant path."""
    if _WRAPPED.match(data[:64]):
        try:
            return _DECODE_WRAPPED(data).Records or [], True
        except (msgspec.ValidationError, msgspec.DecodeError):
            pass
    records, wrapped = _parse(data)
    out = []
    for number, record in enumerate(records, 1):
        if type(record) is not dict:
            raise _Unreadable(f"is not readable CloudTrail JSON: record {number} is not an object")
        out.append(_from_dict(record))
    return out, wrapped


def _problem(record: Record) -> str:
    if not record.eventSource:
        return "has no eventSource"
    if not record.eventName:
        return "has no eventName"
    if record.eventTime is None:
        return "has no eventTime"
    return f"has an unreadable eventTime {record.eventTime}"


def _assume_values(record: Record) -> tuple[str, str]:
    try:
        req = orjson.loads(memoryview(record.requestParameters))
        resp = orjson.loads(memoryview(record.responseElements))
    except orjson.JSONDecodeError:
        req = resp = None
    req = req if type(req) is dict else _EMPTY
    resp = resp if type(resp) is dict else _EMPTY
    creds = resp.get("credentials")
    creds = creds if type(creds) is dict else _EMPTY
    request = orjson.dumps(
        {"roleArn": _text(req.get("roleArn")), "principalArn": _text(req.get("principalArn"))}
    )
    response = orjson.dumps(
        {
            "provider": _text(resp.get("provider")),
            "credentials": {"accessKeyId": _text(creds.get("accessKeyId"))},
        }
    )
    return request.decode(), response.decode()


_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i
_HEX_COLS = np.array([*range(0, 8), *range(9, 13), *range(14, 18)])
_SHIFTS = np.array([4 * (15 - i) for i in range(16)], dtype=np.uint64)


def identity_keys(event_ids: list[str]) -> np.ndarray:
    """identity_key of every id, vectorised for the usual UUIDs."""
    if not event_ids:
        return np.zeros(0, dtype=np.uint64)
    try:
        blob = "".join(event_ids).encode("ascii")
    except UnicodeEncodeError:
        blob = b""
    if len(blob) != 36 * len(event_ids):
        return np.array([identity_key(e) for e in event_ids], dtype=np.uint64)
    chars = np.frombuffer(blob, dtype=np.uint8).reshape(-1, 36)
    digits = _HEX[chars[:, _HEX_COLS]]
    odd = (digits == 255).any(axis=1) | (chars[:, 8] != 45) | (chars[:, 13] != 45) | (chars[:, 18] != 45)
    keys = np.bitwise_or.reduce(digits.astype(np.uint64) << _SHIFTS, axis=1)
    for i in np.flatnonzero(odd):
        keys[i] = identity_key(event_ids[i])
    return keys


def read_file(path: str, size: int = 0, mtime_ns: int = 0, mode: str = "aggregate") -> FileResult:
    result = FileResult(path, size, mtime_ns, mode)
    by_layout = filekind.kind_by_layout(path)
    if by_layout is not None:
        result.kind = by_layout
        return result
    try:
        records, wrapped = _records(_read_bytes(path))
    except _NotEvents as found:
        result.kind = found.kind
        return result
    except _Unreadable as unreadable:  # not `error`: that name holds each record's errorCode below
        text = str(unreadable)
        result.error = text if text.endswith(".") else f"{text}."  # one clear sentence, like every error
        return result
    groups: dict[tuple, list] = {}
    rows = result.rows
    event_ids: list = []
    add_id = event_ids.append
    raw = mode == "raw"
    bad = 0
    insights = 0
    tmin = tmax = None
    times = _TIMES
    if len(times) > 1_000_000:
        times.clear()
    for number, record in enumerate(records, 1):
        if record.eventCategory == "Insight" or record.eventType == "AwsCloudTrailInsight":
            insights += 1  # not an API call: nothing anyone used
            continue
        moment = record.eventTime
        ok = times.get(moment)
        if ok is None:
            normal = normalise_time(moment)
            ok = times[moment] = normal if normal is not None else False
        source = record.eventSource
        name = record.eventName
        if not ok or not source or not name:
            bad += 1
            if result.problem is None:
                where = f"record {number}" if wrapped else "a record"
                if record.eventID:
                    where += f" (eventID {record.eventID})"
                result.problem = f"{where} {_problem(record)}."
            continue
        moment = ok
        if tmin is None or moment < tmin:
            tmin = moment
        if tmax is None or moment > tmax:
            tmax = moment
        ui = record.userIdentity
        if ui is None:
            ui = _NO_IDENTITY
        context = ui.sessionContext
        issuer = context.sessionIssuer if context is not None else None
        issuer_arn = issuer.arn if issuer is not None else None
        source_identity = context.sourceIdentity if context is not None else None
        account = record.recipientAccountId
        if account is None:
            account = ui.accountId
        error = record.errorCode
        if error == "":
            error = None
        event_id = record.eventID
        if event_id is not None:
            add_id(event_id)
        if raw or (source == _STS and name in _ASSUME):
            request = response = None
            if source == _STS and name in _ASSUME:
                request, response = _assume_values(record)
            rows.append(
                (
                    account,
                    moment,
                    moment,
                    1,
                    source,
                    name,
                    error,
                    ui.type,
                    ui.principalId,
                    ui.arn,
                    ui.invokedBy,
                    ui.accessKeyId,
                    issuer_arn,
                    request,
                    response,
                    event_id,
                    record.requestID,
                    source_identity,
                )
            )
            continue
        key = (
            account,
            moment[:10],
            source,
            name,
            error,
            ui.type,
            ui.principalId,
            ui.arn,
            ui.invokedBy,
            ui.accessKeyId,
            issuer_arn,
            source_identity,
        )
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
        rows.append((key[0], first, last, count, *key[2:-1], None, None, None, None, key[-1]))
    result.bad = bad
    result.records = len(records) - bad - insights
    if insights and insights == len(records):
        result.kind = filekind.INSIGHT
    result.ids = identity_keys(event_ids).tobytes()
    result.time_min, result.time_max = tmin, tmax
    return result
