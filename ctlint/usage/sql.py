"""The usage SQL, written once in Athena's (Trino) dialect, and the conversion of its result rows.

Every engine runs exactly these texts: Athena as they are, DuckDB after `to_duckdb` (sqlglot). The
table has Athena's standard CloudTrail shape (lower-case columns, `useridentity` struct, JSON kept as
strings) plus the partition columns `account`, `region` and `"timestamp"` ('yyyy/MM/dd').

Decisions (documented here because both engines inherit them):
- Values only as `?` parameters in WHERE; the table name is validated and then inserted.
- Time filters compare ISO strings (`eventtime >= '2026-06-01T00:00:00Z'`) and the day partition
  (`"timestamp" >= '2026/06/01'`), which sidesteps time zones and prunes partitions on both engines.
- Duplicate deliveries: a record counts once per (eventid, eventtime, eventsource, eventname).
  (eventid alone would merge hand-edited sample records that reuse ids; real duplicates agree on all four.)
  Records without eventid cannot be recognised as duplicates and all count.
- Principal: IAMUser and Root → useridentity.arn; AssumedRole and FederatedUser → the session
  issuer's ARN (the role, or the user who called GetFederationToken). Anyone else counts for nobody.
- Only records without errorcode count; errors are counted separately in event_stats.
- Role assumption (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity, no error):
  source = the caller — IAMUser/Root → its ARN; AssumedRole → the session issuer's role ARN (role
  chaining); AWSService → the service name in invokedby; SAML → requestParameters.principalArn (the
  SAML provider ARN, which is what trust policies name); web identity → responseElements.provider
  (the IdP or OIDC provider ARN), else useridentity.principalid. Role = requestParameters.roleArn,
  key = responseElements.credentials.accessKeyId. The lookup starts ASSUME_LOOKBACK (12 h, the
  longest role session) before the window so sessions that began earlier are attributed too.
  A cross-account call is logged in both accounts with the same requestid: count distinct
  coalesce(requestid, eventid), grouped by (source, role, event name, key).
- Session usage: counted window events whose useridentity.accesskeyid is such a key.
- Identity usage (who behind a shared role): counted AssumedRole events per (account, role, session
  identity, event), the session identity being useridentity.sessioncontext.sourceidentity when set,
  else the role session name (the last part of the assumed-role ARN).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from sys import intern
from typing import Any

from ctlint.errors import EngineError, InputError
from ctlint.gcpause import cyclic_gc_paused
from ctlint.isotime import fromisoformat
from ctlint.model import (
    AssumeRoleRow,
    EventStats,
    IdentityUsageRow,
    RawUsage,
    SessionUsageRow,
    UsageRow,
    Window,
    is_account_id,
)

QUERY_NAMES = (
    "principal_usage",
    "assume_role",
    "session_usage",
    "events_per_account",
    "event_stats",
    "identity_usage",
)
ASSUME_LOOKBACK = timedelta(hours=12)  # the maximum role session duration
ASSUME_EVENTS = ("AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity")

_TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Query:
    name: str  # one of QUERY_NAMES
    text: str  # Athena dialect, `?` placeholders, table name already inserted
    params: tuple[str, ...]  # the values, in placeholder order


def iso(moment: datetime) -> str:
    """CloudTrail's own eventTime form, so string comparison equals time comparison."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def day(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y/%m/%d")


def window_filter(
    start: datetime, end: datetime, accounts: Sequence[str] | None
) -> tuple[str, tuple[str, ...]]:
    """WHERE clause on partitions (pruning) and on eventtime (exactness), with its parameters."""
    # "timestamp" <= day(end): the end day itself may hold events before `end`.
    text = '"timestamp" >= ? AND "timestamp" <= ? AND eventtime >= ? AND eventtime < ?'
    params: tuple[str, ...] = (day(start), day(end), iso(start), iso(end))
    if accounts:
        marks = ", ".join("?" for _ in accounts)
        text += f" AND account IN ({marks})"
        params += tuple(accounts)
    return text, params


def _base_ctes(
    table: str, window: Window, accounts: Sequence[str] | None, extra: Sequence[str] = ()
) -> tuple[str, tuple[str, ...]]:
    where, params = window_filter(window.start, window.end, accounts)
    more = "".join(f"{column}, " for column in extra)  # our own column names, never input
    text = f"""WITH raw AS (
  SELECT {more}eventid, eventtime, eventsource, eventname, errorcode, recipientaccountid,
    useridentity.type AS identity_type,
    useridentity.arn AS identity_arn,
    useridentity.accesskeyid AS access_key_id,
    useridentity.sessioncontext.sessionissuer.arn AS issuer_arn,
    useridentity.sessioncontext.sourceidentity AS source_identity,
    row_number() OVER (PARTITION BY eventid, eventtime, eventsource, eventname ORDER BY eventid) AS copy_no
  FROM {table}
  WHERE {where}
),
events AS (
  SELECT {more}eventid, eventtime, eventsource, eventname, recipientaccountid, access_key_id,
    COALESCE(errorcode, '') <> '' AS failed,
    CASE
      WHEN identity_type IN ('IAMUser', 'Root') THEN identity_arn
      WHEN identity_type IN ('AssumedRole', 'FederatedUser') THEN issuer_arn
    END AS principal_arn,
    CASE identity_type
      WHEN 'IAMUser' THEN 'user'
      WHEN 'Root' THEN 'root'
      WHEN 'AssumedRole' THEN 'role'
      WHEN 'FederatedUser' THEN 'federated'
    END AS principal_type,
    CASE WHEN identity_type = 'AssumedRole'
      THEN COALESCE(NULLIF(source_identity, ''), element_at(split(identity_arn, '/'), -1))
    END AS session_identity
  FROM raw
  WHERE eventid IS NULL OR copy_no = 1
)"""
    return text, params


def _assume_cte(
    table: str, window: Window, accounts: Sequence[str] | None, *, lookback: bool = True
) -> tuple[str, tuple[str, ...]]:
    where, params = window_filter(
        window.start - ASSUME_LOOKBACK if lookback else window.start, window.end, accounts
    )
    names = ", ".join(f"'{n}'" for n in ASSUME_EVENTS)  # constants of ours, not values from input
    text = f"""assumed AS (
  SELECT
    CASE
      WHEN eventname = 'AssumeRoleWithSAML' THEN json_extract_scalar(requestparameters, '$.principalArn')
      WHEN eventname = 'AssumeRoleWithWebIdentity'
        THEN COALESCE(json_extract_scalar(responseelements, '$.provider'), useridentity.principalid)
      WHEN useridentity.type IN ('IAMUser', 'Root') THEN useridentity.arn
      WHEN useridentity.type IN ('AssumedRole', 'FederatedUser') THEN useridentity.sessioncontext.sessionissuer.arn
      WHEN useridentity.type = 'AWSService' THEN useridentity.invokedby
    END AS source_arn,
    json_extract_scalar(requestparameters, '$.roleArn') AS role_arn,
    eventname,
    json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS access_key_id,
    COALESCE(requestid, eventid) AS request_key,
    eventtime
  FROM {table}
  WHERE {where}
    AND eventsource = 'sts.amazonaws.com' AND eventname IN ({names})
    AND COALESCE(errorcode, '') = ''
)"""
    return text, params


def validate_table(table: str) -> str:
    if not _TABLE_RE.match(table):
        raise InputError(f"table name {table!r} is not a plain SQL identifier (letters, digits, underscore).")
    return table


def usage_queries(
    table: str, window: Window, accounts: Sequence[str] | None, *, assume_lookback: bool = True
) -> tuple[Query, ...]:
    """The usage queries for `window` (and only `accounts`, when given), in QUERY_NAMES order.

    `assume_lookback=False` makes the assume_role query count assumptions from `window.start` only
    (session_usage keeps its lookback either way). A window split into pieces uses it for every piece
    but the first, so the assumptions of the 12 h before a piece are not counted twice.
    """
    validate_table(table)
    for account in accounts or ():
        if not is_account_id(account):
            raise InputError(f"account id {account!r} is not a 12-digit AWS account id.")
    base, base_params = _base_ctes(table, window, accounts)
    assumed, assumed_params = _assume_cte(table, window, accounts)
    if assume_lookback:
        counted, counted_params = assumed, assumed_params
    else:
        counted, counted_params = _assume_cte(table, window, accounts, lookback=False)

    principal_usage = f"""{base}
SELECT recipientaccountid, principal_arn, principal_type, eventsource, eventname,
  count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM events
WHERE NOT failed AND principal_arn IS NOT NULL
GROUP BY recipientaccountid, principal_arn, principal_type, eventsource, eventname
ORDER BY recipientaccountid, principal_arn, eventsource, eventname"""

    assume_role = f"""WITH {counted}
SELECT source_arn, role_arn, eventname, access_key_id,
  count(DISTINCT request_key) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM assumed
WHERE role_arn IS NOT NULL AND source_arn IS NOT NULL
GROUP BY source_arn, role_arn, eventname, access_key_id
ORDER BY source_arn, role_arn, eventname, access_key_id"""

    session_usage = f"""{base},
{assumed},
sessions AS (
  SELECT DISTINCT source_arn, role_arn, access_key_id
  FROM assumed
  WHERE access_key_id IS NOT NULL AND role_arn IS NOT NULL AND source_arn IS NOT NULL
)
SELECT s.source_arn, s.role_arn, e.recipientaccountid, e.eventsource, e.eventname,
  count(*) AS calls, min(e.eventtime) AS first_seen, max(e.eventtime) AS last_seen
FROM events e
JOIN sessions s ON e.access_key_id = s.access_key_id
WHERE NOT e.failed
GROUP BY s.source_arn, s.role_arn, e.recipientaccountid, e.eventsource, e.eventname
ORDER BY s.source_arn, s.role_arn, e.recipientaccountid, e.eventsource, e.eventname"""

    events_per_account = f"""{base}
SELECT recipientaccountid, count(*) AS events
FROM events
GROUP BY recipientaccountid
ORDER BY recipientaccountid"""

    event_stats = f"""{base}
SELECT count(*) AS read,
  count_if(NOT failed AND principal_arn IS NOT NULL) AS counted,
  count_if(failed) AS errors
FROM events"""

    identity_usage = f"""{base}
SELECT recipientaccountid, principal_arn, session_identity, eventsource, eventname,
  count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM events
WHERE NOT failed AND principal_type = 'role' AND principal_arn IS NOT NULL
  AND COALESCE(session_identity, '') <> ''
GROUP BY recipientaccountid, principal_arn, session_identity, eventsource, eventname
ORDER BY recipientaccountid, principal_arn, session_identity, eventsource, eventname"""

    return (
        Query("principal_usage", principal_usage, base_params),
        Query("assume_role", assume_role, counted_params),
        Query("session_usage", session_usage, base_params + assumed_params),
        Query("events_per_account", events_per_account, base_params),
        Query("event_stats", event_stats, base_params),
        Query("identity_usage", identity_usage, base_params),
    )


@functools.lru_cache(maxsize=256)  # a run transpiles the same few texts for every window: parse once
def to_duckdb(text: str) -> str:
    """Transpile an Athena query to DuckDB. Placeholders stay `?` and keep their order."""
    import sqlglot  # loaded by the engines that transpile, not by a run answered from a cache
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="athena")
    except sqlglot.errors.ParseError as error:  # our own text: a bug, not bad input
        raise EngineError(f"the usage SQL does not parse: {error}") from error
    before = len(list(tree.find_all(exp.Placeholder, bfs=False)))
    out = tree.sql(dialect="duckdb")
    if out.count("?") != before:  # '?' never occurs in our literals; a mismatch means reordering/loss
        raise EngineError("transpiling the usage SQL to DuckDB changed its parameters.")
    return out


def athena_literal(value: str) -> str:
    """A value for Athena ExecutionParameters (qmark style), which Athena splices in as SQL text.

    Only printable text is accepted (no control characters, which could end a statement or comment);
    the value is quoted with inner quotes doubled, so it can only ever be one string literal.
    """
    if not isinstance(value, str):
        raise InputError(f"query parameter {value!r} is not a string.")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise InputError(f"query parameter {value!r} contains control characters.")
    return "'" + value.replace("'", "''") + "'"


# ---------------------------------------------------------------- result rows → RawUsage


def parse_time(value: object) -> datetime:
    """An engine's time value (ISO string as CloudTrail writes it, or a datetime) as aware UTC."""
    if type(value) is str and len(value) == 20 and value[-1] == "Z" and value[10] == "T":
        try:  # CloudTrail's own form, nearly every value: the one call that reads it
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = fromisoformat(text)
        except ValueError:
            moment = None
        if moment is not None:
            return (
                moment.replace(tzinfo=timezone.utc)
                if moment.tzinfo is None
                else moment.astimezone(timezone.utc)
            )
    raise EngineError(f"the usage engine returned an unreadable time {value!r}.")


def _int(value: Any) -> int:  # an engine's count: int, Decimal, numeric string or NULL
    return int(value) if value is not None else 0


def _str(value: object) -> str:
    return "" if value is None else str(value)


def rows_to_raw_usage(
    window: Window,
    results: Mapping[str, Iterable[tuple]],
    *,
    engine: str,
    skipped_files: Sequence[str] = (),
) -> RawUsage:
    """Turn the plain result rows of every query (same columns on both engines) into RawUsage.

    Athena returns every value as a string; DuckDB returns ints and strings — both are accepted.
    """
    missing = [name for name in QUERY_NAMES if name not in results]
    if missing:
        raise EngineError(f"the usage engine returned no result for {', '.join(missing)}.")
    with cyclic_gc_paused():  # results can hold millions of rows
        return _raw_usage(window, results, engine=engine, skipped_files=skipped_files)


def _raw_usage(
    window: Window, results: Mapping[str, Iterable[tuple]], *, engine: str, skipped_files: Sequence[str]
) -> RawUsage:
    # One object per distinct text: the answer's rows repeat a few ARNs, sources and names hundreds of
    # thousands of times (3M events: 1.4 M session and identity rows, ~0.6 GB of copies without this).
    rows = tuple(
        sorted(
            (
                UsageRow(
                    account_id=intern(_str(acct)),
                    principal_arn=intern(str(arn)),
                    principal_type=intern(str(ptype)),
                    event_source=intern(_str(source)),
                    event_name=intern(_str(name)),
                    count=_int(calls),
                    first_seen=parse_time(first),
                    last_seen=parse_time(last),
                )
                for acct, arn, ptype, source, name, calls, first, last in results["principal_usage"]
            ),
            key=lambda r: (r.account_id, r.principal_arn, r.event_source, r.event_name),
        )
    )
    assumptions = tuple(
        sorted(
            (
                AssumeRoleRow(
                    source_arn=intern(str(source)),
                    role_arn=intern(str(role)),
                    event_name=intern(str(name)),
                    access_key_id=None if key in (None, "") else str(key),
                    count=_int(calls),
                    first_seen=parse_time(first),
                    last_seen=parse_time(last),
                )
                for source, role, name, key, calls, first, last in results["assume_role"]
            ),
            key=lambda r: (r.source_arn, r.role_arn, r.event_name, r.access_key_id or ""),
        )
    )
    sessions = tuple(
        sorted(
            (
                SessionUsageRow(
                    source_arn=intern(str(source)),
                    role_arn=intern(str(role)),
                    account_id=intern(_str(acct)),
                    event_source=intern(_str(esrc)),
                    event_name=intern(_str(name)),
                    count=_int(calls),
                    first_seen=parse_time(first),
                    last_seen=parse_time(last),
                )
                for source, role, acct, esrc, name, calls, first, last in results["session_usage"]
            ),
            key=lambda r: (r.source_arn, r.role_arn, r.account_id, r.event_source, r.event_name),
        )
    )
    identities = tuple(
        sorted(
            (
                IdentityUsageRow(
                    role_arn=intern(str(role)),
                    session=intern(_str(session)),
                    account_id=intern(_str(acct)),
                    event_source=intern(_str(esrc)),
                    event_name=intern(_str(name)),
                    count=_int(calls),
                    first_seen=parse_time(first),
                    last_seen=parse_time(last),
                )
                for acct, role, session, esrc, name, calls, first, last in results["identity_usage"]
            ),
            key=lambda r: (r.role_arn, r.session, r.account_id, r.event_source, r.event_name),
        )
    )
    per_account = {
        _str(acct): _int(n) for acct, n in sorted(results["events_per_account"], key=lambda r: _str(r[0]))
    }
    stats_rows = list(results["event_stats"])
    if len(stats_rows) != 1:
        raise EngineError(f"the event_stats query returned {len(stats_rows)} rows instead of one.")
    read, counted, errors = stats_rows[0]
    return RawUsage(
        window=window,
        rows=rows,
        assumptions=assumptions,
        sessions=sessions,
        events_per_account=per_account,
        stats=EventStats(read=_int(read), counted=_int(counted), errors=_int(errors)),
        skipped_files=tuple(skipped_files),
        engine=engine,
        identities=identities,
    )


# ---------------------------------------------------------------- resources from usage (issue 18)

RESOURCE_QUERY = "resource_usage"


def resource_query(table: str, window: Window, accounts: Sequence[str] | None) -> Query:
    """The raw resource evidence per (account, principal, event, region, values): the record's first
    MAX_PER_RECORD `resources[]` ARNs and the requestParameters values ctlint.usage.resource_arns reads,
    each as JSON text (`json_format(json_extract(...))`: both engines give JSON for any value, where
    json_extract_scalar differs on non-scalars). ARNs are derived from these groups in Python
    (ctlint.usage.resource_rows), identically for both engines. Counted like principal_usage.
    """
    from ctlint.usage.resource_arns import MAX_PER_RECORD, PARAMETERS

    validate_table(table)
    for account in accounts or ():
        if not is_account_id(account):
            raise InputError(f"account id {account!r} is not a 12-digit AWS account id.")
    base, params = _base_ctes(table, window, accounts, ("awsregion", "requestparameters", "resources"))
    values = [
        # Our own constant keys (letters only: checked in resource_arns' tests), never input.
        f"json_format(json_extract(requestparameters, '$.{key}')) AS p_{i}"
        for i, key in enumerate(PARAMETERS)
    ] + [f"element_at(resources, {i + 1}).arn AS r_{i}" for i in range(MAX_PER_RECORD)]
    names = [value.rsplit(" AS ", 1)[1] for value in values]
    text = f"""{base},
evidence AS (
  SELECT recipientaccountid, principal_arn, eventsource, eventname, awsregion, eventtime,
    {", ".join(values)}
  FROM events
  WHERE NOT failed AND principal_arn IS NOT NULL
)
SELECT recipientaccountid, principal_arn, eventsource, eventname, awsregion, {", ".join(names)},
  count(*) AS calls, min(eventtime) AS first_seen, max(eventtime) AS last_seen
FROM evidence
GROUP BY recipientaccountid, principal_arn, eventsource, eventname, awsregion, {", ".join(names)}"""
    return Query(RESOURCE_QUERY, text, params)
