from datetime import datetime, timezone

import pytest

from ctlint.catalog import Catalog
from ctlint.events import VERSION_SUFFIX, EventMapping, iam_prefix, load_tables, map_event, map_usage
from ctlint.model import EventStats, RawUsage, UsageRow, Window

S3, LAMBDA, KMS, DDB = (
    "s3.amazonaws.com",
    "lambda.amazonaws.com",
    "kms.amazonaws.com",
    "dynamodb.amazonaws.com",
)
STS, CW, SES, APIGW = (
    "sts.amazonaws.com",
    "monitoring.amazonaws.com",
    "email.amazonaws.com",
    "apigateway.amazonaws.com",
)

# Hand-checked against the AWS documentation (S3 "Amazon S3 CloudTrail events" and the API Reference
# permission notes; Lambda, KMS, DynamoDB, STS, CloudWatch, SES and API Gateway permission references).
DOCUMENTED = [
    (S3, "ListBuckets", ("s3:ListAllMyBuckets",)),
    (S3, "ListObjects", ("s3:ListBucket",)),
    (S3, "ListObjectsV2", ("s3:ListBucket",)),
    (S3, "HeadBucket", ("s3:ListBucket",)),
    (S3, "HeadObject", ("s3:GetObject",)),
    (S3, "GetObject", ("s3:GetObject",)),
    (S3, "PutObject", ("s3:PutObject",)),
    (S3, "DeleteObjects", ("s3:DeleteObject",)),
    (S3, "CopyObject", ("s3:GetObject", "s3:PutObject")),
    (S3, "CreateMultipartUpload", ("s3:PutObject",)),
    (S3, "ListObjectVersions", ("s3:ListBucketVersions",)),
    (S3, "GetBucketAcl", ("s3:GetBucketAcl",)),
    (S3, "PutBucketAcl", ("s3:PutBucketAcl",)),
    (S3, "GetBucketPolicy", ("s3:GetBucketPolicy",)),
    (S3, "GetBucketEncryption", ("s3:GetEncryptionConfiguration",)),
    (S3, "DeleteBucketEncryption", ("s3:PutEncryptionConfiguration",)),
    (S3, "PutBucketReplication", ("s3:PutReplicationConfiguration",)),
    (S3, "GetBucketLifecycle", ("s3:GetLifecycleConfiguration",)),
    (S3, "DeleteBucketCors", ("s3:PutBucketCORS",)),
    (S3, "PutPublicAccessBlock", ("s3:PutBucketPublicAccessBlock",)),
    (S3, "CreateBucket", ("s3:CreateBucket",)),
    (LAMBDA, "Invoke", ("lambda:InvokeFunction",)),
    (LAMBDA, "CreateFunction20150331", ("lambda:CreateFunction",)),
    (LAMBDA, "UpdateFunctionCode20150331v2", ("lambda:UpdateFunctionCode",)),
    (LAMBDA, "GetFunction20150331v2", ("lambda:GetFunction",)),
    (LAMBDA, "AddPermission20150331v2", ("lambda:AddPermission",)),
    (LAMBDA, "ListFunctions20150331", ("lambda:ListFunctions",)),
    (KMS, "ReEncrypt", ("kms:ReEncryptFrom", "kms:ReEncryptTo")),
    (KMS, "Decrypt", ("kms:Decrypt",)),
    (KMS, "GenerateDataKey", ("kms:GenerateDataKey",)),
    (KMS, "CreateGrant", ("kms:CreateGrant",)),
    (DDB, "GetItem", ("dynamodb:GetItem",)),
    (DDB, "PutItem", ("dynamodb:PutItem",)),
    (DDB, "TransactGetItems", ("dynamodb:GetItem",)),
    (DDB, "CreateTable", ("dynamodb:CreateTable",)),
    ("streams.dynamodb.amazonaws.com", "GetRecords", ("dynamodb:GetRecords",)),
    (STS, "AssumeRole", ("sts:AssumeRole",)),
    (STS, "AssumeRoleWithSAML", ("sts:AssumeRoleWithSAML",)),
    (STS, "AssumeRoleWithWebIdentity", ("sts:AssumeRoleWithWebIdentity",)),
    (CW, "PutMetricAlarm", ("cloudwatch:PutMetricAlarm",)),
    (CW, "DescribeAlarms", ("cloudwatch:DescribeAlarms",)),
    (CW, "DeleteAlarms", ("cloudwatch:DeleteAlarms",)),
    (SES, "SendEmail", ("ses:SendEmail",)),
    (SES, "SendRawEmail", ("ses:SendRawEmail",)),
    (SES, "VerifyEmailIdentity", ("ses:VerifyEmailIdentity",)),
    (APIGW, "GetRestApis", ("apigateway:GET",)),
    (APIGW, "CreateRestApi", ("apigateway:POST",)),
    (APIGW, "UpdateStage", ("apigateway:PATCH",)),
    (APIGW, "DeleteDeployment", ("apigateway:DELETE",)),
    (APIGW, "PutIntegration", ("apigateway:PUT",)),
    (APIGW, "GetPortal", ("apigateway:GetPortal",)),  # a real named action wins over the verb rule
    ("cloudfront.amazonaws.com", "CreateDistribution2016_11_25", ("cloudfront:CreateDistribution",)),
    ("kafka.amazonaws.com", "CreateClusterV2", ("kafka:CreateClusterV2",)),
    ("sagemaker.amazonaws.com", "CreateAutoMLJobV2", ("sagemaker:CreateAutoMLJobV2",)),
    ("tagging.amazonaws.com", "GetResources", ("tag:GetResources",)),
    ("cloudcontrolapi.amazonaws.com", "CreateResource", ("cloudformation:CreateResource",)),
    ("iam.amazonaws.com", "CreateRole", ("iam:CreateRole",)),
]


@pytest.mark.parametrize(("source", "name", "actions"), DOCUMENTED)
def test_documented_mapping(source, name, actions):
    assert map_event(source, name) == EventMapping("mapped", actions)


def test_table_is_large_enough():
    assert len(DOCUMENTED) >= 40
    services = {a.split(":")[0] for _, _, acts in DOCUMENTED for a in acts}
    assert {"s3", "lambda", "kms", "dynamodb", "sts", "cloudwatch", "ses", "apigateway"} <= services


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("signin.amazonaws.com", "ConsoleLogin"),
        ("signin.amazonaws.com", "CheckMfa"),
        ("signin.amazonaws.com", "SwitchRole"),
        ("signin.amazonaws.com", "ExitRole"),
        ("signin.amazonaws.com", "RenewRole"),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("kms.amazonaws.com", "DeleteKey"),
    ],
)
def test_no_iam_action(source, name):
    assert map_event(source, name) == EventMapping("no_iam_action", ())


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("s3.amazonaws.com", "GetObjet"),
        ("nosuchservice.amazonaws.com", "DoThing"),
        ("", "GetObject"),
        ("s3.amazonaws.com", ""),
        ("lambda.amazonaws.com", "CreateFunction2015"),  # not a date suffix: never stripped
    ],
)
def test_unmapped(source, name):
    assert map_event(source, name).kind == "unmapped"
    assert map_event(source, name).actions == ()


def test_case_and_whitespace_are_tolerated():
    assert map_event(" S3.AMAZONAWS.COM ", "ListBuckets").actions == ("s3:ListAllMyBuckets",)
    assert map_event("lambda.amazonaws.com", "invoke").actions == ("lambda:InvokeFunction",)


def test_version_suffix_is_anchored():
    assert VERSION_SUFFIX.sub("", "CreateFunction20150331") == "CreateFunction"
    assert VERSION_SUFFIX.sub("", "UpdateFunctionCode20150331v2") == "UpdateFunctionCode"
    assert VERSION_SUFFIX.sub("", "CreateDistribution2016_11_25") == "CreateDistribution"
    assert VERSION_SUFFIX.sub("", "CreateClusterV2") == "CreateClusterV2"
    assert VERSION_SUFFIX.sub("", "DescribeDBInstances") == "DescribeDBInstances"
    assert VERSION_SUFFIX.sub("", "GetObject2") == "GetObject2"


def test_catalog_actions_ending_in_digits_survive():
    catalog = Catalog.load()
    digit_names = [a for a in catalog.all_actions if a[-1].isdigit()]
    assert len(digit_names) > 50
    for action in digit_names:
        service, name = action.split(":")
        assert map_event(f"{service}.amazonaws.com", name).actions[:1] in ((action,), ())


def test_prefix_table():
    assert iam_prefix("monitoring.amazonaws.com") == "cloudwatch"
    assert iam_prefix("email.amazonaws.com") == "ses"
    assert iam_prefix("tagging.amazonaws.com") == "tag"
    assert iam_prefix("streams.dynamodb.amazonaws.com") == "dynamodb"
    assert iam_prefix("appstream2.amazonaws.com") == "appstream"
    assert iam_prefix("models.lex.amazonaws.com") == "lex"
    assert iam_prefix("runtime.lex.amazonaws.com") == "lex"
    assert iam_prefix("mturk-requester.amazonaws.com") == "mechanicalturk"
    assert iam_prefix("pricelist.amazonaws.com") == "pricing"
    assert iam_prefix("api.pricing.amazonaws.com") == "pricing"
    assert iam_prefix("cloudcontrolapi.amazonaws.com") == "cloudformation"
    assert iam_prefix("ec2.amazonaws.com") == "ec2"


def test_every_mapping_target_exists_in_the_catalog():
    catalog, tables = Catalog.load(), load_tables()
    for source, prefix in tables.sources.items():
        assert catalog.service_actions(prefix), f"{source} -> {prefix} has no actions"
    for source, events in tables.overrides.items():
        for name, actions in events.items():
            for action in actions:
                assert catalog.canonical(action) == action, f"{source} {name} -> {action}"
    for source, rules in tables.name_prefix_rules.items():
        for prefix, action in rules:
            assert catalog.canonical(action) == action, f"{source} {prefix}* -> {action}"


def _t(day: int) -> datetime:
    return datetime(2026, 6, day, tzinfo=timezone.utc)


def _row(arn, source, name, count, first, last, ptype="role"):
    return UsageRow("111122223333", arn, ptype, source, name, count, _t(first), _t(last))


def test_map_usage_aggregates_per_canonical_action():
    role, user = "arn:aws:iam::111122223333:role/app", "arn:aws:iam::111122223333:user/bob"
    raw = RawUsage(
        window=Window(_t(1), _t(30)),
        rows=(
            _row(role, S3, "ListObjects", 2, 3, 5),
            _row(role, S3, "ListObjectsV2", 3, 2, 4),
            _row(role, S3, "HeadBucket", 1, 9, 9),
            _row(role, KMS, "ReEncrypt", 4, 6, 7),
            _row(role, "signin.amazonaws.com", "ConsoleLogin", 1, 1, 1),
            _row(role, "sts.amazonaws.com", "GetCallerIdentity", 2, 1, 1),
            _row(user, "sts.amazonaws.com", "GetCallerIdentity", 5, 1, 1, "user"),
            _row(user, "nosuch.amazonaws.com", "Foo", 7, 1, 1, "user"),
            _row(role, "nosuch.amazonaws.com", "Foo", 1, 1, 1),
        ),
        stats=EventStats(read=30, counted=26, errors=0),
        events_per_account={"111122223333": 30},
        skipped_files=("bad.json.gz",),
    )
    usage = map_usage(raw)
    assert list(usage.principals) == [role, user]
    actions = usage.principals[role].actions
    assert list(actions) == ["kms:ReEncryptFrom", "kms:ReEncryptTo", "s3:ListBucket"]
    assert actions["s3:ListBucket"].count == 6
    assert actions["s3:ListBucket"].first_seen == _t(2)
    assert actions["s3:ListBucket"].last_seen == _t(9)
    assert actions["kms:ReEncryptTo"].count == 4
    assert usage.principals[role].type == "role"
    assert usage.principals[user].type == "user" and dict(usage.principals[user].actions) == {}
    assert [(e.event_source, e.event_name, e.count) for e in usage.no_iam_action] == [
        ("signin.amazonaws.com", "ConsoleLogin", 1),
        ("sts.amazonaws.com", "GetCallerIdentity", 7),
    ]
    assert [(e.event_name, e.count) for e in usage.unmapped] == [("Foo", 8)]
    assert usage.stats == raw.stats and usage.window == raw.window
    assert usage.events_per_account == raw.events_per_account and usage.skipped_files == raw.skipped_files
