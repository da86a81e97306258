"""The Amazon Athena usage engine: the usage SQL of ctlint.usage.sql, run over CloudTrail in S3.

Life cycle: `setup()` makes the database and the projected table when the Glue catalog lacks them
(or updates the projection when accounts or regions changed); `collect()` runs the usage queries one
after another through pyathena's AsyncCursor with a bounded wait, reads every row, and deletes the
result objects it created. Any failure is an EngineError naming the query and its id: a report is
never built on part of the results.

Retries: throttling (ThrottlingException, TooManyRequestsException) and 5xx errors of the Athena API
are retried by pyathena's RetryConfig with bounded exponential backoff; botocore's own retries are
off for the Athena client so there is one policy, not two multiplied. Tests inject a RetryConfig
with a zero multiplier, so backoff sleeps cost nothing there.
"""

from __future__ import annotations

import difflib
import sys
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from ctlint.errors import ConfigError, EngineError
from ctlint.model import RawUsage, Window
from ctlint.usage import athena_ddl as ddl

if TYPE_CHECKING:  # imported lazily at run time: boto3 and pyathena cost ~0.3 s to import
    import boto3
    from pyathena.util import RetryConfig

    from ctlint.usage import athena_aggregate

PRICE_PER_TB_USD = 5.0
MIN_BILLED_BYTES = 10 * 1024 * 1024  # Athena bills at least 10 MB per query
RETRYABLE_CODES = (
    "ThrottlingException",
    "TooManyRequestsException",
    "InternalServerException",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    }
)
NOT_FOUND_CODES = frozenset({"EntityNotFoundException"})

# Config keys of the `athena:` block, CloudTracker's included (output_s3_bucket).
_KEYS = (
    "s3_bucket",
    "path",
    "org_id",
    "region",
    "workgroup",
    "output_location",
    "output_s3_bucket",
    "database",
    "table",
    "query_timeout",
    "query_timeout_s",
    "keep_results",
    "aggregate_location",
    "aggregate_table",
)


def _text(block: Mapping[str, object], key: str, where: str) -> str | None:
    value = block.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}.{key} must be a string, not {type(value).__name__}.")
    return value


def normalize_output_location(value: str, *, key: str) -> str:
    """`s3://bucket/prefix/` from `s3://bucket`, `bucket`, `bucket/prefix` (CloudTracker's forms)."""
    text = value.strip()
    rest = text[len("s3://") :] if text.startswith("s3://") else text
    bucket, _, prefix = rest.partition("/")
    bucket = ddl.normalize_bucket(bucket, key=key)
    prefix = ddl.normalize_prefix(prefix, key=key)
    return f"s3://{bucket}/" + (f"{prefix}/" if prefix else "")


@dataclass(frozen=True)
class AthenaSettings:
    s3_bucket: str
    path: str = ""
    org_id: str | None = None
    region: str | None = None
    workgroup: str = "primary"
    output_location: str | None = None
    database: str = "ctlint"
    table: str | None = None
    query_timeout_s: float = 600.0
    keep_results: bool = False
    aggregate_location: str | None = None  # s3://bucket/prefix/ of the daily aggregate table
    aggregate_table: str | None = None  # default: <table>_daily
    poll_interval_s: float = 1.0
    max_attempts: int = 6  # API calls per request under throttling / 5xx, the first included

    def __post_init__(self) -> None:
        object.__setattr__(self, "s3_bucket", ddl.normalize_bucket(self.s3_bucket))
        object.__setattr__(self, "path", ddl.normalize_prefix(self.path or ""))
        if self.org_id is not None:
            ddl.check_org_id(self.org_id)
        if self.region is not None:
            ddl.check_region(self.region)
        if self.output_location is not None:
            object.__setattr__(
                self,
                "output_location",
                normalize_output_location(self.output_location, key="athena.output_location"),
            )
        ddl.check_identifier(self.database, key="athena.database")
        if self.table is not None:
            ddl.check_identifier(self.table, key="athena.table")
        if not self.workgroup or any(c in self.workgroup for c in "'\"`;\n") or len(self.workgroup) > 128:
            raise ConfigError(f"athena.workgroup {self.workgroup!r} is not a valid Athena workgroup name.")
        if not self.query_timeout_s > 0:
            raise ConfigError("athena.query_timeout must be a positive number of seconds.")
        if self.aggregate_location is not None:
            location = normalize_output_location(self.aggregate_location, key="athena.aggregate_location")
            object.__setattr__(self, "aggregate_location", location)
            # The aggregate command deletes objects under its day prefixes: never inside the trail's logs.
            if location.startswith(self.location.base) or self.location.base.startswith(
                location + "AWSLogs/"
            ):
                raise ConfigError(
                    f"athena.aggregate_location {location} lies in the trail's logs ({self.location.base}); "
                    "choose a prefix of its own."
                )
        if self.aggregate_table is not None:
            if self.aggregate_location is None:
                raise ConfigError("athena.aggregate_table needs athena.aggregate_location.")
            ddl.check_identifier(self.aggregate_table, key="athena.aggregate_table")

    @property
    def location(self) -> ddl.TrailLocation:
        return ddl.TrailLocation(self.s3_bucket, self.path, self.org_id)

    @property
    def table_name(self) -> str:
        return self.table or self.location.default_table_name()

    @property
    def qualified_table(self) -> str:
        return f"{self.database}.{self.table_name}"

    @property
    def aggregate_table_name(self) -> str | None:
        if self.aggregate_location is None:
            return None
        return self.aggregate_table or ddl.check_identifier(
            f"{self.table_name}_daily", key="athena.aggregate_table (derived from the table name)"
        )

    @classmethod
    def from_mapping(cls, block: Mapping[str, object], *, where: str) -> AthenaSettings:
        """Settings from a config's `athena:` block; `where` prefixes messages (e.g. 'ctlint.yaml: athena')."""
        if not isinstance(block, Mapping):
            raise ConfigError(f"{where} must be a mapping of settings.")
        for key in block:
            if key not in _KEYS:
                close = difflib.get_close_matches(str(key), _KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else "."
                raise ConfigError(f"{where}: unknown key {key!r}{hint}")
        bucket = _text(block, "s3_bucket", where)
        if not bucket:
            raise ConfigError(f"{where}.s3_bucket is required: the bucket CloudTrail delivers to.")
        output = _text(block, "output_location", where) or _text(block, "output_s3_bucket", where)
        timeout = block.get("query_timeout_s", block.get("query_timeout"))
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))):
            raise ConfigError(f"{where}.query_timeout must be a number of seconds.")
        keep = block.get("keep_results")
        if keep is not None and not isinstance(keep, bool):
            raise ConfigError(f"{where}.keep_results must be true or false.")
        try:
            return cls(
                s3_bucket=bucket,
                path=_text(block, "path", where) or "",
                org_id=_text(block, "org_id", where),
                region=_text(block, "region", where),
                workgroup=_text(block, "workgroup", where) or "primary",
                output_location=output,
                database=_text(block, "database", where) or "ctlint",
                table=_text(block, "table", where),
                query_timeout_s=float(timeout) if timeout is not None else 600.0,
                keep_results=bool(keep),
                aggregate_location=_text(block, "aggregate_location", where),
                aggregate_table=_text(block, "aggregate_table", where),
            )
        except ConfigError as error:
            raise ConfigError(f"{where}: {error}") from None


@dataclass(frozen=True)
class QueryRun:
    """What one finished query cost; summed into the stderr report."""

    name: str
    query_id: str
    bytes_scanned: int
    rows: int
    seconds: float


def estimated_cost_usd(runs: Sequence[QueryRun]) -> float:
    billed = sum(max(run.bytes_scanned, MIN_BILLED_BYTES) for run in runs)
    return billed / 1e12 * PRICE_PER_TB_USD


def _format_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{count} B"  # pragma: no cover


def _error_code(error: BaseException | None) -> str | None:
    """The AWS error code of an error or of the ClientError it wraps (pyathena wraps with `from`)."""
    seen = 0
    while error is not None and seen < 10:
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
            if code:
                return str(code)
        error = error.__cause__ or error.__context__
        seen += 1
    return None


def _operation(error: BaseException | None) -> str | None:
    """The AWS operation of the ClientError an error wraps, if any."""
    for _ in range(10):
        if error is None:
            return None
        name = getattr(error, "operation_name", None)
        if name:
            return str(name)
        error = error.__cause__ or error.__context__
    return None


def _is_credentials_problem(error: BaseException) -> bool:
    from botocore.exceptions import NoCredentialsError, TokenRetrievalError

    current: BaseException | None = error
    for _ in range(10):
        if current is None:
            break
        if isinstance(current, (NoCredentialsError, TokenRetrievalError)):
            return True
        current = current.__cause__ or current.__context__
    return _error_code(error) in CREDENTIAL_CODES


def _describe(error: BaseException, doing: str) -> EngineError:
    """One sentence for a failed AWS call."""
    code = _error_code(error)
    if _is_credentials_problem(error):
        return EngineError(
            f"AWS rejected the credentials ({code or type(error).__name__}) while {doing}; they are "
            "missing or expired: refresh them (for example `aws sso login`) and run again."
        )
    if code in ("AccessDenied", "AccessDeniedException"):
        return EngineError(
            f"AWS denied access while {doing} ({error}); grant the permissions listed in docs/athena.md."
        )
    detail = str(error).strip() or type(error).__name__
    return EngineError(f"Athena failed while {doing}: {detail}")


def _s3_url(url: str) -> tuple[str, str] | None:
    if not url.startswith("s3://"):
        return None
    bucket, _, key = url[len("s3://") :].partition("/")
    return (bucket, key) if bucket and key else None


@dataclass
class _State:
    ready: bool = False
    query_ids: list[str] = field(default_factory=list)
    runs: list[QueryRun] = field(default_factory=list)


class AthenaEngine:
    """Runs ctlint's usage SQL on Athena. One instance per run; not thread-safe."""

    def __init__(
        self,
        settings: AthenaSettings,
        accounts: Sequence[str],
        *,
        session: boto3.Session | None = None,
        progress: bool | None = None,
        retry_config: RetryConfig | None = None,
        stderr: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        page_size: int = 1000,
    ) -> None:
        self.settings = settings
        self.accounts = tuple(ddl.check_account(a, key="account id") for a in accounts)
        self._session = session
        self._stderr = stderr
        self._progress = progress
        self._retry_config = retry_config
        self._clock = clock
        self._page_size = page_size  # rows per GetQueryResults call (Athena's maximum is 1000)
        self._state = _State()
        self._connection: Any = None
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------ plumbing

    @property
    def err(self) -> TextIO:
        return self._stderr or sys.stderr

    def _say(self, message: str) -> None:
        print(f"ctlint: athena: {message}", file=self.err)

    def _progress_on(self) -> bool:
        if self._progress is not None:
            return self._progress
        return bool(getattr(self.err, "isatty", lambda: False)())

    def _boto_session(self) -> boto3.Session:
        if self._session is None:
            import boto3

            self._session = boto3.Session()
        return self._session

    @property
    def region(self) -> str:
        region = self.settings.region or self._boto_session().region_name
        if not region:
            raise ConfigError(
                "athena.region is not set and the AWS environment names no region; set athena.region."
            )
        return ddl.check_region(region)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            self._clients[service] = self._boto_session().client(
                service, region_name=self.region, config=Config(retries={"mode": "standard"})
            )
        return self._clients[service]

    def _cursor(self) -> Any:
        if self._connection is None:
            from botocore.config import Config
            from pyathena import connect
            from pyathena.async_cursor import AsyncCursor
            from pyathena.util import RetryConfig

            retry = self._retry_config or RetryConfig(
                exceptions=RETRYABLE_CODES, attempt=self.settings.max_attempts, multiplier=1, max_delay=30
            )
            try:
                self._connection = connect(
                    # "" (not None) keeps pyathena from reading AWS_ATHENA_S3_STAGING_DIR behind our back.
                    s3_staging_dir=self.settings.output_location or "",
                    region_name=self.region,
                    schema_name=self.settings.database,
                    work_group=self.settings.workgroup,
                    poll_interval=self.settings.poll_interval_s,
                    session=self._boto_session(),
                    retry_config=retry,
                    # One retry policy (pyathena's), not botocore's multiplied by it.
                    config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
                    cursor_class=AsyncCursor,
                    kill_on_interrupt=True,
                )
            except Exception as error:  # pyathena raises plain errors for unusable sessions
                raise _describe(error, "connecting to Athena") from None
        return self._connection.cursor(arraysize=self._page_size)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # ------------------------------------------------------------ one query

    def run_query(self, name: str, sql: str, parameters: Sequence[str] = ()) -> list[tuple]:
        """Run one statement and return all its rows, or raise EngineError (never part of them).

        `parameters` are ready SQL literals for qmark `?` placeholders (see ctlint.usage.sql.athena_literal):
        Athena substitutes ExecutionParameters as SQL text, so they must come quoted and escaped.
        """
        from pyathena.error import Error as PyAthenaError

        cursor = self._cursor()
        started = self._clock()
        try:
            try:
                if parameters:
                    query_id, future = cursor.execute(sql, list(parameters), paramstyle="qmark")
                else:
                    query_id, future = cursor.execute(sql)
            except Exception as error:
                raise _describe(error, f"starting query {name}") from None
            self._state.query_ids.append(query_id)
            if self._progress_on():
                self._say(f"query {name} started (id {query_id})")
            try:
                result_set = future.result(timeout=self.settings.query_timeout_s)
            except FutureTimeout:
                self._cancel(cursor, query_id)
                raise EngineError(
                    f"Athena query {name} (id {query_id}) did not finish within "
                    f"{self.settings.query_timeout_s:g} s and was cancelled; raise athena.query_timeout "
                    "or narrow the window."
                ) from None
            except PyAthenaError as error:
                raise self._query_failed(name, query_id, error) from None
            except Exception as error:
                raise _describe(error, f"waiting for query {name} (id {query_id})") from None
            state = getattr(result_set, "state", None)
            if state != "SUCCEEDED":
                reason = getattr(result_set, "state_change_reason", None) or "no reason given"
                raise EngineError(f"Athena query {name} (id {query_id}) ended {state}: {reason.rstrip('.')}.")
            try:
                rows = [tuple(row) for row in result_set.fetchall()]
            except Exception as error:
                raise _describe(error, f"reading the results of query {name} (id {query_id})") from None
            scanned = int(getattr(result_set, "data_scanned_in_bytes", 0) or 0)
            run = QueryRun(name, query_id, scanned, len(rows), self._clock() - started)
            self._state.runs.append(run)
            if self._progress_on():
                self._say(f"query {name} done: {len(rows)} rows, {_format_bytes(scanned)} scanned")
            return rows
        finally:
            cursor.close()

    def _query_failed(self, name: str, query_id: str, error: BaseException) -> EngineError:
        if _error_code(error) is not None:  # an API call failed, not the query itself
            doing = "reading the results of" if _operation(error) == "GetQueryResults" else "waiting for"
            return _describe(error, f"{doing} query {name} (id {query_id})")
        state = "FAILED"
        try:
            execution = self._client("athena").get_query_execution(QueryExecutionId=query_id)
            state = execution["QueryExecution"]["Status"]["State"]
        except Exception:  # the message below already names the query; the state is a bonus
            pass
        reason = str(error).strip().rstrip(".") or "Athena gave no reason"
        return EngineError(f"Athena query {name} (id {query_id}) ended {state}: {reason}.")

    def _cancel(self, cursor: Any, query_id: str) -> None:
        try:
            cursor.cancel(query_id).result(timeout=30)
        except Exception as error:  # the timeout is reported either way; say the cancel failed too
            self._say(f"could not cancel query {query_id} ({error}); stop it in the Athena console.")

    # ------------------------------------------------------------ clean-up

    def _cleanup(self) -> None:
        """Delete the result objects of every query this engine started (unless keep_results)."""
        ids, self._state.query_ids = self._state.query_ids, []
        if self.settings.keep_results or not ids:
            return
        keys: dict[str, list[str]] = {}
        for query_id in ids:
            try:
                execution = self._client("athena").get_query_execution(QueryExecutionId=query_id)
            except Exception as error:
                self._say(f"could not look up the results of query {query_id} to delete them ({error}).")
                continue
            url = execution["QueryExecution"].get("ResultConfiguration", {}).get("OutputLocation") or ""
            parsed = _s3_url(url)
            if parsed:
                bucket, key = parsed
                keys.setdefault(bucket, []).extend([key, key + ".metadata"])
            # UNLOAD also leaves a manifest of the files it wrote in the result location.
            manifest = _s3_url(
                execution["QueryExecution"].get("Statistics", {}).get("DataManifestLocation") or ""
            )
            if manifest:
                keys.setdefault(manifest[0], []).append(manifest[1])
        for bucket, bucket_keys in keys.items():
            try:
                response = self._client("s3").delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": k} for k in bucket_keys], "Quiet": True}
                )
                failed = response.get("Errors", [])
            except Exception as error:
                failed = [{"Key": k, "Message": str(error)} for k in bucket_keys]
            for item in failed:
                self._say(
                    f"could not delete query result s3://{bucket}/{item.get('Key')} "
                    f"({item.get('Message') or item.get('Code')}); delete it by hand."
                )

    def _report_cost(self) -> None:
        runs, self._state.runs = self._state.runs, []
        if not runs:
            return
        scanned = sum(run.bytes_scanned for run in runs)
        self._say(
            f"{len(runs)} queries scanned {_format_bytes(scanned)}; estimated cost "
            f"${estimated_cost_usd(runs):.4f} at ${PRICE_PER_TB_USD:g} per TB (10 MB minimum per query)."
        )

    # ------------------------------------------------------------ catalog

    def _glue_get(self, method: str, doing: str, **kwargs: Any) -> dict | None:
        try:
            return getattr(self._client("glue"), method)(**kwargs)
        except Exception as error:
            if _error_code(error) in NOT_FOUND_CODES:
                return None
            raise _describe(error, doing) from None

    def _expected_properties(self) -> dict[str, str]:
        return ddl.table_properties(self.settings.location, self.accounts, ddl.regions_for(self.region))

    def setup(self) -> list[str]:
        """Create the database and the table if missing; update a stale projection. Idempotent."""
        s = self.settings
        done: list[str] = []
        regions = ddl.regions_for(self.region)
        try:
            database = self._glue_get("get_database", f"reading Glue database {s.database}", Name=s.database)
            if database is None:
                self.run_query("create-database", ddl.create_database_sql(s.database))
                done.append(f"created Athena database {s.database}")
            table = self._glue_get(
                "get_table",
                f"reading Glue table {s.qualified_table}",
                DatabaseName=s.database,
                Name=s.table_name,
            )
            if table is None:
                self.run_query(
                    "create-table",
                    ddl.create_table_sql(s.database, s.table_name, s.location, self.accounts, regions),
                )
                done.append(
                    f"created Athena table {s.qualified_table} over {s.location.base} "
                    f"(projection: {len(self.accounts)} accounts, {len(regions)} regions, days since "
                    f"{ddl.PROJECTION_START})"
                )
            else:
                current = table["Table"].get("Parameters", {})
                expected = self._expected_properties()
                stale = sorted(k for k, v in expected.items() if current.get(k) != v)
                if stale:
                    if current.get(ddl.CREATOR_PROPERTY) != "ctlint":
                        raise EngineError(
                            f"Athena table {s.qualified_table} exists but was not created by ctlint; "
                            "set athena.table to another name."
                        )
                    self.run_query(
                        "update-table",
                        ddl.alter_table_properties_sql(
                            s.database, s.table_name, s.location, self.accounts, regions
                        ),
                    )
                    done.append(f"updated Athena table {s.qualified_table} ({', '.join(stale)})")
            done.extend(self._setup_aggregate())
            self._state.ready = True
            return done
        finally:
            self._cleanup()
            self.close()

    def _setup_aggregate(self) -> list[str]:
        """Create the aggregate table (or update its projection) when the config has aggregate_location."""
        from ctlint.usage import athena_aggregate as agg

        s = self.settings
        name, location = s.aggregate_table_name, s.aggregate_location
        if name is None or location is None:
            return []
        table = self._glue_get(
            "get_table", f"reading Glue table {s.database}.{name}", DatabaseName=s.database, Name=name
        )
        if table is None:
            columns = [(column, kind) for column, kind, _ in agg.COLUMNS]
            self.run_query(
                "create-aggregate-table", ddl.create_aggregate_table_sql(s.database, name, location, columns)
            )
            return [
                f"created Athena table {s.database}.{name} over {location} (daily aggregate, projected by day)"
            ]
        current = table["Table"].get("Parameters", {})
        stale = sorted(k for k, v in ddl.aggregate_table_properties(location).items() if current.get(k) != v)
        if not stale:
            return []
        if current.get(ddl.CREATOR_PROPERTY) != "ctlint":
            raise EngineError(
                f"Athena table {s.database}.{name} exists but was not created by ctlint; "
                "set athena.aggregate_table to another name."
            )
        self.run_query("update-aggregate-table", ddl.alter_aggregate_table_sql(s.database, name, location))
        return [f"updated Athena table {s.database}.{name} ({', '.join(stale)})"]

    def _drop_own_table(self, name: str, query_name: str) -> bool:
        """Drop table `name` of ctlint's database if it exists; True when dropped. Never another's table."""
        database = self.settings.database
        table = self._glue_get(
            "get_table", f"reading Glue table {database}.{name}", DatabaseName=database, Name=name
        )
        if table is None:
            return False
        if table["Table"].get("Parameters", {}).get(ddl.CREATOR_PROPERTY) != "ctlint":
            raise EngineError(f"Athena table {database}.{name} was not created by ctlint; not dropping it.")
        self.run_query(query_name, ddl.drop_table_sql(database, name))
        return True

    def teardown(self) -> list[str]:
        """Drop ctlint's table and, when it holds nothing else and ctlint made it, its database."""
        s = self.settings
        done: list[str] = []
        try:
            # Only the aggregate table: its Parquet files and markers stay in S3 (delete the prefix by hand).
            if s.aggregate_table_name is not None and self._drop_own_table(
                s.aggregate_table_name, "drop-aggregate-table"
            ):
                done.append(
                    f"dropped Athena table {s.database}.{s.aggregate_table_name} "
                    f"(its data stays in {s.aggregate_location})"
                )
            if self._drop_own_table(s.table_name, "drop-table"):
                done.append(f"dropped Athena table {s.qualified_table}")
            database = self._glue_get("get_database", f"reading Glue database {s.database}", Name=s.database)
            if database is not None:
                params = database["Database"].get("Parameters", {})
                tables = self._glue_get(
                    "get_tables", f"listing Glue tables of {s.database}", DatabaseName=s.database
                )
                others = [t["Name"] for t in (tables or {}).get("TableList", []) if t["Name"] != s.table_name]
                if params.get(ddl.CREATOR_PROPERTY) != "ctlint":
                    done.append(f"kept Athena database {s.database}: ctlint did not create it")
                elif others:
                    done.append(f"kept Athena database {s.database}: it holds {len(others)} other tables")
                else:
                    self.run_query("drop-database", ddl.drop_database_sql(s.database))
                    done.append(f"dropped Athena database {s.database}")
            self._state.ready = False
            return done
        finally:
            self._cleanup()
            self.close()

    # ------------------------------------------------------------ usage

    def collect(self, window: Window, accounts: Sequence[str] | None) -> RawUsage:
        """Run the usage queries for `window` (and `accounts`, or all configured) and return RawUsage.

        With an aggregate table, the window's aggregated days come from it and the rest from the trail
        (ctlint.usage.athena_aggregate.plan); the pieces are merged into one RawUsage.
        """
        from ctlint.usage import sql

        wanted = tuple(accounts) if accounts is not None else self.accounts
        unknown = [a for a in wanted if a not in self.accounts]
        if unknown:
            raise ConfigError(
                f"account {unknown[0]} is not in the Athena table's projection; add it to the config's accounts."
            )
        try:
            if not self._state.ready:
                for line in self.setup():
                    self._say(line)
            if self.settings.aggregate_location is not None:
                raw = self._collect_pieces(window, wanted)
            else:
                results = self._collect_raw(window, wanted, lookback=True)
                raw = sql.rows_to_raw_usage(window, results, engine="athena")
            self._report_cost()
            return raw
        finally:
            self._cleanup()
            self.close()

    def _collect_raw(
        self, window: Window, accounts: Sequence[str], *, lookback: bool, only: Sequence[str] | None = None
    ) -> dict[str, list[tuple]]:
        """The result rows of the usage queries over `window` on the trail (all five, or `only` these)."""
        from ctlint.usage import sql

        results: dict[str, list[tuple]] = {}
        # The connection's schema is the database; sql.usage_queries takes a bare identifier.
        queries = sql.usage_queries(self.settings.table_name, window, accounts, assume_lookback=lookback)
        for query in queries:
            if only is not None and query.name not in only:
                results[query.name] = [] if query.name != "event_stats" else [(0, 0, 0)]
                continue
            literals = [sql.athena_literal(value) for value in query.params]
            results[query.name] = self.run_query(query.name, query.text, literals)
        return results

    def _collect_pieces(self, window: Window, accounts: Sequence[str]) -> RawUsage:
        from ctlint.usage import athena_aggregate as agg
        from ctlint.usage import sql
        from ctlint.usage.merge import merge_usage

        days = agg.full_days(window)
        before = agg.lookback_day(window)
        wanted_days = [*([before] if before is not None else []), *days]
        valid = self._valid_days(wanted_days, accounts, quiet_for={before} if before else set())
        pieces = agg.plan(window, valid)
        parts: list[RawUsage] = []
        from_table = from_trail = 0
        for piece in pieces:
            span = Window(piece.start, piece.end)
            if piece.kind == "aggregate":
                parts.extend(self._read_aggregate(span, piece))
                from_table += piece.days
            elif piece.kind == "lookback":
                rows = self._collect_raw(span, accounts, lookback=False, only=("assume_role",))
                parts.append(sql.rows_to_raw_usage(span, rows, engine="athena"))
            else:
                rows = self._collect_raw(span, accounts, lookback=piece.lookback)
                parts.append(sql.rows_to_raw_usage(span, rows, engine="athena"))
                from_trail += len([d for d in days if piece.start <= agg.midnight(d) < piece.end])
        note = (
            f"{agg.count_days(from_table)} from the aggregate table {self.settings.aggregate_table_name}, "
            f"{from_trail} from the trail"
        )
        edges = [
            w for w in (window.start, window.end) if w != agg.midnight(w.astimezone(timezone.utc).date())
        ]
        if edges:
            note += f" (plus {len(edges)} partial day{'s' if len(edges) > 1 else ''} from the trail)"
        self._say(note + ".")
        return merge_usage(window, parts, engine="athena")

    def _read_aggregate(self, span: Window, piece: athena_aggregate.Piece) -> list[RawUsage]:
        from ctlint.usage import athena_aggregate as agg
        from ctlint.usage import sql

        name = self.settings.aggregate_table_name
        assert name is not None
        first = span.start.astimezone(timezone.utc).date()
        last = first + agg.ONE_DAY * (piece.days - 1)
        query = agg.range_query(name, first, last, piece.tail_day)
        rows = self.run_query("aggregate", query.text, [sql.athena_literal(v) for v in query.params])
        results, tail = agg.split_range_rows(rows, query.days)
        parts = [sql.rows_to_raw_usage(span, results, engine="athena")]
        if tail:
            empty = {n: [] for n in sql.QUERY_NAMES} | {"event_stats": [(0, 0, 0)], "assume_role": tail}
            parts.append(sql.rows_to_raw_usage(span, empty, engine="athena"))
        return parts

    # ------------------------------------------------------------ the daily aggregate

    def _aggregate_bucket(self) -> tuple[str, str]:
        location = self.settings.aggregate_location
        if location is None:
            raise ConfigError(
                "the config's athena block has no aggregate_location; add one (s3://bucket/prefix/) "
                "to use the daily aggregate table."
            )
        bucket, _, prefix = location[len("s3://") :].partition("/")
        return bucket, prefix

    def _s3_call(self, method: str, doing: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client("s3"), method)(**kwargs)
        except Exception as error:
            raise _describe(error, doing) from None

    def _marked_days(self) -> set[str]:
        """The days that have a marker object (not yet checked), as 'YYYY-MM-DD'."""
        from ctlint.usage import athena_aggregate as agg

        bucket, prefix = self._aggregate_bucket()
        found: set[str] = set()
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix + agg.MARKER_DIR}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._s3_call(
                "list_objects_v2", f"listing the aggregate markers in s3://{bucket}/{prefix}", **kwargs
            )
            for item in page.get("Contents", []):
                stem = item["Key"].rsplit("/", 1)[-1]
                if stem.endswith(".json"):
                    found.add(stem[: -len(".json")])
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return found

    def _valid_days(
        self,
        days: Sequence[date],
        accounts: Sequence[str],
        *,
        quiet_for: Collection[date] = (),
        then: str = "reading them from the trail (rewrite them with `ctlint athena aggregate --force`)",
    ) -> set[date]:
        """The days whose marker is valid for `accounts`; says on stderr why marked days are not used."""
        from ctlint.usage import athena_aggregate as agg

        bucket, prefix = self._aggregate_bucket()
        marked = self._marked_days()
        valid: set[date] = set()
        refused: dict[str, list[date]] = {}
        for day in days:
            if agg.day_text(day) not in marked:
                continue
            key = agg.marker_key(prefix, day)
            body = self._s3_call(
                "get_object", f"reading the aggregate marker s3://{bucket}/{key}", Bucket=bucket, Key=key
            )
            try:
                content = body["Body"].read()
            except Exception as error:
                raise _describe(error, f"reading the aggregate marker s3://{bucket}/{key}") from None
            reason = agg.check_marker(content, day, accounts, self.settings.location.base)
            if reason is None:
                valid.add(day)
            elif day not in quiet_for:
                refused.setdefault(reason, []).append(day)
        for reason, refused_days in refused.items():
            self._say(
                f"{agg.count_days(len(refused_days))} ({agg.describe_days(refused_days)}) {reason}; {then}."
            )
        return valid

    def _delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object under `prefix` (paginated, 1000 per request); returns how many."""
        deleted = 0
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = self._s3_call("list_objects_v2", f"listing s3://{bucket}/{prefix}", **kwargs)
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                answer = self._s3_call(
                    "delete_objects",
                    f"deleting s3://{bucket}/{prefix}",
                    Bucket=bucket,
                    Delete={"Objects": keys, "Quiet": True},
                )
                if answer.get("Errors"):
                    first = answer["Errors"][0]
                    raise EngineError(
                        f"could not delete s3://{bucket}/{first.get('Key')} ({first.get('Code')}: "
                        f"{first.get('Message')}) before rewriting the day; nothing was written."
                    )
                deleted += len(keys)
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return deleted

    def aggregate(
        self, days: Sequence[date], *, force: bool = False, now: Callable[[], datetime] | None = None
    ) -> list[str]:
        """Write each day of `days` into the aggregate table (skipping days with a valid marker unless
        `force`); returns one line per day written or skipped. Idempotent."""
        from ctlint.usage import athena_aggregate as agg
        from ctlint.usage import sql

        s = self.settings
        bucket, prefix = self._aggregate_bucket()
        name = s.aggregate_table_name
        assert name is not None and s.aggregate_location is not None
        clock = now or (lambda: datetime.now(timezone.utc))
        done: list[str] = []
        try:
            if not self._state.ready:
                for line in self.setup():
                    self._say(line)
            valid = set() if force else self._valid_days(days, self.accounts, then="writing them again")
            skipped = [d for d in days if d in valid]
            if skipped:
                self._say(
                    f"{agg.count_days(len(skipped))} already aggregated ({agg.describe_days(skipped)}); "
                    "--force rewrites them."
                )
            for day in days:
                if day in valid:
                    continue
                marker = agg.marker_key(prefix, day)
                # The marker goes first: a run that stops half-way leaves the day unmarked, never wrong.
                self._s3_call("delete_object", f"deleting s3://{bucket}/{marker}", Bucket=bucket, Key=marker)
                day_prefix = f"{prefix}day={agg.day_text(day)}/"
                removed = self._delete_prefix(bucket, day_prefix)
                statement = agg.day_statement(s.table_name, s.aggregate_location, day, self.accounts)
                literals = [sql.athena_literal(v) for v in statement.params]
                self.run_query(f"aggregate {agg.day_text(day)}", statement.unload, literals)
                unload = self._state.runs[-1]
                counts = self.run_query(
                    f"verify {agg.day_text(day)}",
                    agg.verify_sql(name),
                    [sql.athena_literal(agg.day_text(day))],
                )
                rows = {str(q): int(n) for q, n in counts}
                if rows.get("event_stats") != 1:
                    raise EngineError(
                        f"the aggregate table {s.database}.{name} does not read back day {agg.day_text(day)} "
                        f"after UNLOAD to {statement.location} (got {rows or 'no rows'}); check its location "
                        "and projection (`ctlint athena setup`)."
                    )
                written = agg.Marker(
                    day=day,
                    accounts=self.accounts,
                    trail=s.location.base,
                    rows=rows,
                    written_at=clock().astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                )
                self._s3_call(
                    "put_object",
                    f"writing s3://{bucket}/{marker}",
                    Bucket=bucket,
                    Key=marker,
                    Body=written.to_json().encode(),
                    ContentType="application/json",
                )
                line = (
                    f"aggregated {agg.day_text(day)}: {sum(rows.values())} rows, "
                    f"{_format_bytes(unload.bytes_scanned)} scanned"
                    + (f" (replaced {removed} objects)" if removed else "")
                )
                self._say(line)
                done.append(line)
            self._report_cost()
            return done
        finally:
            self._cleanup()
            self.close()
