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

import dataclasses
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from ctlint.errors import ConfigError, EngineError
from ctlint.model import RawUsage, Window
from ctlint.usage import athena_ddl as ddl
from ctlint.usage import athena_glue, athena_writer
from ctlint.usage.athena_errors import RETRYABLE_CODES, describe, error_code, operation
from ctlint.usage.athena_settings import AthenaSettings, normalize_output_location

if TYPE_CHECKING:  # imported lazily at run time: boto3 and pyathena cost ~0.3 s to import
    import boto3
    from pyathena.util import RetryConfig

    from ctlint.usage import athena_aggregate

PRICE_PER_TB_USD = 5.0
MIN_BILLED_BYTES = 10 * 1024 * 1024  # Athena bills at least 10 MB per query

__all__ = ["AthenaEngine", "AthenaSettings", "QueryRun", "estimated_cost_usd", "normalize_output_location"]


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


def format_bytes(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    return f"{count} B"  # pragma: no cover


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

    # The trail's records are read by Athena's SerDe, not by ctlint: none is dropped here to count.
    records_skipped = 0

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

    def say(self, message: str) -> None:
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

    def client(self, service: str) -> Any:
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
                raise describe(error, "connecting to Athena") from None
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
                raise describe(error, f"starting query {name}") from None
            self._state.query_ids.append(query_id)
            if self._progress_on():
                self.say(f"query {name} started (id {query_id})")
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
                raise describe(error, f"waiting for query {name} (id {query_id})") from None
            state = getattr(result_set, "state", None)
            if state != "SUCCEEDED":
                reason = getattr(result_set, "state_change_reason", None) or "no reason given"
                raise EngineError(f"Athena query {name} (id {query_id}) ended {state}: {reason.rstrip('.')}.")
            try:
                rows = [tuple(row) for row in result_set.fetchall()]
            except Exception as error:
                raise describe(error, f"reading the results of query {name} (id {query_id})") from None
            scanned = int(getattr(result_set, "data_scanned_in_bytes", 0) or 0)
            run = QueryRun(name, query_id, scanned, len(rows), self._clock() - started)
            self._state.runs.append(run)
            if self._progress_on():
                self.say(f"query {name} done: {len(rows)} rows, {format_bytes(scanned)} scanned")
            return rows
        finally:
            cursor.close()

    def _query_failed(self, name: str, query_id: str, error: BaseException) -> EngineError:
        if error_code(error) is not None:  # an API call failed, not the query itself
            doing = "reading the results of" if operation(error) == "GetQueryResults" else "waiting for"
            return describe(error, f"{doing} query {name} (id {query_id})")
        state = "FAILED"
        try:
            execution = self.client("athena").get_query_execution(QueryExecutionId=query_id)
            state = execution["QueryExecution"]["Status"]["State"]
        except Exception:  # the message below already names the query; the state is a bonus
            pass
        reason = str(error).strip().rstrip(".") or "Athena gave no reason"
        return EngineError(f"Athena query {name} (id {query_id}) ended {state}: {reason}.")

    def _cancel(self, cursor: Any, query_id: str) -> None:
        try:
            cursor.cancel(query_id).result(timeout=30)
        except Exception as error:  # the timeout is reported either way; say the cancel failed too
            self.say(f"could not cancel query {query_id} ({error}); stop it in the Athena console.")

    # ------------------------------------------------------------ clean-up

    def cleanup(self) -> None:
        """Delete the result objects of every query this engine started (unless keep_results)."""
        ids, self._state.query_ids = self._state.query_ids, []
        if self.settings.keep_results or not ids:
            return
        keys: dict[str, list[str]] = {}
        for query_id in ids:
            try:
                execution = self.client("athena").get_query_execution(QueryExecutionId=query_id)
            except Exception as error:
                self.say(f"could not look up the results of query {query_id} to delete them ({error}).")
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
                response = self.client("s3").delete_objects(
                    Bucket=bucket, Delete={"Objects": [{"Key": k} for k in bucket_keys], "Quiet": True}
                )
                failed = response.get("Errors", [])
            except Exception as error:
                failed = [{"Key": k, "Message": str(error)} for k in bucket_keys]
            for item in failed:
                self.say(
                    f"could not delete query result s3://{bucket}/{item.get('Key')} "
                    f"({item.get('Message') or item.get('Code')}); delete it by hand."
                )

    def report_cost(self) -> None:
        runs, self._state.runs = self._state.runs, []
        if not runs:
            return
        scanned = sum(run.bytes_scanned for run in runs)
        trail = [run for run in runs if run.name == "compact-scan"]
        once = (
            f" (the trail read {'once' if len(trail) == 1 else f'{len(trail)} times'}: "
            f"{format_bytes(sum(run.bytes_scanned for run in trail))})"
            if trail
            else ""
        )
        self.say(
            f"{len(runs)} queries scanned {format_bytes(scanned)}{once}; estimated cost "
            f"${estimated_cost_usd(runs):.4f} at ${PRICE_PER_TB_USD:g} per TB (10 MB minimum per query)."
        )

    @property
    def ready(self) -> bool:
        """True once `setup()` has made (or found) the Glue objects in this run."""
        return self._state.ready

    @ready.setter
    def ready(self, value: bool) -> None:
        self._state.ready = value

    @property
    def last_run(self) -> QueryRun:
        return self._state.runs[-1]

    # ------------------------------------------------------------ catalog and aggregate (other modules)

    def setup(self) -> list[str]:
        """Create the database and the table if missing; update a stale projection. Idempotent."""
        return athena_glue.setup(self)

    def teardown(self) -> list[str]:
        """Drop ctlint's table and, when it holds nothing else and ctlint made it, its database."""
        return athena_glue.teardown(self)

    def aggregate(
        self, days: Sequence[date], *, force: bool = False, now: Callable[[], datetime] | None = None
    ) -> list[str]:
        """Write each day of `days` into the aggregate table; see ctlint.usage.athena_writer.aggregate."""
        return athena_writer.aggregate(self, days, force=force, now=now)

    def valid_days(self, days: Sequence[date], accounts: Sequence[str], **kwargs: Any) -> set[date]:
        """The days of `days` the aggregate table holds validly for `accounts` (athena_writer.valid_days)."""
        return athena_writer.valid_days(self, days, accounts, **kwargs)

    # ------------------------------------------------------------ usage

    def collect(self, window: Window, accounts: Sequence[str] | None, *, resources: bool = False) -> RawUsage:
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
                    self.say(line)
            if self.settings.aggregate_location is not None and not resources:
                raw = self._collect_pieces(window, wanted)
            else:
                if self.settings.aggregate_location is not None:
                    self.say(
                        "resources are not in the aggregate table: the whole window is read from the trail."
                    )
                results = self._collect_raw(window, wanted, lookback=True, resources=resources)
                raw = sql.rows_to_raw_usage(window, results, engine="athena")
                if resources:
                    from ctlint.usage.resource_rows import resource_rows

                    raw = dataclasses.replace(raw, resources=resource_rows(results[sql.RESOURCE_QUERY]))
            self.report_cost()
            return raw
        finally:
            self.cleanup()
            self.close()

    def _collect_raw(
        self,
        window: Window,
        accounts: Sequence[str],
        *,
        lookback: bool,
        only: Sequence[str] | None = None,
        resources: bool = False,
    ) -> dict[str, list[tuple]]:
        """The result rows of the usage queries over `window` on the trail (all five, or `only` these).

        More than one query reads the trail once (ctlint.usage.athena_scan): a CTAS of the window's
        compact rows, which the queries then read instead of the trail, and which is dropped after.
        """
        from ctlint.usage import athena_scan, sql

        wanted = [name for name in sql.QUERY_NAMES if only is None or name in only]
        source = self.settings.table_name
        scan = None
        if len(wanted) > 1:
            scan = athena_scan.compact_scan(
                self.settings.database,
                source,
                window,
                tuple(accounts),
                output_location=self.settings.output_location,
                resources=resources,
            )
            literals = [sql.athena_literal(value) for value in scan.select.params]
            self.run_query("compact-scan", scan.statement, literals)
            source = scan.table
        try:
            results: dict[str, list[tuple]] = {}
            # The connection's schema is the database; sql.usage_queries takes a bare identifier.
            for query in sql.usage_queries(source, window, accounts, assume_lookback=lookback):
                if query.name not in wanted:
                    results[query.name] = [] if query.name != "event_stats" else [(0, 0, 0)]
                    continue
                literals = [sql.athena_literal(value) for value in query.params]
                results[query.name] = self.run_query(query.name, query.text, literals)
            if resources:  # on the scan table: the trail is still read once
                query = sql.resource_query(source, window, accounts)
                literals = [sql.athena_literal(value) for value in query.params]
                results[query.name] = self.run_query(query.name, query.text, literals)
            return results
        finally:
            if scan is not None:
                athena_scan.drop_scan(self, scan)

    def _collect_pieces(self, window: Window, accounts: Sequence[str]) -> RawUsage:
        from ctlint.usage import athena_aggregate as agg
        from ctlint.usage import sql
        from ctlint.usage.merge import merge_usage

        days = agg.full_days(window)
        before = agg.lookback_day(window)
        wanted_days = [*([before] if before is not None else []), *days]
        valid = self.valid_days(wanted_days, accounts, quiet_for={before} if before else set())
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
        self.say(note + ".")
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
            empty: dict[str, list[tuple]] = {n: [] for n in sql.QUERY_NAMES} | {
                "event_stats": [(0, 0, 0)],
                "assume_role": tail,
            }
            parts.append(sql.rows_to_raw_usage(span, empty, engine="athena"))
        return parts

    # ------------------------------------------------------------ the daily aggregate
