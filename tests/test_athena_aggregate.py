"""The daily aggregate table (`ctlint athena aggregate`) and checks that read it, offline.

The key property: for any window, the per-day aggregate SQL (the very SELECT sent inside UNLOAD, run
on DuckDB through the project's transpile path) for the window's aggregated days, merged with raw
trail pieces for the rest, equals the single raw query over the whole window (RawUsage equality).

Under moto, a small Athena stand-in answers every statement on DuckDB: SELECTs are run and their rows
queued as moto results; an UNLOAD runs its SELECT and appends the rows, with the day of its TO
location, to a DuckDB copy of the aggregate table (and leaves a part file in moto's S3, refusing a
non-empty destination as Athena does).
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import boto3
import duckdb
import pytest
from cloudtrail_factory import (
    assume_role_event,
    assumed_role,
    event,
    iam_user,
    role_arn,
    root,
    write_s3_layout,
)
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from test_athena_engine import FAST_RETRY, REGION, aws, executions, queue_results, settings  # noqa: F401
from test_athena_equivalence import athena_table, splice

from ctlint.cli import main
from ctlint.commands import athena as athena_command
from ctlint.errors import ConfigError, EngineError
from ctlint.model import RawUsage, Window
from ctlint.usage import athena_aggregate as agg
from ctlint.usage import athena_ddl as ddl
from ctlint.usage.athena import AthenaEngine, AthenaSettings
from ctlint.usage.merge import merge_usage
from ctlint.usage.sql import QUERY_NAMES, rows_to_raw_usage, to_duckdb, usage_queries

A, B = "111111111111", "222222222222"
ACCOUNTS = (A, B)
AGG_BUCKET = "agg-bucket"
AGG_LOCATION = f"s3://{AGG_BUCKET}/ctlint/daily/"
FIRST, LAST = date(2026, 6, 1), date(2026, 6, 7)  # the fixture's days


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---------------------------------------------------------------- fixture logs


def records() -> list[dict]:
    alice, bob = iam_user(A, "alice"), iam_user(A, "bob")
    admin, deploy = role_arn(A, "admin"), role_arn(B, "deploy")
    out = [
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-01T00:00:00Z"),  # exactly midnight
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-02T10:00:00Z"),
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-05T10:00:00Z"),
        event(alice, "iam.amazonaws.com", "ListUsers", "2026-06-03T11:00:00Z", error_code="AccessDenied"),
        event(alice, "iam.amazonaws.com", "ListUsers", "2026-06-06T23:59:59Z"),
        event(bob, "ec2.amazonaws.com", "DescribeInstances", "2026-06-04T06:00:00Z", region="eu-west-1"),
        event(root(B), "iam.amazonaws.com", "GetAccountSummary", "2026-06-07T23:59:59Z"),
        event(None, "signin.amazonaws.com", "ConsoleLogin", "2026-06-05T08:00:00Z", account=B),
        # A session assumed before the window (in its 12 h lookback) and used on its first day.
        assume_role_event(alice, admin, "ASIAEARLY0000000001", "2026-05-31T20:00:00Z"),
        event(
            assumed_role(A, "admin", "alice", "ASIAEARLY0000000001"),
            "iam.amazonaws.com",
            "GetUser",
            "2026-06-01T02:00:00Z",
        ),
        # Sessions crossing midnight (assumed in a day's last 12 h, used after midnight).
        assume_role_event(alice, admin, "ASIAMIDNIGHT0000001", "2026-06-02T23:30:00Z"),
        event(
            assumed_role(A, "admin", "alice", "ASIAMIDNIGHT0000001"),
            "iam.amazonaws.com",
            "CreateUser",
            "2026-06-02T23:45:00Z",
        ),
        event(
            assumed_role(A, "admin", "alice", "ASIAMIDNIGHT0000001"),
            "iam.amazonaws.com",
            "CreateUser",
            "2026-06-03T00:30:00Z",
        ),
        assume_role_event(bob, deploy, "ASIALATE00000000001", "2026-06-05T22:00:00Z"),
        event(
            assumed_role(B, "deploy", "bob", "ASIALATE00000000001"),
            "cloudformation.amazonaws.com",
            "CreateStack",
            "2026-06-06T03:00:00Z",
        ),
        # Role chaining: admin (a session of alice) assumes deploy.
        assume_role_event(
            assumed_role(A, "admin", "alice", "ASIAMIDNIGHT0000001"),
            deploy,
            "ASIACHAIN0000000001",
            "2026-06-03T00:40:00Z",
        ),
        event(
            assumed_role(B, "deploy", "chain", "ASIACHAIN0000000001"),
            "s3.amazonaws.com",
            "ListBuckets",
            "2026-06-03T01:00:00Z",
        ),
    ]
    # Cross-account: logged in both accounts with the same request id (counts once).
    cross_a = assume_role_event(bob, deploy, "ASIACROSS0000000001", "2026-06-04T09:00:00Z", account=A)
    cross_b = assume_role_event(bob, deploy, "ASIACROSS0000000001", "2026-06-04T09:00:00Z", account=B)
    cross_b["requestID"] = cross_a["requestID"]
    out += [cross_a, cross_b]
    out.append(
        event(
            assumed_role(B, "deploy", "bob", "ASIACROSS0000000001"),
            "s3.amazonaws.com",
            "ListBuckets",
            "2026-06-04T09:10:00Z",
        )
    )
    # CloudTrail can deliver the same file twice: duplicates count once.
    out += [dict(out[1]), dict(out[10])]
    return out


@pytest.fixture(scope="module")
def trail_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_s3_layout(tmp_path_factory.mktemp("trail") / "logs", records())


def aggregate_settings(**overrides) -> AthenaSettings:
    return settings(aggregate_location=AGG_LOCATION, **overrides)


def duck(files: list[Path], s: AthenaSettings) -> duckdb.DuckDBPyConnection:
    """The trail table and an empty aggregate table, as Athena sees them."""
    con = athena_table(files, s.table_name)
    columns = [*((name, "VARCHAR" if kind == "string" else "BIGINT") for name, kind, _ in agg.COLUMNS)]
    con.execute(
        f"CREATE TABLE {s.aggregate_table_name} ("
        + ", ".join(f'"{n}" {t}' for n, t in [*columns, ("day", "VARCHAR")])
        + ")"
    )
    return con


CTAS_RE = re.compile(r'CREATE TABLE "\w+"\."(?P<table>\w+)"\s+WITH \([^)]*\)\s+AS (?P<select>.*)\Z', re.S)
DROP_RE = re.compile(r"DROP TABLE IF EXISTS `\w+`\.`(?P<table>\w+)`\Z")


def run_on_duckdb(con: duckdb.DuckDBPyConnection, text: str, literals: list[str]) -> list[tuple]:
    if ctas := CTAS_RE.match(text):  # the compact scan: the same SELECT, made a table
        con.execute(f"CREATE TABLE {ctas['table']} AS {to_duckdb(splice(ctas['select'], literals))}")
        return []
    if drop := DROP_RE.match(text):
        con.execute(f"DROP TABLE IF EXISTS {drop['table']}")
        return []
    return con.execute(to_duckdb(splice(text, literals))).fetchall()


class EmptyS3:
    """S3 for the DuckDB-backed engine: the compact scan's location holds nothing to delete."""

    def __init__(self) -> None:
        self.listed: list[str] = []

    def list_objects_v2(self, **kwargs) -> dict:
        self.listed.append(f"s3://{kwargs['Bucket']}/{kwargs['Prefix']}")
        return {"Contents": []}


UNLOAD_RE = re.compile(r"^UNLOAD \(\n(?P<select>.*)\n\)\nTO '(?P<to>[^']+)'\nWITH \(.*\)$", re.S)


def unload_into(con: duckdb.DuckDBPyConnection, table: str, text: str, literals: list[str]) -> str:
    """What Athena's UNLOAD does to our table: the SELECT's rows land in the day of the TO location."""
    match = UNLOAD_RE.match(text)
    assert match, text[:200]
    day = re.search(r"/day=(\d{4}-\d{2}-\d{2})/$", match["to"])
    assert day, match["to"]
    rows = run_on_duckdb(con, match["select"], literals)
    con.execute(f'DELETE FROM {table} WHERE "day" = ?', [day[1]])  # the files were deleted before
    marks = ", ".join("?" for _ in range(len(agg.COLUMNS) + 1))
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", [[*row, day[1]] for row in rows])
    return match["to"]


def raw_on_duckdb(con: duckdb.DuckDBPyConnection, s: AthenaSettings, window: Window) -> RawUsage:
    """The single raw query over the whole window: what a check without the aggregate table gets."""
    results = {
        q.name: run_on_duckdb(con, q.text, [f"'{p}'" for p in q.params])
        for q in usage_queries(s.table_name, window, ACCOUNTS)
    }
    return rows_to_raw_usage(window, results, engine="athena")


def duck_engine(
    con: duckdb.DuckDBPyConnection, s: AthenaSettings, aggregated: set[date]
) -> tuple[AthenaEngine, io.StringIO]:
    """The real engine, its Athena and marker I/O replaced by DuckDB and a set of marked days."""
    err = io.StringIO()
    made = AthenaEngine(s, ACCOUNTS, progress=False, stderr=err)
    made._state.ready = True
    made.run_query = lambda name, text, literals=(): run_on_duckdb(con, text, list(literals))  # type: ignore[method-assign]
    s3 = EmptyS3()
    made.client = lambda service: s3  # type: ignore[method-assign]
    made.valid_days = lambda days, accounts, quiet_for=(): {d for d in days if d in aggregated}  # type: ignore[method-assign]
    return made, err


def fill_aggregate(con: duckdb.DuckDBPyConnection, s: AthenaSettings, days: list[date]) -> None:
    for day in days:
        statement = agg.day_statement(s.table_name, AGG_LOCATION, day, ACCOUNTS)
        unload_into(con, s.aggregate_table_name, statement.unload, [f"'{p}'" for p in statement.params])


ALL_DAYS = [date(2026, 5, 30) + timedelta(days=i) for i in range(10)]


@pytest.fixture(scope="module")
def filled(trail_files: list[Path]) -> tuple[duckdb.DuckDBPyConnection, AthenaSettings]:
    s = aggregate_settings()
    con = duck(trail_files, s)
    fill_aggregate(con, s, ALL_DAYS)
    return con, s


# ---------------------------------------------------------------- the key property


@pytest.mark.parametrize(
    ("start", "end", "aggregated"),
    [
        ("2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", "all"),  # day-aligned: lookback from the tail
        ("2026-06-01T00:00:00Z", "2026-06-08T00:00:00Z", "window"),  # day before missing: lookback piece
        ("2026-06-01T07:30:00Z", "2026-06-07T15:00:00Z", "all"),  # partial days at both ends
        ("2026-06-02T23:40:00Z", "2026-06-06T02:00:00Z", "all"),  # starts inside a midnight session
        ("2026-06-01T12:00:00Z", "2026-06-08T00:00:00Z", "gaps"),  # raw runs between aggregated runs
        ("2026-06-03T00:00:00Z", "2026-06-04T00:00:00Z", "all"),  # a single aggregated day
        ("2026-06-03T05:00:00Z", "2026-06-03T20:00:00Z", "all"),  # inside one day: raw only
    ],
)
def test_aggregated_days_merged_with_trail_pieces_equal_the_raw_window(
    filled: tuple[duckdb.DuckDBPyConnection, AthenaSettings], start: str, end: str, aggregated: str
) -> None:
    con, s = filled
    window = Window(utc(start), utc(end))
    days = {
        "all": set(ALL_DAYS),
        "window": {d for d in ALL_DAYS if d >= window.start.date()},
        "gaps": {date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 5), date(2026, 6, 7)},
    }[aggregated]
    expected = raw_on_duckdb(con, s, window)
    assert expected.stats.read and (window.end - window.start < timedelta(days=1) or expected.sessions)
    made, err = duck_engine(con, s, days)
    actual = made.collect(window, ACCOUNTS)
    assert actual == expected
    if agg.full_days(window) and aggregated == "all":
        assert "from the aggregate table" in err.getvalue()


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start_hour=st.integers(min_value=0, max_value=24 * 7 - 1),
    hours=st.integers(min_value=1, max_value=24 * 7),
    aggregated=st.sets(st.sampled_from(ALL_DAYS)),
)
def test_property_any_window_any_aggregated_days(
    filled: tuple[duckdb.DuckDBPyConnection, AthenaSettings],
    start_hour: int,
    hours: int,
    aggregated: set[date],
) -> None:
    con, s = filled
    start = utc("2026-06-01T00:00:00Z") + timedelta(hours=start_hour)
    window = Window(start, min(start + timedelta(hours=hours), utc("2026-06-08T12:00:00Z")))
    made, _ = duck_engine(con, s, aggregated)
    assert made.collect(window, ACCOUNTS) == raw_on_duckdb(con, s, window)


def test_without_the_lookback_parameter_pieces_would_double_count(
    filled: tuple[duckdb.DuckDBPyConnection, AthenaSettings],
) -> None:
    """Why non-first pieces count assumptions from their own start: the naive split double counts."""
    con, s = filled
    window = Window(utc("2026-06-02T12:00:00Z"), utc("2026-06-04T12:00:00Z"))
    cut = utc("2026-06-03T06:00:00Z")
    parts = []
    for piece in (Window(window.start, cut), Window(cut, window.end)):
        results = {
            q.name: run_on_duckdb(con, q.text, [f"'{p}'" for p in q.params])
            for q in usage_queries(s.table_name, piece, ACCOUNTS)  # lookback in every piece
        }
        parts.append(rows_to_raw_usage(piece, results, engine="athena"))
    naive = merge_usage(window, parts, engine="athena")
    expected = raw_on_duckdb(con, s, window)
    assert naive.rows == expected.rows and naive.sessions == expected.sessions
    assert naive.assumptions != expected.assumptions


def test_plan_splits_a_window_into_trail_and_table_pieces() -> None:
    window = Window(utc("2026-06-01T07:00:00Z"), utc("2026-06-07T15:00:00Z"))
    marked = {date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 5)}
    pieces = agg.plan(window, marked)
    assert [(p.kind, p.start.isoformat()[:13], p.end.isoformat()[:13], p.lookback) for p in pieces] == [
        ("raw", "2026-06-01T07", "2026-06-02T00", True),
        ("aggregate", "2026-06-02T00", "2026-06-04T00", False),
        ("raw", "2026-06-04T00", "2026-06-05T00", False),
        ("aggregate", "2026-06-05T00", "2026-06-06T00", False),
        ("raw", "2026-06-06T00", "2026-06-07T15", False),
    ]
    assert agg.plan(window, set()) == (agg.Piece("raw", window.start, window.end, lookback=True),)
    aligned = Window(utc("2026-06-02T00:00:00Z"), utc("2026-06-04T00:00:00Z"))
    assert agg.plan(aligned, marked)[0].kind == "lookback"  # June 1 is not aggregated
    assert agg.plan(aligned, marked | {date(2026, 6, 1)}) == (
        agg.Piece("aggregate", aligned.start, aligned.end, tail_day=date(2026, 6, 1)),
    )


def test_missing_day_data_behind_a_marker_is_an_error_not_zero(
    trail_files: list[Path],
) -> None:
    s = aggregate_settings()
    con = duck(trail_files, s)
    fill_aggregate(con, s, [date(2026, 6, 2)])  # June 3 is "marked" but has no rows
    made, _ = duck_engine(con, s, {date(2026, 6, 2), date(2026, 6, 3)})
    window = Window(utc("2026-06-01T12:00:00Z"), utc("2026-06-05T00:00:00Z"))
    with pytest.raises(EngineError, match="holds 1 of 2 marked days"):
        made.collect(window, ACCOUNTS)


# ---------------------------------------------------------------- settings and DDL


def test_aggregate_settings_are_validated() -> None:
    s = AthenaSettings.from_mapping(
        {"s3_bucket": "logs-bucket", "aggregate_location": "agg-bucket/x"}, where="c.yaml: athena"
    )
    assert s.aggregate_location == "s3://agg-bucket/x/"
    assert s.aggregate_table_name == f"{s.table_name}_daily"
    for block, needle in [
        ({"aggregate_location": "s3://agg-bucket/a'b/"}, "athena.aggregate_location"),
        ({"aggregate_location": "s3://logs-bucket/AWSLogs/agg/"}, "lies in the trail's logs"),
        ({"aggregate_table": "t"}, "needs athena.aggregate_location"),
        ({"aggregate_location": "s3://agg-bucket/", "aggregate_table": "T-1"}, "athena.aggregate_table"),
        ({"aggregate_locaton": "s3://agg-bucket/"}, "did you mean 'aggregate_location'"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(needle)):
            AthenaSettings.from_mapping({"s3_bucket": "logs-bucket", **block}, where="c.yaml: athena")


def test_config_schema_accepts_aggregate_location(tmp_path: Path) -> None:
    from ctlint.config import load_config

    (tmp_path / "iam.json").write_text("{}")
    path = tmp_path / "c.yaml"
    path.write_text(
        "athena:\n  s3_bucket: logs-bucket\n  aggregate_location: s3://agg-bucket/x/\n"
        "accounts:\n  - {name: a, id: '111111111111', iam: iam.json}\n"
    )
    assert load_config(path).athena["aggregate_location"] == "s3://agg-bucket/x/"
    path.write_text(path.read_text().replace("aggregate_location", "aggregate_locatoin"))
    with pytest.raises(ConfigError, match="did you mean 'aggregate_location'"):
        load_config(path)


def test_aggregate_table_ddl_is_parquet_with_day_projection() -> None:
    columns = [(n, k) for n, k, _ in agg.COLUMNS]
    text = ddl.create_aggregate_table_sql("ctlint", "trail_daily", "s3://agg-bucket/x/", columns)
    assert "PARTITIONED BY (`day` string)" in text and "STORED AS PARQUET" in text
    assert "LOCATION 's3://agg-bucket/x/'" in text
    for prop in (
        "'projection.enabled'='true'",
        "'projection.day.type'='date'",
        "'projection.day.format'='yyyy-MM-dd'",
        "'projection.day.range'='2013-01-01,NOW'",
        "'storage.location.template'='s3://agg-bucket/x/day=${day}/'",
        "'ctlint.creator'='ctlint'",
    ):
        assert prop in text
    with pytest.raises(ConfigError):
        ddl.create_aggregate_table_sql("ctlint", "trail_daily", "s3://agg-bucket/x'/", columns)


# ---------------------------------------------------------------- under moto


class FakeAthena:
    """Answers the engine's statements on DuckDB (see the module docstring); records UNLOAD targets."""

    def __init__(self, session: boto3.Session, con: duckdb.DuckDBPyConnection, s: AthenaSettings) -> None:
        self.con, self.settings, self.unloads = con, s, []
        self.s3 = session.client("s3", region_name=REGION)
        session.events.register("after-call.athena.StartQueryExecution", self.answer)

    def answer(self, **kwargs) -> None:
        if "QueryExecutionId" not in kwargs["parsed"]:
            return
        execution = next(e for e in executions() if e.id == kwargs["parsed"]["QueryExecutionId"])
        literals = list(execution.execution_parameters or [])
        text = execution.query
        if CTAS_RE.match(text):
            run_on_duckdb(self.con, text, literals)
        elif text.startswith("UNLOAD"):
            to = UNLOAD_RE.match(text)["to"]
            bucket, _, prefix = to[len("s3://") :].partition("/")
            assert self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix)["KeyCount"] == 0, (
                "UNLOAD needs an empty location"
            )
            unload_into(self.con, self.settings.aggregate_table_name, text, literals)
            self.s3.put_object(Bucket=bucket, Key=prefix + "part-0.snappy.parquet", Body=b"PAR1")
            self.unloads.append(to)
        elif text.lstrip().upper().startswith(("WITH", "SELECT")):
            cursor = self.con.execute(to_duckdb(splice(text, literals)))
            header = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
            queue_results(header, [[None if v is None else str(v) for v in row] for row in rows])


@pytest.fixture
def world(aws: boto3.Session, trail_files: list[Path]):  # noqa: F811
    aws.client("s3", region_name=REGION).create_bucket(
        Bucket=AGG_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    s = aggregate_settings()
    con = duck(trail_files, s)
    return aws, con, s, FakeAthena(aws, con, s)


def moto_engine(session: boto3.Session, s: AthenaSettings) -> tuple[AthenaEngine, io.StringIO]:
    err = io.StringIO()
    return AthenaEngine(
        s, ACCOUNTS, session=session, progress=False, retry_config=FAST_RETRY, stderr=err
    ), err


def marker(session: boto3.Session, day: str) -> dict:
    body = (
        session.client("s3", region_name=REGION)
        .get_object(Bucket=AGG_BUCKET, Key=f"ctlint/daily/_ctlint/days/{day}.json")["Body"]
        .read()
    )
    return json.loads(body)


def test_aggregate_writes_days_then_skips_them_and_force_rewrites(world) -> None:
    session, con, s, fake = world
    s3_calls: list[tuple[str, dict]] = []
    session.events.register(
        "provide-client-params.s3.*", lambda params, model, **_: s3_calls.append((model.name, dict(params)))
    )
    made, err = moto_engine(session, s)
    days = [date(2026, 6, 2), date(2026, 6, 3)]
    done = made.aggregate(days)
    assert [line.split(":")[0] for line in done] == ["aggregated 2026-06-02", "aggregated 2026-06-03"]
    statements = [e.query for e in executions()]
    assert statements[0].startswith("CREATE DATABASE")
    assert statements[2].startswith(
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `ctlint`.`{s.aggregate_table_name}`"
    )
    unloads = [e for e in executions() if e.query.startswith("UNLOAD")]
    assert fake.unloads == [f"{AGG_LOCATION}day=2026-06-02/", f"{AGG_LOCATION}day=2026-06-03/"]
    assert all("WITH (format = 'PARQUET', compression = 'SNAPPY')" in e.query for e in unloads)
    assert all("'2026" not in e.query.split("\nTO ")[0] for e in unloads)  # days only as parameters
    assert "'2026/06/02'" in unloads[0].execution_parameters
    # The day prefix is listed (to delete it) before the UNLOAD; the marker is written after it.
    names = [name for name, _ in s3_calls]
    assert ("ListObjectsV2", "ctlint/daily/day=2026-06-02/") in [(n, p.get("Prefix")) for n, p in s3_calls]
    assert names.index("PutObject") > names.index("ListObjectsV2")
    first = marker(session, "2026-06-02")
    assert first["schema_version"] == agg.SCHEMA_VERSION and first["accounts"] == sorted(ACCOUNTS)
    assert first["rows"]["event_stats"] == 1 and first["trail"] == s.location.base
    assert "estimated cost" in err.getvalue()

    again, err2 = moto_engine(session, s)
    assert again.aggregate(days) == []
    assert "2 days already aggregated (2026-06-02..2026-06-03)" in err2.getvalue()
    assert len([e for e in executions() if e.query.startswith("UNLOAD")]) == 2

    forced, _ = moto_engine(session, s)
    done = forced.aggregate(days[:1], force=True)
    assert done[0].startswith("aggregated 2026-06-02") and "(replaced 1 objects)" in done[0]
    assert len(fake.unloads) == 3  # the fake refuses a non-empty location: the old part file was deleted
    deletes = [p for n, p in s3_calls if n == "DeleteObjects" and p["Bucket"] == AGG_BUCKET]
    assert deletes[-1]["Delete"]["Objects"] == [{"Key": "ctlint/daily/day=2026-06-02/part-0.snappy.parquet"}]


def test_check_reads_marked_days_from_the_table_and_the_rest_from_the_trail(world) -> None:
    session, con, s, _ = world
    moto_engine(session, s)[0].aggregate([date(2026, 6, d) for d in range(2, 6)])
    before = len(executions())
    window = Window(utc("2026-06-01T12:00:00Z"), utc("2026-06-07T06:00:00Z"))
    made, err = moto_engine(session, s)
    actual = made.collect(window, ACCOUNTS)
    assert actual == raw_on_duckdb(con, s, window)
    sent = executions()[before:]
    on_table = [e for e in sent if f"FROM {s.aggregate_table_name}" in e.query]
    assert len(on_table) == 1
    assert '"day" >= ? AND "day" <= ?' in on_table[0].query
    assert on_table[0].execution_parameters == ["'2026-06-02'", "'2026-06-05'"]
    on_trail = [e for e in sent if re.search(rf"FROM {s.table_name}\b", e.query)]
    # Two raw pieces (June 1 from noon, June 6 to June 7 06:00), each reading the trail once: the
    # compact scan, whose table the piece's queries read.
    assert len(on_trail) == 2 and all(e.query.startswith("CREATE TABLE") for e in on_trail)
    assert sum(1 for e in sent if re.search(r"FROM ctlint_scan_\w+", e.query)) == 2 * len(QUERY_NAMES)
    # Each scan starts 12 h before its piece (the role-assumption lookback of session_usage).
    assert {"'2026/06/01'", "'2026/06/05'"} <= {p for e in on_trail for p in e.execution_parameters}
    assert not any("'2026/06/03'" in e.execution_parameters for e in on_trail)
    assert "4 days from the aggregate table" in err.getvalue() and "1 from the trail" in err.getvalue()


@pytest.mark.parametrize(
    ("edit", "note"),
    [
        (lambda m: {**m, "schema_version": 0}, "another schema version"),
        (lambda m: {**m, "accounts": [A]}, "another set of accounts"),
        (lambda m: {**m, "trail": "s3://elsewhere/AWSLogs/"}, "another trail location"),
        (lambda m: "{not json", "unreadable markers"),
    ],
)
def test_bad_markers_send_days_to_the_trail_with_a_note(world, edit, note) -> None:
    session, con, s, _ = world
    moto_engine(session, s)[0].aggregate([date(2026, 6, 3), date(2026, 6, 4)])
    key = "ctlint/daily/_ctlint/days/2026-06-03.json"
    edited = edit(marker(session, "2026-06-03"))
    session.client("s3", region_name=REGION).put_object(
        Bucket=AGG_BUCKET, Key=key, Body=edited if isinstance(edited, str) else json.dumps(edited)
    )
    window = Window(utc("2026-06-02T12:00:00Z"), utc("2026-06-05T12:00:00Z"))
    made, err = moto_engine(session, s)
    assert made.collect(window, ACCOUNTS) == raw_on_duckdb(con, s, window)
    assert "1 day (2026-06-03) " in err.getvalue() and note in err.getvalue()
    assert "reading them from the trail" in err.getvalue()
    assert "1 day from the aggregate table" in err.getvalue()


def test_without_aggregate_location_collect_is_unchanged(world) -> None:
    session, con, _, _ = world
    window = Window(utc("2026-06-01T00:00:00Z"), utc("2026-06-08T00:00:00Z"))
    made, err = moto_engine(session, settings())
    assert made.collect(window, ACCOUNTS) == raw_on_duckdb(con, settings(), window)
    selects = [e for e in executions() if e.query.startswith(("WITH", "SELECT"))]
    scan = next(CTAS_RE.match(e.query) for e in executions() if CTAS_RE.match(e.query))
    # The five usage queries as they are, over the compact scan of the trail.
    assert [e.query for e in selects] == [q.text for q in usage_queries(scan["table"], window, ACCOUNTS)]
    assert "aggregate" not in err.getvalue()


def test_teardown_drops_the_aggregate_table_but_keeps_its_data(world) -> None:
    session, _, s, _ = world
    made, _ = moto_engine(session, s)
    made.aggregate([date(2026, 6, 2)])
    done = moto_engine(session, s)[0].teardown()
    assert (
        done[0] == f"dropped Athena table ctlint.{s.aggregate_table_name} (its data stays in {AGG_LOCATION})"
    )
    assert done[1:] == [f"dropped Athena table ctlint.{s.table_name}", "dropped Athena database ctlint"]
    assert session.client("s3", region_name=REGION).list_objects_v2(Bucket=AGG_BUCKET)["KeyCount"] == 2


# ---------------------------------------------------------------- the command


def write_config(tmp_path: Path, extra: str = f"  aggregate_location: {AGG_LOCATION}\n") -> Path:
    (tmp_path / "iam.json").write_text('{"UserDetailList": [], "RoleDetailList": []}')
    path = tmp_path / "ctlint.yaml"
    path.write_text(
        f"athena:\n  s3_bucket: logs-bucket\n  path: org/trails\n  region: {REGION}\n"
        f"  output_location: s3://results-bucket/ctlint/\n{extra}"
        "window:\n  start: '2026-06-01'\n  end: '2026-06-08'\n"
        f"accounts:\n  - {{name: a, id: '{A}', iam: iam.json}}\n  - {{name: b, id: '{B}', iam: iam.json}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cli_world(world, monkeypatch: pytest.MonkeyPatch):
    session, *_ = world
    # The CLI builds its own boto3 session; moto is active, and the fake answers via the default session's hooks.
    monkeypatch.setattr(boto3, "Session", lambda *a, **k: session)
    return world


def run_cli(monkeypatch: pytest.MonkeyPatch, now: str, *argv: str) -> int:
    monkeypatch.setattr(athena_command, "_now", lambda: utc(now))
    return main(["athena", "aggregate", *argv])


def test_command_fills_the_config_window_up_to_the_last_settled_day(
    cli_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    # 01:00 on June 8: with the default 2 settle hours June 7 is not complete yet.
    assert run_cli(monkeypatch, "2026-06-08T01:00:00Z", "-c", str(config)) == 0
    err = capsys.readouterr().err
    written = re.findall(r"aggregated (\d{4}-\d{2}-\d{2})", err)
    assert written == [f"2026-{d}" for d in ("05-31", "06-01", "06-02", "06-03", "06-04", "06-05", "06-06")]
    assert "queries scanned" in err and "estimated cost" in err
    assert run_cli(monkeypatch, "2026-06-08T01:00:00Z", "-c", str(config), "--settle-hours", "0.5") == 0
    err = capsys.readouterr().err
    assert re.findall(r"aggregated (\d{4}-\d{2}-\d{2})", err) == ["2026-06-07"]
    assert "7 days already aggregated" in err


def test_command_since_until_days_and_force(
    cli_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    now = "2026-06-10T12:00:00Z"
    assert run_cli(monkeypatch, now, "-c", str(config), "--since", "2026-06-03", "--until", "2026-06-04") == 0
    assert re.findall(r"aggregated (\S+):", capsys.readouterr().err) == ["2026-06-03", "2026-06-04"]
    assert run_cli(monkeypatch, now, "-c", str(config), "--days", "1") == 0
    assert re.findall(r"aggregated (\S+):", capsys.readouterr().err) == ["2026-06-09"]
    assert run_cli(monkeypatch, now, "-c", str(config), "--since", "2026-06-03", "--until", "2026-06-03") == 0
    assert "nothing to do: every day is already aggregated" in capsys.readouterr().err
    assert (
        run_cli(
            monkeypatch, now, "-c", str(config), "--since", "2026-06-03", "--until", "2026-06-03", "--force"
        )
        == 0
    )
    assert re.findall(r"aggregated (\S+):", capsys.readouterr().err) == ["2026-06-03"]


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--since", "2026-13-01"], "--since '2026-13-01' is not a date (YYYY-MM-DD)."),
        (["--since", "yesterday"], "is not a date (YYYY-MM-DD)."),
        (["--since", "2026-06-05", "--until", "2026-06-03"], "is after the last day to write"),
        (["--since", "2026-06-01", "--until", "2026-06-10"], "--until 2026-06-10 is not complete yet"),
        (["--until", "2026-06-03"], "--until needs --since"),
        (["--days", "0"], "--days 0 is not between 1"),
        (["--settle-hours", "-1"], "--settle-hours -1 is not a number of hours"),
        (["--since", "2012-12-31", "--until", "2013-01-02"], "before CloudTrail existed"),
    ],
)
def test_command_refuses_bad_dates_with_exit_2_and_one_sentence(
    cli_world,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv,
    needle,
) -> None:
    config = write_config(tmp_path)
    assert run_cli(monkeypatch, "2026-06-10T01:00:00Z", "-c", str(config), *argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert not [e for e in executions() if e.query.startswith("UNLOAD")]


def test_command_needs_aggregate_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, extra="")
    assert run_cli(monkeypatch, "2026-06-10T01:00:00Z", "-c", str(config)) == 2
    assert "athena has no aggregate_location" in capsys.readouterr().err


def test_failed_unload_exits_2_and_leaves_the_day_unmarked(
    cli_world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_athena_engine import set_final_state

    session, _, s, _ = cli_world
    config = write_config(tmp_path)
    moto_engine(session, s)[0].setup()
    set_final_state(session, "FAILED", "HIVE_PATH_ALREADY_EXISTS: Target directory for table already exists")
    assert run_cli(monkeypatch, "2026-06-10T01:00:00Z", "-c", str(config), "--days", "1") == 2
    err = capsys.readouterr().err
    assert "ended FAILED: HIVE_PATH_ALREADY_EXISTS" in err
    listed = session.client("s3", region_name=REGION).list_objects_v2(
        Bucket=AGG_BUCKET, Prefix="ctlint/daily/_ctlint/"
    )
    assert listed["KeyCount"] == 0


def test_aggregate_rewrites_days_whose_marker_no_longer_matches(world) -> None:
    session, _, s, fake = world
    moto_engine(session, s)[0].aggregate([date(2026, 6, 2), date(2026, 6, 3)])
    grown = AthenaEngine(
        s,
        (*ACCOUNTS, "333333333333"),
        session=session,
        progress=False,
        retry_config=FAST_RETRY,
        stderr=(err := io.StringIO()),
    )
    done = grown.aggregate([date(2026, 6, 2), date(2026, 6, 3)])  # no --force needed
    assert [line.split(":")[0] for line in done] == ["aggregated 2026-06-02", "aggregated 2026-06-03"]
    assert (
        "2 days (2026-06-02..2026-06-03) were aggregated for another set of accounts; writing them again."
        in err.getvalue()
    )
    assert marker(session, "2026-06-02")["accounts"] == sorted((*ACCOUNTS, "333333333333"))
    assert len(fake.unloads) == 4
