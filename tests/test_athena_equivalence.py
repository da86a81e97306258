"""Athena and the local engine agree: the exact SQL and parameters the Athena engine sends (as moto
records them) are spliced in as Athena does, transpiled with `to_duckdb`, and run on DuckDB over the
same fixture logs loaded in the Athena table's shape (our DDL's columns, partitions from the S3 path).
Those rows are fed back to the engine as moto's canned results, so its row parsing runs end to end.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import boto3
import duckdb
import pytest
import requests
import sqlglot
from cloudtrail_factory import (
    assume_role_event,
    assumed_role,
    event,
    iam_user,
    role_arn,
    root,
    write_s3_layout,
)
from sqlglot.tokens import TokenType
from test_athena_engine import MOTO_ACCOUNT, REGION, aws, executions, queue_results, settings  # noqa: F401

from ctlint.errors import InputError
from ctlint.model import Window
from ctlint.usage import athena_ddl as ddl
from ctlint.usage.athena import AthenaEngine
from ctlint.usage.local import LocalEngine
from ctlint.usage.sql import QUERY_NAMES, athena_literal, to_duckdb

A, B = "111111111111", "222222222222"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 8, tzinfo=timezone.utc))


# ---------------------------------------------------------------- Athena's view of the files


def duck_type(hive: str) -> str:
    """Our DDL's Hive types as DuckDB types (struct<a:string> -> STRUCT("a" VARCHAR), ...)."""
    hive = hive.strip()
    simple = {"string": "VARCHAR", "boolean": "BOOLEAN", "bigint": "BIGINT", "int": "INTEGER"}
    if hive in simple:
        return simple[hive]
    kind, inner = hive.split("<", 1)
    inner = inner[:-1]
    parts = _split_fields(inner)
    if kind == "array":
        return duck_type(inner) + "[]"
    if kind == "map":
        return f"MAP({duck_type(parts[0])}, {duck_type(parts[1])})"
    fields = [p.split(":", 1) for p in parts]
    return "STRUCT(" + ", ".join(f'"{n}" {duck_type(t)}' for n, t in fields) + ")"


def serde(value: object, hive: str) -> object:
    """A JSON value as the JsonSerDe gives it: keys matched case-insensitively, objects in string columns as JSON text."""
    if value is None:
        return None
    if hive == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if hive == "boolean":
        return bool(value)
    if hive.startswith("struct<") and isinstance(value, dict):
        lowered = {k.lower(): v for k, v in value.items()}
        out = {}
        for part in _split_fields(hive[len("struct<") : -1]):
            name, kind = part.split(":", 1)
            out[name] = serde(lowered.get(name), kind)
        return out
    if hive.startswith("array<") and isinstance(value, list):
        return [serde(v, hive[len("array<") : -1]) for v in value]
    if hive.startswith("map<"):
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None
    return None


def _split_fields(inner: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in inner:
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


PATH_RE = re.compile(r"AWSLogs/(?:o-[a-z0-9]+/)?(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4})/(\d{2})/(\d{2})/")


def athena_table(files: list[Path], table: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB table with exactly our DDL's columns and partitions, filled from the delivery files."""
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    columns = [*ddl.COLUMNS, *ddl.PARTITION_COLUMNS]
    con.execute(f"CREATE TABLE {table} (" + ", ".join(f'"{n}" {duck_type(t)}' for n, t in columns) + ")")
    rows = []
    for path in files:
        match = PATH_RE.search(path.as_posix())
        assert match, path
        account, region, y, m, d = match.groups()
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            lowered = {k.lower(): v for k, v in record.items()}
            row = [serde(lowered.get(name), kind) for name, kind in ddl.COLUMNS]
            rows.append([*row, account, region, f"{y}/{m}/{d}"])
    marks = ", ".join("?" for _ in columns)
    con.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    return con


def splice(text: str, literals: list[str]) -> str:
    """What Athena does with ExecutionParameters: each `?` placeholder replaced by the value's text."""
    holes = [t for t in sqlglot.tokenize(text, read="athena") if t.token_type == TokenType.PLACEHOLDER]
    assert len(holes) == len(literals)
    for token, literal in reversed(list(zip(holes, literals, strict=True))):
        text = text[: token.start] + literal + text[token.end + 1 :]
    return text


CTAS_RE = re.compile(r'CREATE TABLE "\w+"\."(?P<table>\w+)"\s+WITH \([^)]*\)\s+AS (?P<select>.*)\Z', re.S)


def answer_from_duckdb(
    session: boto3.Session, con: duckdb.DuckDBPyConnection, sent: list[tuple[str, str]]
) -> None:
    """For every SELECT the engine starts, run it on DuckDB and queue its rows as moto's result."""

    def run(**kwargs) -> None:
        if "QueryExecutionId" not in kwargs["parsed"]:
            return
        execution = next(e for e in executions() if e.id == kwargs["parsed"]["QueryExecutionId"])
        if ctas := CTAS_RE.match(execution.query):  # the compact scan: the same SELECT, made a table
            spliced = splice(ctas["select"], list(execution.execution_parameters or []))
            con.execute(f"CREATE TABLE {ctas['table']} AS {to_duckdb(spliced)}")
            sent.append((execution.query, spliced))
            return
        if not execution.query.lstrip().upper().startswith(("WITH", "SELECT")):
            return
        spliced = splice(execution.query, list(execution.execution_parameters or []))
        sent.append((execution.query, spliced))
        cursor = con.execute(to_duckdb(spliced))
        header = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        types = [
            "bigint" if rows and isinstance(v, int) else "varchar" for v in (rows[0] if rows else header)
        ]
        queue_results(header, [[None if v is None else str(v) for v in row] for row in rows], types)

    session.events.register("after-call.athena.StartQueryExecution", run)


# ---------------------------------------------------------------- fixture logs


def fixture_records() -> list[dict]:
    alice = iam_user(A, "alice")
    bob = iam_user(A, "bob")
    admin = role_arn(A, "admin")
    deploy = role_arn(B, "deploy")
    key_admin, key_deploy, key_chain = "ASIAADMIN0000000001", "ASIADEPLOY000000001", "ASIACHAIN0000000001"
    as_admin = assumed_role(A, "admin", "alice", key_admin)
    as_deploy = assumed_role(B, "deploy", "bob", key_deploy)
    records = [
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-02T10:00:00Z"),
        event(alice, "s3.amazonaws.com", "CreateBucket", "2026-06-03T10:00:00Z"),
        event(alice, "iam.amazonaws.com", "ListUsers", "2026-06-03T11:00:00Z", error_code="AccessDenied"),
        event(alice, "ec2.amazonaws.com", "DescribeInstances", "2026-05-20T10:00:00Z"),  # before the window
        assume_role_event(alice, admin, key_admin, "2026-06-02T11:00:00Z"),
        event(as_admin, "iam.amazonaws.com", "CreateUser", "2026-06-02T11:05:00Z"),
        event(
            as_admin,
            "lambda.amazonaws.com",
            "ListFunctions20150331",
            "2026-06-02T11:06:00Z",
            region="eu-west-1",
        ),
        # Cross-account: logged in both accounts with the same request id.
        assume_role_event(bob, deploy, key_deploy, "2026-06-04T09:00:00Z", account=A),
        event(as_deploy, "cloudformation.amazonaws.com", "CreateStack", "2026-06-04T09:10:00Z"),
        # Role chaining: admin assumes deploy.
        assume_role_event(as_admin, deploy, key_chain, "2026-06-02T11:30:00Z"),
        event(
            assumed_role(B, "deploy", "chain", key_chain),
            "s3.amazonaws.com",
            "ListBuckets",
            "2026-06-02T11:31:00Z",
        ),
        event(root(B), "iam.amazonaws.com", "GetAccountSummary", "2026-06-07T23:59:59Z"),
        event(None, "signin.amazonaws.com", "ConsoleLogin", "2026-06-05T08:00:00Z", account=B),
    ]
    cross = assume_role_event(bob, deploy, key_deploy, "2026-06-04T09:00:00Z", account=B)
    cross["requestID"] = records[7]["requestID"]
    records.append(cross)
    # CloudTrail can deliver the same file twice: a duplicate record must count once.
    records.append(dict(records[0]))
    return records


# ---------------------------------------------------------------- the equivalence


def test_athena_sql_on_duckdb_equals_the_local_engine(aws: boto3.Session, tmp_path: Path) -> None:  # noqa: F811
    files = write_s3_layout(tmp_path / "logs", fixture_records())
    local = LocalEngine([tmp_path / "logs"], progress=False)
    expected = local.collect(WINDOW, [A, B])
    local.close()
    # The fixture exercises every kind of row.
    assert expected.rows and expected.assumptions and expected.sessions and expected.identities

    made = AthenaEngine(settings(), [A, B], session=aws, progress=False, stderr=__import__("io").StringIO())
    con = athena_table(files, made.settings.table_name)
    sent: list[tuple[str, str]] = []
    answer_from_duckdb(aws, con, sent)

    actual = made.collect(WINDOW, None)

    assert dataclasses.replace(actual, engine="local") == expected
    assert actual.engine == "athena"
    # What reached Athena: the compact scan, then one SELECT per usage query over its table, every
    # value a parameter, partitions filtered.
    selects = [e for e in executions() if e.query.lstrip().upper().startswith(("WITH", "SELECT"))]
    scans = [e for e in executions() if CTAS_RE.match(e.query)]
    assert len(selects) == len(QUERY_NAMES) and len(scans) == 1 and len(sent) == len(QUERY_NAMES) + 1
    trail = made.settings.table_name
    assert [e for e in executions() if re.search(rf"\bFROM {trail}\b", e.query)] == scans  # read once
    for execution in [*scans, *selects]:
        assert '"timestamp" >= ?' in execution.query
        # The window's first day, or the day before for role assumptions (sessions last up to 12 h).
        assert {"'2026/06/01'", "'2026/05/31'"} & set(execution.execution_parameters)
        assert all(p.startswith("'") and p.endswith("'") for p in execution.execution_parameters)
        text = re.sub(r"ctlint_scan_\w+", "", execution.query)  # the scan table's random name
        assert A not in text and "2026" not in text  # values never in the text
    principals = {row.principal_arn for row in actual.rows}
    assert {
        f"arn:aws:iam::{A}:user/alice",
        role_arn(A, "admin"),
        role_arn(B, "deploy"),
        f"arn:aws:iam::{B}:root",
    } <= principals


def test_a_check_reads_the_trail_once_and_says_how_many_bytes(aws: boto3.Session, tmp_path: Path) -> None:  # noqa: F811
    files = write_s3_layout(tmp_path / "logs", fixture_records())
    err = __import__("io").StringIO()
    made = AthenaEngine(settings(), [A, B], session=aws, progress=False, stderr=err)
    con = athena_table(files, made.settings.table_name)
    answer_from_duckdb(aws, con, [])
    trail = made.settings.table_name
    trail_bytes, compact_bytes = 3 * 10**11, 4 * 10**6

    def scanned(**kwargs) -> None:  # what Athena would bill: the trail's partitions, or the compact table
        execution = kwargs["parsed"]["QueryExecution"]
        reads_trail = re.search(rf"\bFROM {trail}\b", execution["Query"]) is not None
        execution["Statistics"]["DataScannedInBytes"] = trail_bytes if reads_trail else compact_bytes

    aws.events.register("after-call.athena.GetQueryExecution", scanned)
    made.collect(WINDOW, None)

    log = executions()
    reading_trail = [e for e in log if re.search(rf"\bFROM {trail}\b", e.query)]
    assert len(reading_trail) == 1 and CTAS_RE.match(reading_trail[0].query)
    scan_table = CTAS_RE.match(reading_trail[0].query)["table"]
    assert sum(1 for e in log if f"FROM {scan_table}" in e.query) == len(QUERY_NAMES)
    assert any(e.query == f"DROP TABLE IF EXISTS `ctlint`.`{scan_table}`" for e in log)  # dropped after
    with pytest.raises(aws.client("glue").exceptions.EntityNotFoundException):
        aws.client("glue").get_table(DatabaseName="ctlint", Name=scan_table)
    report = err.getvalue()
    assert "(the trail read once: 300.00 GB)" in report, report
    # 1x the trail: 300 GB + one compact read per usage query + DDL, each billed at least 10 MB
    billed = trail_bytes + (len(log) - 1) * 10 * 1024 * 1024
    assert f"estimated cost ${billed / 1e12 * 5:.4f}" in report, report


# ---------------------------------------------------------------- injection


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:iam::111111111111:user/o'brien",
        "x' OR '1'='1",
        "x'; DROP TABLE t; --",
        "arn:aws:iam::111111111111:user/a--b;c",
        "ünï'cødé ☃",
    ],
)
def test_parameters_cannot_change_the_query(aws: boto3.Session, tmp_path: Path, value: str) -> None:  # noqa: F811
    odd = iam_user(A, "placeholder")
    odd["arn"] = value
    files = write_s3_layout(
        tmp_path / "logs",
        [
            event(odd, "s3.amazonaws.com", "ListBuckets", "2026-06-02T10:00:00Z"),
            event(iam_user(A, "alice"), "s3.amazonaws.com", "ListBuckets", "2026-06-02T10:00:00Z"),
        ],
    )
    made = AthenaEngine(settings(), [A], session=aws, progress=False, stderr=__import__("io").StringIO())
    con = athena_table(files, "t")
    sent: list[tuple[str, str]] = []
    answer_from_duckdb(aws, con, sent)
    rows = made.run_query(
        "probe", "SELECT count(*) AS n FROM t WHERE useridentity.arn = ?", [athena_literal(value)]
    )
    assert rows == [(1,)]  # exactly the one record whose ARN is that string, never all of them
    assert executions()[-1].execution_parameters == [athena_literal(value)]
    assert len(sqlglot.parse(sent[-1][1], read="athena")) == 1  # still one statement after splicing


def test_control_characters_are_refused_before_reaching_athena() -> None:
    with pytest.raises(InputError):
        athena_literal("x'\n; DROP TABLE t")


def test_realdata_records_load_into_the_athena_shape(tmp_path: Path) -> None:
    shared = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "cloudtrail-records"
    if not shared.is_dir():
        pytest.skip("../shared/realdata is not present")
    records = []
    for path in sorted(shared.glob("*.gz"))[:5]:
        records += json.loads(gzip.decompress(path.read_bytes())).get("Records", [])
    for record in records:
        row = [serde({k.lower(): v for k, v in record.items()}.get(n), t) for n, t in ddl.COLUMNS]
        identity = row[1]
        assert identity is None or set(identity) >= {"type", "arn", "sessioncontext"}
    assert len(records) > 100
    _ = (MOTO_ACCOUNT, REGION, requests)
