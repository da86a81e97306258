"""The embedded engine: CloudTrail files → an in-memory DuckDB table of Athena's shape → the shared SQL.

Loading (once per engine, reused by every `collect`):
1. `files.discover` finds the files; the first bytes of each tell `{"Records": [...]}` from NDJSON/arrays
   (and catch a file that is not gzip although named `.gz`).
2. DuckDB's `read_json` with explicit camelCase `columns=` and `records=true` (fast, and no schema
   sampling that could drop `sessionContext`), for all files of a format at once; when that fails, file
   by file, so the error names the broken file.
3. Validation: every record needs eventSource, eventName and a readable eventTime. CloudTrail's own
   form is `2026-06-01T12:00:00Z`; ISO variants with a space, fractions or an offset (written by some
   exporters) are accepted and normalised to it, read as UTC when they carry no zone.
4. The Athena-shaped table `cloudtrail`: lower-case columns, partitions `account` (recipient account),
   `region`, `"timestamp"` (yyyy/MM/dd). Request parameters and response elements keep only what the
   role-assumption query reads (roleArn, principalArn, provider, credentials.accessKeyId) and only for
   sts AssumeRole* records, so no session token or other secret is ever held or returned.
"""

from __future__ import annotations

import gzip
import re
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import duckdb

from ctlint.errors import EngineError, InputError
from ctlint.model import RawUsage, Window
from ctlint.usage.files import discover
from ctlint.usage.sql import ASSUME_EVENTS, rows_to_raw_usage, to_duckdb, usage_queries

TABLE = "cloudtrail"
MAX_OBJECT_SIZE = 1 << 30  # DuckDB's default 16 MB is smaller than some real delivery files

_IDENTITY = (
    "STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, invokedBy VARCHAR, "
    "accessKeyId VARCHAR, userName VARCHAR, sessionContext STRUCT(sessionIssuer STRUCT(type VARCHAR, "
    "principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR)))"
)
# Keys are CloudTrail's camelCase: DuckDB matches `columns=` keys case-sensitively.
_FIELDS = {
    "eventVersion": "VARCHAR",
    "eventTime": "VARCHAR",
    "eventSource": "VARCHAR",
    "eventName": "VARCHAR",
    "awsRegion": "VARCHAR",
    "errorCode": "VARCHAR",
    "requestParameters": "JSON",
    "responseElements": "JSON",
    "eventID": "VARCHAR",
    "requestID": "VARCHAR",
    "recipientAccountId": "VARCHAR",
    "userIdentity": _IDENTITY,
}
_RECORD = "STRUCT(" + ", ".join(f"{k} {v}" for k, v in _FIELDS.items()) + ")"
_FLAT_COLUMNS = "{" + ", ".join(f"'{k}': '{v}'" for k, v in _FIELDS.items()) + "}"
_WRAPPED_COLUMNS = "{'Records': '" + _RECORD + "[]'}"
_COLS = ", ".join(f'"{k}"' for k in _FIELDS)
_TYPED_COLS = ", ".join(f'"{k}" {v}' for k, v in _FIELDS.items())

_WRAPPED_RE = re.compile(rb'^\s*\{\s*"Records"\s*:')
_TIME_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"
# The eventTime, normalised to CloudTrail's form (NULL when unreadable). Session time zone is UTC.
_NORMALISED_TIME = (
    f"CASE WHEN regexp_matches(\"eventTime\", '{_TIME_RE}') "
    "THEN strftime(try_cast(\"eventTime\" AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%SZ') END"
)


def _sniff(path: Path) -> str:
    """'wrapped' for {"Records": [...]}, 'lines' for NDJSON, a JSON array or a single object."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                head = handle.read(4096)
        else:
            with path.open("rb") as handle:
                head = handle.read(4096)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"CloudTrail file {path} cannot be read: {error}.") from error
    head = head.lstrip(b"\xef\xbb\xbf")
    if not head.strip():
        raise InputError(f"CloudTrail file {path} is empty.")
    return "wrapped" if _WRAPPED_RE.match(head) else "lines"


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class LocalEngine:
    """Runs the shared usage SQL on CloudTrail files through an in-memory DuckDB."""

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        skip_bad_files: bool = False,
        max_skipped_share: float = 0.0,
        progress: bool | None = None,
        skip_bad_records: bool = False,
    ) -> None:
        self.paths = tuple(paths)
        self.skip_bad_files = skip_bad_files
        self.max_skipped_share = max_skipped_share
        self.progress = sys.stderr.isatty() if progress is None else progress
        # Drop single records lacking eventSource/eventName/a readable eventTime instead of the file.
        self.skip_bad_records = skip_bad_records
        self.files: tuple[Path, ...] = ()
        self.skipped_files: tuple[str, ...] = ()
        self.records_loaded = 0  # records in the table (every file, every time)
        self.records_skipped = 0  # bad records dropped under skip_bad_records
        self.skip_messages: tuple[str, ...] = ()  # one sentence per skipped file
        self._con: duckdb.DuckDBPyConnection | None = None

    # ------------------------------------------------------------ public

    def collect(self, window: Window, accounts: Sequence[str] | None) -> RawUsage:
        con = self._load()
        results: dict[str, list[tuple]] = {}
        for query in usage_queries(TABLE, window, accounts):
            try:
                results[query.name] = con.execute(to_duckdb(query.text), list(query.params)).fetchall()
            except duckdb.Error as error:
                raise EngineError(f"the local usage query {query.name} failed: {_one_line(error)}") from error
        return rows_to_raw_usage(window, results, engine="local", skipped_files=self.skipped_files)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # ------------------------------------------------------------ loading

    def _load(self) -> duckdb.DuckDBPyConnection:
        if self._con is not None:
            return self._con
        began = time.monotonic()
        files = discover(self.paths)
        self.files = tuple(files)
        if self.progress:
            print(f"ctlint: reading {len(files)} CloudTrail files ...", file=sys.stderr, flush=True)
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone='UTC'")  # date formatting follows the session zone
        con.execute(f"CREATE TEMP TABLE loaded (filename VARCHAR, recno BIGINT, {_TYPED_COLS})")
        bad: dict[str, str] = {}
        groups: dict[str, list[str]] = {"wrapped": [], "lines": []}
        for path in files:
            try:
                groups[_sniff(path)].append(str(path))
            except InputError as error:
                bad[str(path)] = str(error)
        for kind, names in groups.items():
            if not names:
                continue
            try:
                self._insert(con, kind, names)
            except duckdb.Error:
                for name in names:  # find the culprit(s): one file at a time
                    try:
                        self._insert(con, kind, [name])
                    except duckdb.Error as error:
                        con.execute("DELETE FROM loaded WHERE filename = ?", [name])
                        bad[name] = (
                            f"CloudTrail file {name} is not readable CloudTrail JSON: {_one_line(error)}"
                        )
        self._validate(con, bad)
        self._reject_or_skip(con, bad, len(files))
        self._materialise(con)
        self.records_loaded = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
        if self.progress:
            spent = max(time.monotonic() - began, 1e-6)
            print(
                f"ctlint: read {len(files)} files, {self.records_loaded} events in {spent:.1f} s "
                f"({self.records_loaded / spent:,.0f} events/s)",
                file=sys.stderr,
                flush=True,
            )
        self._con = con
        return con

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, kind: str, names: list[str]) -> None:
        options = f"records=true, filename=true, maximum_object_size={MAX_OBJECT_SIZE}"
        if kind == "wrapped":
            sql = (
                f"INSERT INTO loaded SELECT filename, recno, r.* FROM ("
                f"SELECT filename, unnest(generate_series(1, len(Records))) AS recno, unnest(Records) AS r "
                f"FROM read_json(?, {options}, columns={_WRAPPED_COLUMNS}))"
            )
        else:
            sql = (
                f"INSERT INTO loaded SELECT filename, NULL, {_COLS} "
                f"FROM read_json(?, format='auto', {options}, columns={_FLAT_COLUMNS})"
            )
        con.execute(sql, [names])

    def _validate(self, con: duckdb.DuckDBPyConnection, bad: dict[str, str]) -> None:
        """Every record needs eventSource, eventName and a readable eventTime."""
        problems = con.execute(
            f"""SELECT filename, recno, "eventID",
                 CASE WHEN coalesce("eventSource", '') = '' THEN 'has no eventSource'
                      WHEN coalesce("eventName", '') = '' THEN 'has no eventName'
                      WHEN "eventTime" IS NULL THEN 'has no eventTime'
                      ELSE 'has an unreadable eventTime ' || "eventTime" END AS problem
               FROM loaded
               WHERE coalesce("eventSource", '') = '' OR coalesce("eventName", '') = ''
                  OR ({_NORMALISED_TIME}) IS NULL
               ORDER BY filename, recno"""
        ).fetchall()
        if not problems:
            return
        if self.skip_bad_records:
            self.records_skipped = len(problems)
            con.execute(
                f"""DELETE FROM loaded WHERE coalesce("eventSource", '') = '' OR coalesce("eventName", '') = ''
                    OR ({_NORMALISED_TIME}) IS NULL"""
            )
            return
        for filename, recno, event_id, problem in problems:
            if filename in bad:
                continue
            where = f"record {recno}" if recno is not None else "a record"
            if event_id:
                where += f" (eventID {event_id})"
            bad[filename] = f"CloudTrail file {filename}: {where} {problem}."

    def _reject_or_skip(self, con: duckdb.DuckDBPyConnection, bad: dict[str, str], total: int) -> None:
        if not bad:
            return
        first = bad[min(bad)]
        if not self.skip_bad_files:
            raise InputError(first)
        share = len(bad) / total
        if share > self.max_skipped_share:
            raise InputError(
                f"{len(bad)} of {total} CloudTrail files are unreadable ({share:.0%}, more than the allowed "
                f"{self.max_skipped_share:.0%}); the first: {first}"
            )
        con.execute("DELETE FROM loaded WHERE filename IN (SELECT unnest(?))", [sorted(bad)])
        self.skipped_files = tuple(sorted(bad))
        self.skip_messages = tuple(bad[name] for name in sorted(bad))

    @staticmethod
    def _materialise(con: duckdb.DuckDBPyConnection) -> None:
        assume = ", ".join(f"'{n}'" for n in ASSUME_EVENTS)
        is_assume = f'"eventSource" = \'sts.amazonaws.com\' AND "eventName" IN ({assume})'
        con.execute(
            f"""CREATE TABLE {TABLE} AS
            SELECT
              "eventVersion" AS eventversion,
              "userIdentity" AS useridentity,
              t AS eventtime,
              "eventSource" AS eventsource,
              "eventName" AS eventname,
              "awsRegion" AS awsregion,
              nullif("errorCode", '') AS errorcode,
              CASE WHEN {is_assume} THEN json_object(
                'roleArn', "requestParameters"->>'$.roleArn',
                'principalArn', "requestParameters"->>'$.principalArn')::VARCHAR END AS requestparameters,
              CASE WHEN {is_assume} THEN json_object(
                'provider', "responseElements"->>'$.provider',
                'credentials', json_object('accessKeyId', "responseElements"->>'$.credentials.accessKeyId'))::VARCHAR
              END AS responseelements,
              "eventID" AS eventid,
              "requestID" AS requestid,
              coalesce("recipientAccountId", "userIdentity".accountId) AS recipientaccountid,
              coalesce("recipientAccountId", "userIdentity".accountId) AS account,
              "awsRegion" AS region,
              replace(substr(t, 1, 10), '-', '/') AS "timestamp"
            FROM (SELECT *, {_NORMALISED_TIME} AS t FROM loaded)"""
        )
        con.execute("DROP TABLE loaded")
