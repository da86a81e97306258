"""The Athena engine against moto, through the real pyathena client (offline).

moto records every query (text, parameters, work group, output location) and runs no SQL; faults are
injected with botocore event hooks on the test's boto3 session: `before-call` hooks answer a call
with an error (throttling, expired credentials, S3 errors), `after-call` hooks rewrite a parsed
answer (FAILED with a reason, bytes scanned, result paging).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.athena.models import athena_backends
from moto.moto_api import state_manager
from pyathena.util import RetryConfig

from ctlint.errors import ConfigError, EngineError
from ctlint.usage import athena_ddl as ddl
from ctlint.usage.athena import AthenaEngine, AthenaSettings, estimated_cost_usd

REGION = "eu-west-1"
MOTO_ACCOUNT = "123456789012"
ACCOUNTS = ("111111111111", "222222222222")
FAST_RETRY = RetryConfig(
    exceptions=("ThrottlingException", "TooManyRequestsException", "InternalServerException"),
    attempt=4,
    multiplier=0,  # backoff waits of 0 s: the policy is exercised, the clock is not
    max_delay=0,
)


# ---------------------------------------------------------------- moto world


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ATHENA_S3_STAGING_DIR", raising=False)
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        s3 = session.client("s3", region_name=REGION)
        for bucket in ("logs-bucket", "results-bucket"):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        mirror_ddl_into_glue(session)
        yield session


def executions() -> list:
    """moto's recorded executions, in start order."""
    return sorted(athena_backends[MOTO_ACCOUNT][REGION].executions.values(), key=lambda e: e.start_time)


def mirror_ddl_into_glue(session: boto3.Session) -> None:
    """What Athena would do to the Glue catalog for our DDL (moto's Athena runs no SQL)."""
    glue = session.client("glue", region_name=REGION)

    def apply(**kwargs) -> None:
        if "QueryExecutionId" not in kwargs["parsed"]:  # the call failed (an injected error)
            return
        execution = athena_backends[MOTO_ACCOUNT][REGION].executions[kwargs["parsed"]["QueryExecutionId"]]
        text = execution.query
        if m := re.match(r"CREATE DATABASE IF NOT EXISTS `(\w+)`", text):
            glue.create_database(DatabaseInput={"Name": m[1], "Parameters": {ddl.CREATOR_PROPERTY: "ctlint"}})
        elif m := re.match(r"CREATE EXTERNAL TABLE IF NOT EXISTS `(\w+)`.`(\w+)`", text):
            props = dict(re.findall(r"'([^']+)'='([^']*)'", text.split("TBLPROPERTIES", 1)[1]))
            glue.create_table(DatabaseName=m[1], TableInput={"Name": m[2], "Parameters": props})
        elif m := re.match(r'CREATE TABLE "(\w+)"."(\w+)"\s+WITH \(', text):  # CTAS (the compact scan)
            glue.create_table(DatabaseName=m[1], TableInput={"Name": m[2], "Parameters": {}})
        elif m := re.match(r"ALTER TABLE `(\w+)`.`(\w+)` SET TBLPROPERTIES", text):
            props = dict(re.findall(r"'([^']+)'='([^']*)'", text))
            glue.update_table(DatabaseName=m[1], TableInput={"Name": m[2], "Parameters": props})
        elif m := re.match(r"DROP TABLE IF EXISTS `(\w+)`.`(\w+)`", text):
            glue.delete_table(DatabaseName=m[1], Name=m[2])
        elif m := re.match(r"DROP DATABASE IF EXISTS `(\w+)`", text):
            glue.delete_database(Name=m[1])

    session.events.register("after-call.athena.StartQueryExecution", apply)


def queue_results(header: list[str], rows: list[list[str | None]], types: list[str] | None = None) -> None:
    """Queue one canned result (Athena's shape: the header row first, every value a string)."""
    types = types or ["varchar"] * len(header)
    column_info = [
        {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": name,
            "Label": name,
            "Type": kind,
            "Precision": 0,
            "Scale": 0,
            "Nullable": "UNKNOWN",
            "CaseSensitive": True,
        }
        for name, kind in zip(header, types, strict=True)
    ]
    data = [{"Data": [{"VarCharValue": h} for h in header]}]
    data += [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/athena/query-results",
        json={
            "account_id": MOTO_ACCOUNT,
            "region": REGION,
            "results": [{"rows": data, "column_info": column_info}],
        },
        timeout=5,
    )
    assert response.status_code == 201


def error_answer(code: str, message: str = "injected", status: int = 400) -> tuple[AWSResponse, dict]:
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://example.invalid", status, {}, None), parsed


def fail_times(session: boto3.Session, event: str, times: int, code: str, status: int = 400) -> list[int]:
    """Answer the first `times` calls of `event` with an error; returns a call counter."""
    calls = [0]

    def hook(**_kwargs):
        calls[0] += 1
        if calls[0] <= times:
            return error_answer(code, status=status)
        return None

    session.events.register_first(event, hook)
    return calls


def settings(**overrides) -> AthenaSettings:
    values = dict(
        s3_bucket="logs-bucket",
        path="org/trails",
        region=REGION,
        output_location="s3://results-bucket/ctlint/",
        poll_interval_s=0.001,
        query_timeout_s=10.0,
    )
    values.update(overrides)
    return AthenaSettings(**values)


def engine(session: boto3.Session, **kwargs) -> tuple[AthenaEngine, io.StringIO]:
    err = io.StringIO()
    s = kwargs.pop("settings", None) or settings()
    made = AthenaEngine(
        s, ACCOUNTS, session=session, progress=False, retry_config=FAST_RETRY, stderr=err, **kwargs
    )
    return made, err


# ---------------------------------------------------------------- settings


def test_settings_accept_cloudtracker_athena_block() -> None:
    s = AthenaSettings.from_mapping(
        {
            "s3_bucket": "my_log_bucket".replace("_", "-"),
            "path": "",
            "org_id": "o-myid123abc",
            "output_s3_bucket": "s3://aws-athena-query-results-1-us-east-1",
        },
        where="config.yaml: athena",
    )
    assert s.path == ""
    assert s.output_location == "s3://aws-athena-query-results-1-us-east-1/"
    assert s.location.template == (
        "s3://my-log-bucket/AWSLogs/o-myid123abc/${account}/CloudTrail/${region}/${timestamp}"
    )
    assert "//" not in s.location.template.removeprefix("s3://")
    assert s.database == "ctlint" and s.workgroup == "primary" and s.query_timeout_s == 600.0


def test_settings_prefix_slashes_never_double() -> None:
    s = AthenaSettings(s3_bucket="s3://b-1/", path="/a/b/")
    assert s.location.base == "s3://b-1/a/b/AWSLogs/"
    assert s.table_name.startswith("cloudtrail_b_1_")
    assert AthenaSettings(s3_bucket="b-1", path="x").table_name != s.table_name  # a table per location


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"s3_bucket": "b-1", "outptu_location": "s3://x/"}, "did you mean 'output_location'"),
        ({"path": "p"}, "s3_bucket is required"),
        ({"s3_bucket": "b-1", "query_timeout": "soon"}, "query_timeout must be a number"),
        ({"s3_bucket": "b-1", "keep_results": "yes"}, "keep_results must be true or false"),
        ({"s3_bucket": "b-1", "path": 7}, "path must be a string"),
        ({"s3_bucket": "b-1", "database": "ct'; DROP DATABASE x; --"}, "athena.database"),
        ({"s3_bucket": "b-1", "table": "t-1"}, "athena.table"),
        ({"s3_bucket": "b-1", "path": "logs' --"}, "athena.path"),
        ({"s3_bucket": "b-1", "path": "a//b"}, "athena.path"),
        ({"s3_bucket": "bad_bucket;"}, "athena.s3_bucket"),
        ({"s3_bucket": "b-1", "org_id": "o-x'"}, "athena.org_id"),
        ({"s3_bucket": "b-1", "region": "us-east-1; --"}, "athena.region"),
        ({"s3_bucket": "b-1", "workgroup": "wg'--"}, "athena.workgroup"),
    ],
)
def test_settings_reject_bad_values_naming_the_key(block: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as caught:
        AthenaSettings.from_mapping(block, where="ctlint.yaml: athena")
    message = str(caught.value)
    assert message.startswith("ctlint.yaml: athena")
    assert needle in message
    assert "\n" not in message


# ---------------------------------------------------------------- DDL


def test_create_table_ddl_has_projection_serde_and_validated_values() -> None:
    location = ddl.TrailLocation("logs-bucket", "", "o-abcdefghij")
    text = ddl.create_table_sql("ctlint", "trail", location, ["222222222222", "111111111111"], ["us-east-1"])
    assert "org.apache.hive.hcatalog.data.JsonSerDe" in text
    assert "com.amazon.emr.cloudtrail.CloudTrailInputFormat" in text
    assert "PARTITIONED BY (`account` string, `region` string, `timestamp` string)" in text
    assert "LOCATION 's3://logs-bucket/AWSLogs/o-abcdefghij/'" in text
    assert "'projection.account.values'='111111111111,222222222222'" in text
    assert "'projection.timestamp.range'='2013/01/01,NOW'" in text
    assert "'projection.timestamp.format'='yyyy/MM/dd'" in text
    with pytest.raises(ConfigError, match="12-digit"):
        ddl.create_table_sql("ctlint", "trail", location, ["1111' --"], ["us-east-1"])


@pytest.mark.parametrize(
    ("region", "expected", "absent"),
    [
        ("us-east-1", "eu-west-1", "us-gov-west-1"),
        ("us-gov-west-1", "us-gov-east-1", "us-east-1"),
        ("cn-north-1", "cn-northwest-1", "eu-west-1"),
    ],
)
def test_regions_follow_the_partition_of_the_athena_region(region: str, expected: str, absent: str) -> None:
    regions = ddl.regions_for(region)
    assert region in regions and expected in regions and absent not in regions


# ---------------------------------------------------------------- setup and teardown


def test_setup_creates_database_and_projected_table_then_is_idempotent(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    created = made.setup()
    assert [line.split(" over ")[0] for line in created] == [
        "created Athena database ctlint",
        f"created Athena table ctlint.{made.settings.table_name}",
    ]
    recorded = executions()
    assert [e.query.split("\n")[0] for e in recorded] == [
        "CREATE DATABASE IF NOT EXISTS `ctlint`",
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `ctlint`.`{made.settings.table_name}` (",
    ]
    table_ddl = recorded[1].query
    assert (
        "'storage.location.template'='s3://logs-bucket/org/trails/AWSLogs/${account}/CloudTrail/${region}/${timestamp}'"
        in table_ddl
    )
    assert "'projection.account.values'='111111111111,222222222222'" in table_ddl
    assert "us-gov-west-1" not in table_ddl and "eu-west-1" in table_ddl
    assert all(e.workgroup.name == "primary" for e in recorded)
    assert all(e.config["OutputLocation"].startswith("s3://results-bucket/ctlint/") for e in recorded)
    # Second run: the catalog already holds both with the same projection: nothing to do.
    again, _ = engine(aws)
    assert again.setup() == []
    assert len(executions()) == 2


def test_setup_updates_projection_when_accounts_change(aws: boto3.Session) -> None:
    engine(aws)[0].setup()
    grown = AthenaEngine(
        settings(), (*ACCOUNTS, "333333333333"), session=aws, retry_config=FAST_RETRY, stderr=io.StringIO()
    )
    done = grown.setup()
    assert (
        len(done) == 1
        and done[0].startswith("updated Athena table")
        and "projection.account.values" in done[0]
    )
    assert executions()[-1].query.startswith("ALTER TABLE")
    assert "333333333333" in executions()[-1].query


def test_teardown_drops_table_and_the_database_ctlint_made(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    made.setup()
    assert made.teardown() == [
        f"dropped Athena table ctlint.{made.settings.table_name}",
        "dropped Athena database ctlint",
    ]
    assert [e.query.split(" IF")[0] for e in executions()[-2:]] == ["DROP TABLE", "DROP DATABASE"]
    assert made.teardown() == []  # nothing left


def test_teardown_keeps_a_database_that_holds_other_tables(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    made.setup()
    aws.client("glue", region_name=REGION).create_table(DatabaseName="ctlint", TableInput={"Name": "theirs"})
    done = made.teardown()
    assert done[-1] == "kept Athena database ctlint: it holds 1 other tables"
    assert not any(e.query.startswith("DROP DATABASE") for e in executions())


# ---------------------------------------------------------------- query life cycle


def test_query_succeeds_with_rows_parameters_and_cleanup(aws: boto3.Session) -> None:
    made, err = engine(aws)
    s3 = aws.client("s3", region_name=REGION)

    def write_result_objects(**kwargs) -> None:  # as Athena would: the CSV and its metadata
        key = f"ctlint/{kwargs['parsed']['QueryExecutionId']}.csv"
        s3.put_object(Bucket="results-bucket", Key=key, Body=b"x")
        s3.put_object(Bucket="results-bucket", Key=key + ".metadata", Body=b"x")

    aws.events.register("after-call.athena.StartQueryExecution", write_result_objects)
    queue_results(["name", "calls"], [["alice", "3"], [None, "0"]], ["varchar", "bigint"])
    rows = made.run_query("probe", "SELECT name, calls FROM t WHERE name = ?", ["'alice'"])
    assert rows == [("alice", 3), (None, 0)]
    recorded = executions()[-1]
    assert recorded.execution_parameters == ["'alice'"]
    assert recorded.context["Database"] == "ctlint"
    made.cleanup()
    assert s3.list_objects_v2(Bucket="results-bucket").get("KeyCount") == 0
    made.report_cost()
    assert "1 queries scanned 0 B; estimated cost $0.0001" in err.getvalue()


def test_keep_results_leaves_result_objects(aws: boto3.Session) -> None:
    made, _ = engine(aws, settings=settings(keep_results=True))
    s3 = aws.client("s3", region_name=REGION)
    made.run_query("probe", "SELECT 1")
    key = executions()[-1].config["OutputLocation"].removeprefix("s3://results-bucket/")
    s3.put_object(Bucket="results-bucket", Key=key, Body=b"x")
    made.cleanup()
    assert s3.list_objects_v2(Bucket="results-bucket")["KeyCount"] == 1


def test_queued_running_succeeded_life_cycle_is_polled(aws: boto3.Session) -> None:
    # Each status request moves the query one state on: QUEUED, RUNNING, then SUCCEEDED.
    state_manager.set_transition(
        model_name="athena::execution", transition={"progression": "manual", "times": 2}
    )
    try:
        made, _ = engine(aws)
        states: list[str] = []
        aws.events.register(
            "after-call.athena.GetQueryExecution",
            lambda **kw: states.append(kw["parsed"]["QueryExecution"]["Status"]["State"]),
        )
        queue_results(["n"], [["1"]])
        assert made.run_query("probe", "SELECT 1") == [("1",)]
    finally:
        state_manager.unset_transition("athena::execution")
    distinct = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
    assert distinct[:3] == ["QUEUED", "RUNNING", "SUCCEEDED"]


def set_final_state(session: boto3.Session, state: str, reason: str, scanned: int = 0) -> None:
    def rewrite(**kwargs) -> None:
        status = kwargs["parsed"]["QueryExecution"]["Status"]
        if status["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            status["State"] = state
            if reason:
                status["StateChangeReason"] = reason
            kwargs["parsed"]["QueryExecution"]["Statistics"]["DataScannedInBytes"] = scanned

    session.events.register("after-call.athena.GetQueryExecution", rewrite)


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_failed_or_cancelled_query_is_an_engine_error_with_reason_and_id(
    aws: boto3.Session, state: str
) -> None:
    made, _ = engine(aws)
    set_final_state(aws, state, "HIVE_BAD_DATA: Error parsing field value")
    queue_results(["n"], [["1"]])  # rows exist, but must never be used
    with pytest.raises(EngineError) as caught:
        made.run_query("principal_usage", "SELECT 1")
    query_id = executions()[-1].id
    assert str(caught.value) == (
        f"Athena query principal_usage (id {query_id}) ended {state}: HIVE_BAD_DATA: Error parsing field value."
    )


def test_bytes_scanned_and_cost_are_reported(aws: boto3.Session) -> None:
    made, err = engine(aws)
    set_final_state(aws, "SUCCEEDED", "", scanned=2 * 10**12)
    made.run_query("big", "SELECT 1")
    made.report_cost()
    assert "scanned 2.00 TB; estimated cost $10.0000 at $5 per TB" in err.getvalue()
    assert estimated_cost_usd(made._state.runs) == 0  # reported runs were consumed


def test_throttled_start_and_poll_are_retried(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    starts = fail_times(aws, "before-call.athena.StartQueryExecution", 2, "TooManyRequestsException")
    polls = fail_times(aws, "before-call.athena.GetQueryExecution", 2, "ThrottlingException")
    queue_results(["n"], [["7"]])
    assert made.run_query("probe", "SELECT 1") == [("7",)]
    assert starts[0] == 3 and polls[0] >= 3
    assert len(executions()) == 1  # throttled starts never reached Athena


def test_5xx_is_retried_but_bounded(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    calls = fail_times(aws, "before-call.athena.StartQueryExecution", 99, "InternalServerException", 500)
    with pytest.raises(
        EngineError, match=r"Athena failed while starting query probe: .*InternalServerException"
    ):
        made.run_query("probe", "SELECT 1")
    assert calls[0] == FAST_RETRY.attempt


def test_timeout_cancels_the_query(aws: boto3.Session) -> None:
    state_manager.set_transition(
        model_name="athena::execution", transition={"progression": "manual", "times": 999}
    )
    try:
        made, _ = engine(aws, settings=settings(query_timeout_s=0.3))
        with pytest.raises(EngineError, match=r"did not finish within 0.3 s and was cancelled"):
            made.run_query("slow", "SELECT 1")
        assert executions()[-1].status == "CANCELLED"
    finally:
        state_manager.unset_transition("athena::execution")


def test_s3_error_while_reading_results_fails_closed(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    fail_times(aws, "before-call.athena.GetQueryResults", 99, "InvalidRequestException")
    queue_results(["n"], [["1"]])
    with pytest.raises(EngineError) as caught:
        made.run_query("principal_usage", "SELECT 1")
    assert f"reading the results of query principal_usage (id {executions()[-1].id})" in str(caught.value)


def page_results(session: boto3.Session) -> list[int]:
    """Make moto page GetQueryResults by MaxResults/NextToken as Athena does; returns page sizes."""
    pages: list[int] = []

    def remember(params, context, **_kwargs) -> None:
        context["paging"] = (int(params.get("MaxResults", 1000)), int(params.get("NextToken", "0")))

    def cut(parsed, context, **_kwargs) -> None:
        size, offset = context["paging"]
        rows = parsed["ResultSet"]["Rows"]
        parsed["ResultSet"]["Rows"] = rows[offset : offset + size]
        if offset + size < len(rows):
            parsed["NextToken"] = str(offset + size)
        pages.append(len(parsed["ResultSet"]["Rows"]))

    session.events.register("provide-client-params.athena.GetQueryResults", remember)
    session.events.register("after-call.athena.GetQueryResults", cut)
    return pages


def test_result_paging_reads_every_page(aws: boto3.Session) -> None:
    made, _ = engine(aws, page_size=2)
    pages = page_results(aws)
    queue_results(["n"], [[str(i)] for i in range(7)], ["integer"])
    assert made.run_query("probe", "SELECT n") == [(i,) for i in range(7)]
    assert len(pages) >= 4  # 8 rows with the header, 2 per page


@pytest.mark.parametrize("code", ["ExpiredTokenException", "UnrecognizedClientException"])
def test_expired_credentials_say_so(aws: boto3.Session, code: str) -> None:
    made, _ = engine(aws)
    fail_times(aws, "before-call.athena.StartQueryExecution", 99, code)
    with pytest.raises(EngineError) as caught:
        made.run_query("probe", "SELECT 1")
    assert f"AWS rejected the credentials ({code})" in str(caught.value)
    assert "refresh them" in str(caught.value)


def test_glue_access_denied_names_the_permission_doc(aws: boto3.Session) -> None:
    made, _ = engine(aws)
    fail_times(aws, "before-call.glue.GetDatabase", 99, "AccessDeniedException")
    with pytest.raises(EngineError, match=r"reading Glue database ctlint .*docs/athena.md"):
        made.setup()


def test_no_region_anywhere_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    made = AthenaEngine(AthenaSettings(s3_bucket="b-1"), ACCOUNTS, session=boto3.Session())
    with pytest.raises(ConfigError, match="athena.region is not set"):
        _ = made.region


def test_collect_rejects_accounts_outside_the_projection(aws: boto3.Session) -> None:
    from datetime import datetime, timezone

    from ctlint.model import Window

    made, _ = engine(aws)
    window = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 7, 1, tzinfo=timezone.utc))
    with pytest.raises(ConfigError, match="333333333333 is not in the Athena table's projection"):
        made.collect(window, ["333333333333"])
    assert executions() == []


Hook = Callable[..., None]
_ = json  # json kept for ad-hoc debugging of recorded queries
