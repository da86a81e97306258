"""Resources from usage on both engines: the same ResourceUsageRows from the local engine (weighted and
exact) and from the Athena SQL run on DuckDB through moto; `check` (resources=False) never pays for them;
the answer cache never serves an answer computed without resources to a request that needs them."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import boto3
from cloudtrail_factory import assumed_role, event, iam_user, write_records, write_s3_layout
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from test_athena_engine import MOTO_ACCOUNT, REGION, aws, executions, queue_results, settings  # noqa: F401
from test_athena_equivalence import CTAS_RE, answer_from_duckdb, athena_table

from ctlint.events import map_usage
from ctlint.model import Window
from ctlint.usage.athena import AthenaEngine
from ctlint.usage.local import LocalEngine
from ctlint.usage.sql import QUERY_NAMES

A, B = "111111111111", "222222222222"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 6, 8, tzinfo=timezone.utc))
ALICE = f"arn:aws:iam::{A}:user/alice"
APP = f"arn:aws:iam::{A}:role/app"


def s3_get(identity: dict, bucket: str, key: str, time: str) -> dict:
    record = event(
        identity, "s3.amazonaws.com", "GetObject", time, request_parameters={"bucketName": bucket, "key": key}
    )
    record["resources"] = [
        {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
        {"accountId": A, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
    ]
    return record


def fixture_records() -> list[dict]:
    alice = iam_user(A, "alice")
    app = assumed_role(A, "app", "i-0abc", "ASIAAPP0000000000001")
    records = [
        s3_get(alice, "data", "2026/a.csv", "2026-06-02T10:00:00Z"),
        s3_get(alice, "data", "2026/a.csv", "2026-06-02T10:05:00Z"),
        s3_get(alice, "data", "2026/b.csv", "2026-06-03T10:00:00Z"),
        s3_get(alice, "data", "2026/c.csv", "2026-05-20T10:00:00Z"),  # before the window
        event(
            alice,
            "dynamodb.amazonaws.com",
            "GetItem",
            "2026-06-02T11:00:00Z",
            region="eu-west-1",
            request_parameters={"tableName": "orders", "key": {"id": {"S": "1"}}},
        ),
        event(
            app,
            "sqs.amazonaws.com",
            "SendMessage",
            "2026-06-04T09:00:00Z",
            request_parameters={"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{B}/jobs"},
        ),
        event(
            app,
            "ec2.amazonaws.com",
            "StartInstances",
            "2026-06-04T09:10:00Z",
            request_parameters={"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}},
        ),
        event(
            app,
            "dynamodb.amazonaws.com",
            "GetItem",
            "2026-06-04T09:20:00Z",
            request_parameters={"tableName": "secret"},
            error_code="AccessDenied",
        ),  # failed: not counted
        event(
            app,
            "dynamodb.amazonaws.com",
            "PutItem",
            "2026-06-04T09:30:00Z",
            request_parameters={"tableName": "a*", "key": 5},
        ),  # hostile: refused
        event(
            app,
            "dynamodb.amazonaws.com",
            "PutItem",
            "2026-06-04T09:31:00Z",
            request_parameters={"tableName": ["orders"]},
        ),  # not a string: refused on both engines
        event(app, "s3.amazonaws.com", "ListBuckets", "2026-06-04T09:40:00Z"),  # nothing to name
        event(
            alice,
            "kms.amazonaws.com",
            "Decrypt",
            "2026-06-05T08:00:00Z",
            request_parameters={"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
        ),
    ]
    records[-1]["resources"] = [
        {"accountId": A, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{A}:key/1234abcd-0000"}
    ]
    huge = {"bucketName": "b" * 100_000, "key": "k"}  # refused on both engines, cheaply on the local one
    records.append(
        event(alice, "s3.amazonaws.com", "GetObject", "2026-06-05T09:00:00Z", request_parameters=huge)
    )
    # IAM acting on the caller: no parameter, no resources field, and still a resource on both engines.
    records.append(event(alice, "iam.amazonaws.com", "GetUser", "2026-06-05T10:00:00Z"))
    records.append(dict(records[0]))  # a duplicate delivery counts once
    return records


def local(paths: list[Path], **kwargs) -> LocalEngine:
    return LocalEngine(paths, progress=False, **kwargs)


def test_the_local_engine_names_the_resources_weighted_and_exact_alike(tmp_path: Path) -> None:
    write_s3_layout(tmp_path / "logs", fixture_records())
    weighted = local([tmp_path / "logs"], cache=False).collect(WINDOW, None, resources=True)
    exact = local([tmp_path / "logs"], cache=False, exact=True).collect(WINDOW, None, resources=True)
    assert weighted == exact
    found = {(r.principal_arn, r.event_name, r.resource): r.count for r in weighted.resources}
    assert found == {
        (ALICE, "GetObject", "arn:aws:s3:::data/2026/a.csv"): 2,
        (ALICE, "GetObject", "arn:aws:s3:::data/2026/b.csv"): 1,
        (ALICE, "GetObject", "arn:aws:s3:::data"): 3,
        (ALICE, "GetItem", f"arn:aws:dynamodb:eu-west-1:{A}:table/orders"): 1,
        (ALICE, "Decrypt", f"arn:aws:kms:us-east-1:{A}:key/1234abcd-0000"): 1,
        (ALICE, "GetUser", ALICE): 1,
        (APP, "SendMessage", f"arn:aws:sqs:us-east-1:{B}:jobs"): 1,
        (APP, "StartInstances", f"arn:aws:ec2:us-east-1:{A}:instance/i-1"): 1,
        (APP, "StartInstances", f"arn:aws:ec2:us-east-1:{A}:instance/i-2"): 1,
        # Calls that named no usable resource (a refused table name, the huge bucket name) count as such.
        (APP, "PutItem", "?"): 2,
        (ALICE, "GetObject", "?"): 1,
    }
    # Mapped to IAM actions, only ARNs of a type the action takes; an action with a call that named none
    # of its resources has no resources from usage at all (narrowing to the others would cut it off).
    usage = map_usage(weighted)
    assert "s3:GetObject" not in usage.resources[ALICE]
    assert "dynamodb:PutItem" not in usage.resources.get(APP, {})
    assert usage.resources[ALICE]["dynamodb:GetItem"] == {f"arn:aws:dynamodb:eu-west-1:{A}:table/orders"}
    assert usage.resources[APP]["ec2:StartInstances"] == {
        f"arn:aws:ec2:us-east-1:{A}:instance/i-1",
        f"arn:aws:ec2:us-east-1:{A}:instance/i-2",
    }
    assert "s3:ListAllMyBuckets" not in usage.resources.get(APP, {})


def test_check_does_not_collect_resources(tmp_path: Path) -> None:
    write_s3_layout(tmp_path / "logs", fixture_records())
    engine = local([tmp_path / "logs"], cache=False)
    plain = engine.collect(WINDOW, None)
    assert plain.resources == () and map_usage(plain).resources == {}
    with_resources = local([tmp_path / "logs"], cache=False).collect(WINDOW, None, resources=True)
    assert dataclasses.replace(with_resources, resources=()) == plain  # the usage itself is the same


def test_the_answer_cache_keeps_answers_with_and_without_resources_apart(tmp_path: Path) -> None:
    write_s3_layout(tmp_path / "logs", fixture_records())
    cache = tmp_path / "cache"

    def run(resources: bool):
        engine = local([tmp_path / "logs"], cache_dir=cache, cache_min_bytes=0)
        return engine.collect(WINDOW, None, resources=resources), engine.stats.get("answered", 0)

    plain, answered = run(False)
    assert plain.resources == () and not answered
    full, answered = run(True)  # an answer without resources exists: it must not be served
    assert full.resources and not answered
    again, answered = run(True)
    assert again == full and answered
    plain_again, answered = run(False)
    assert plain_again == plain and answered


def test_athena_sql_on_duckdb_names_the_same_resources(aws: boto3.Session, tmp_path: Path) -> None:  # noqa: F811
    files = write_s3_layout(tmp_path / "logs", fixture_records())
    expected = local([tmp_path / "logs"], cache=False).collect(WINDOW, [A, B], resources=True)
    assert expected.resources

    made = AthenaEngine(settings(), [A, B], session=aws, progress=False, stderr=io.StringIO())
    con = athena_table(files, made.settings.table_name)
    answer_from_duckdb(aws, con, [])
    actual = made.collect(WINDOW, None, resources=True)

    assert dataclasses.replace(actual, engine="local") == expected
    trail = made.settings.table_name
    reading_trail = [e for e in executions() if re.search(rf"\bFROM {trail}\b", e.query)]
    assert len(reading_trail) == 1 and CTAS_RE.match(reading_trail[0].query)  # still one trail scan
    selects = [e for e in executions() if e.query.lstrip().upper().startswith(("WITH", "SELECT"))]
    assert len(selects) == len(QUERY_NAMES) + 1  # the usage queries and the resource query
    assert "awsregion, resources" in reading_trail[0].query


def test_athena_check_sends_no_resource_query(aws: boto3.Session, tmp_path: Path) -> None:  # noqa: F811
    files = write_s3_layout(tmp_path / "logs", fixture_records())
    made = AthenaEngine(settings(), [A, B], session=aws, progress=False, stderr=io.StringIO())
    con = athena_table(files, made.settings.table_name)
    answer_from_duckdb(aws, con, [])
    raw = made.collect(WINDOW, None)
    assert raw.resources == ()
    selects = [e for e in executions() if e.query.lstrip().upper().startswith(("WITH", "SELECT"))]
    assert len(selects) == len(QUERY_NAMES)
    scan = next(e for e in executions() if CTAS_RE.match(e.query))
    assert "awsregion" not in scan.query and "resources" not in scan.query


REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "cloudtrail-records"


def test_realdata_resources_weighted_equal_exact_and_the_coverage_holds() -> None:
    """The figure in docs/resources-from-usage.md: of the counted real records whose IAM action takes a
    resource ARN, the share for which ctlint derives one of a type that action takes."""
    if not REALDATA.is_dir():
        import pytest

        pytest.skip("../shared/realdata is not present on this machine (the coverage figure needs it)")
    import gzip
    import json

    from ctlint.catalog import Catalog
    from ctlint.events import MAPPED, map_event
    from ctlint.usage import resource_arns as ra
    from ctlint.usage.resource_bound import takes_resource

    wide = Window(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))
    files = sorted(REALDATA.glob("*.gz"))
    weighted = local(files, cache=False, skip_bad_records=True).collect(wide, None, resources=True)
    exact = local(files, cache=False, skip_bad_records=True, exact=True).collect(wide, None, resources=True)
    assert weighted.resources and weighted == exact

    catalog = Catalog.load()
    formats = ra.catalog_formats(catalog.resource_types, catalog.service_actions)
    scoped = covered = 0
    for path in files:
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            identity = record.get("userIdentity") or {}
            kind = identity.get("type")
            issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
            principal = identity.get("arn") if kind in ("IAMUser", "Root") else issuer.get("arn")
            mapping = map_event(record.get("eventSource", ""), record.get("eventName", ""))
            if record.get("errorCode") or not principal or mapping.kind != MAPPED:
                continue
            actions = [a for a in mapping.actions if catalog.resource_types(a)]
            if not actions:
                continue
            params = record.get("requestParameters")
            context = ra.context_for(principal, record.get("awsRegion"), record.get("recipientAccountId"))
            arns = ra.record_arns(
                record["eventSource"],
                [e.get("ARN") for e in record.get("resources") or [] if isinstance(e, dict)],
                params if isinstance(params, dict) else {},
                context,
                formats,
                record["eventName"],
            )
            scoped += 1
            covered += any(takes_resource(catalog.resource_types(a), arn) for a in actions for arn in arns)
    assert scoped > 1000 and covered / scoped >= 0.75, (covered, scoped)


# ---------------------------------------------------------------- weighted resource rows ≡ one row per event

_WHO = [iam_user(A, "alice"), assumed_role(B, "ops", "s", "ASIAHYPO000000000002")]


@st.composite
def _evidence_trail(draw):
    files = []
    for _ in range(draw(st.integers(1, 3))):
        records = []
        for _ in range(draw(st.integers(1, 10))):
            moment = (
                datetime(2026, 5, 31, 6, tzinfo=timezone.utc).timestamp() + draw(st.integers(0, 40 * 60)) * 60
            )
            when = datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            who = draw(st.sampled_from(_WHO))
            kind = draw(st.integers(0, 3))
            if kind == 0:
                record = s3_get(
                    who, draw(st.sampled_from(["a", "b"])), draw(st.sampled_from(["k1", "k/2"])), when
                )
            elif kind == 1:
                table = draw(st.sampled_from(["t1", "t2", "bad*"]))
                record = event(
                    who, "dynamodb.amazonaws.com", "GetItem", when, request_parameters={"tableName": table}
                )
            elif kind == 2:
                record = event(who, "s3.amazonaws.com", "ListBuckets", when)
            else:
                record = event(who, "iam.amazonaws.com", "GetUser", when, request_parameters={})
            if draw(st.integers(0, 6)) == 0:
                record["errorCode"] = "AccessDenied"
            records.append(record)
        files.append(records)
    return files, draw(st.booleans()), draw(st.integers(0, 47))


@hypothesis_settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_evidence_trail())
def test_weighted_resource_rows_equal_one_row_per_event(tmp_path_factory, trail) -> None:
    files, duplicate, start_hour = trail
    folder = tmp_path_factory.mktemp("trail")
    for i, records in enumerate(files):
        write_records(folder / f"f{i}.json.gz", records)
    if duplicate:
        shutil.copy(folder / "f0.json.gz", folder / "f0-again.json.gz")
    start = datetime(2026, 5, 31, tzinfo=timezone.utc).timestamp() + start_hour * 3600
    window = Window(
        datetime.fromtimestamp(start, timezone.utc),
        datetime.fromtimestamp(start + 30 * 3600 + 1234, timezone.utc),
    )
    exact = local([folder], exact=True).collect(window, None, resources=True)
    fast = local([folder], cache=False).collect(window, None, resources=True)
    assert fast.resources == exact.resources
    assert all("*" not in row.resource for row in fast.resources)


def test_realdata_resources_are_the_same_on_athena_sql(aws: boto3.Session, tmp_path: Path) -> None:  # noqa: F811
    """The real records in the S3 layout: the Athena SQL on DuckDB names the local engine's resources."""
    if not REALDATA.is_dir():
        import pytest

        pytest.skip("../shared/realdata is not present on this machine")
    import gzip
    import json

    records = []
    for path in sorted(REALDATA.glob("*.gz")):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            account, region, moment = (
                record.get("recipientAccountId"),
                record.get("awsRegion"),
                record.get("eventTime"),
            )
            if (
                isinstance(account, str)
                and re.fullmatch(r"\d{12}", account)
                and isinstance(region, str)
                and re.fullmatch(r"[a-z0-9-]+", region)
                and isinstance(moment, str)
                and re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", moment)
            ):
                records.append(record)
    files = write_s3_layout(tmp_path / "logs", records)
    accounts = sorted({r["recipientAccountId"] for r in records})
    wide = Window(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2030, 1, 1, tzinfo=timezone.utc))
    expected = local([tmp_path / "logs"], cache=False).collect(wide, accounts, resources=True)
    made = AthenaEngine(settings(), accounts, session=aws, progress=False, stderr=io.StringIO())
    con = athena_table(files, made.settings.table_name)
    answer_from_duckdb(aws, con, [])
    actual = made.collect(wide, None, resources=True)
    assert len(expected.resources) > 500
    differ = sorted(set(actual.resources) ^ set(expected.resources), key=repr)
    assert not differ, differ[:6]
