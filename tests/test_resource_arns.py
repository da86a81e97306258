"""The derivation of resource ARNs from CloudTrail records (ctlint.usage.resource_arns): every line of
the table, the ARN formats taken from the catalog, and hostile values refused."""

from __future__ import annotations

import re

import pytest

from ctlint.catalog import Catalog
from ctlint.usage import resource_arns as ra

ACCOUNT, OTHER = "111122223333", "444455556666"
CTX = ra.context_for(f"arn:aws:iam::{ACCOUNT}:role/app", "eu-west-1", ACCOUNT)


@pytest.fixture(scope="module")
def formats() -> ra.FormatLookup:
    catalog = Catalog.load()
    return ra.catalog_formats(catalog.resource_types, catalog.service_actions)


def derive(formats: ra.FormatLookup, source: str, params: dict, resources: list | None = None) -> list[str]:
    return list(ra.record_arns(source, resources or [], params, CTX, formats))


# One case per RULES line: (eventSource, requestParameters, expected ARNs).
TABLE = [
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "a/b.txt"}, ["arn:aws:s3:::logs/a/b.txt"]),
    ("s3.amazonaws.com", {"bucketName": "logs"}, ["arn:aws:s3:::logs"]),
    ("dynamodb.amazonaws.com", {"tableName": "T"}, [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/T"]),
    ("lambda.amazonaws.com", {"functionName": "fn"}, [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn"]),
    (
        "lambda.amazonaws.com",
        {"functionName": f"{OTHER}:function:fn"},
        [f"arn:aws:lambda:eu-west-1:{OTHER}:function:fn"],
    ),
    (
        "lambda.amazonaws.com",
        {"functionName": f"arn:aws:lambda:us-east-1:{OTHER}:function:fn"},
        [f"arn:aws:lambda:us-east-1:{OTHER}:function:fn"],
    ),
    (
        "sqs.amazonaws.com",
        {"queueUrl": f"https://sqs.us-east-2.amazonaws.com/{OTHER}/jobs.fifo"},
        [f"arn:aws:sqs:us-east-2:{OTHER}:jobs.fifo"],
    ),
    (
        "sns.amazonaws.com",
        {"topicArn": f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"},
        [f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"],
    ),
    (
        "kms.amazonaws.com",
        {"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        [f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    ),
    ("kms.amazonaws.com", {"keyId": "alias/app"}, [f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/app"]),
    (
        "kms.amazonaws.com",
        {"keyId": f"arn:aws:kms:us-east-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        [f"arn:aws:kms:us-east-1:{OTHER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
    ),
    (
        "secretsmanager.amazonaws.com",
        {"secretId": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf"},
        [f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCdEf"],
    ),
    ("ssm.amazonaws.com", {"name": "/app/db"}, [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db"]),
    (
        "ssm.amazonaws.com",
        {"names": ["/a", "b"]},
        [f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/a", f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/b"],
    ),
    ("iam.amazonaws.com", {"roleName": "deploy"}, [f"arn:aws:iam::{ACCOUNT}:role/deploy"]),
    ("iam.amazonaws.com", {"userName": "alice"}, [f"arn:aws:iam::{ACCOUNT}:user/alice"]),
    ("iam.amazonaws.com", {"groupName": "ops"}, [f"arn:aws:iam::{ACCOUNT}:group/ops"]),
    (
        "iam.amazonaws.com",
        {"policyArn": f"arn:aws:iam::{ACCOUNT}:policy/app"},
        [f"arn:aws:iam::{ACCOUNT}:policy/app"],
    ),
    ("iam.amazonaws.com", {"instanceProfileName": "web"}, [f"arn:aws:iam::{ACCOUNT}:instance-profile/web"]),
    ("ec2.amazonaws.com", {"instanceId": "i-0abc"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0abc"]),
    (
        "ec2.amazonaws.com",
        {"instancesSet": {"items": [{"instanceId": "i-1"}, {"instanceId": "i-2"}]}},
        [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-1", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-2"],
    ),
    ("ec2.amazonaws.com", {"vpcId": "vpc-1"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:vpc/vpc-1"]),
    ("ec2.amazonaws.com", {"subnetId": "subnet-1"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:subnet/subnet-1"]),
    ("ec2.amazonaws.com", {"routeTableId": "rtb-1"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:route-table/rtb-1"]),
    ("ec2.amazonaws.com", {"groupId": "sg-1"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/sg-1"]),
    (
        "ec2.amazonaws.com",
        {"internetGatewayId": "igw-1"},
        [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:internet-gateway/igw-1"],
    ),
    ("ec2.amazonaws.com", {"volumeId": "vol-1"}, [f"arn:aws:ec2:eu-west-1:{ACCOUNT}:volume/vol-1"]),
    ("ec2.amazonaws.com", {"snapshotId": "snap-1"}, ["arn:aws:ec2:eu-west-1::snapshot/snap-1"]),  # no account
    ("ec2.amazonaws.com", {"imageId": "ami-1"}, ["arn:aws:ec2:eu-west-1::image/ami-1"]),
    ("sts.amazonaws.com", {"roleArn": f"arn:aws:iam::{OTHER}:role/x"}, [f"arn:aws:iam::{OTHER}:role/x"]),
    (
        "logs.amazonaws.com",
        {"logGroupName": "/aws/lambda/fn"},
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/fn"],
    ),
    (
        "logs.amazonaws.com",
        {"logGroupName": "/aws/lambda/fn", "logStreamName": "2026/06/01"},
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/fn:log-stream:2026/06/01"],
    ),
    ("rds.amazonaws.com", {"dBInstanceIdentifier": "db1"}, [f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:db1"]),
    ("cloudtrail.amazonaws.com", {"name": "main"}, [f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/main"]),
]


@pytest.mark.parametrize(
    ("source", "params", "expected"), TABLE, ids=[f"{t[0]}-{next(iter(t[1]))}" for t in TABLE]
)
def test_every_table_entry(formats: ra.FormatLookup, source: str, params: dict, expected: list[str]) -> None:
    assert derive(formats, source, params) == expected


def test_the_table_is_covered_and_its_types_are_the_catalogs(formats: ra.FormatLookup) -> None:
    covered = {(source, parameter) for source, params, _ in TABLE for parameter in params}
    for rule in ra.RULES:
        assert (rule.event_source, rule.parameter) in covered, rule
        service, _, type_name = rule.resource_type.partition("/")
        assert formats(service, type_name) is not None, rule  # the ARN shape is the catalog's
    # The engines splice these keys into a JSON path: plain identifiers only.
    assert all(re.fullmatch(r"[A-Za-z]+", key) for key in ra.PARAMETERS)


def test_the_arn_shape_comes_from_the_catalog_format() -> None:
    made_up = {("dynamodb", "table"): "arn:${Partition}:dynamodb:${Region}:${Account}:tbl-${TableName}"}
    arns = ra.record_arns(
        "dynamodb.amazonaws.com", [], {"tableName": "T"}, CTX, lambda s, t: made_up.get((s, t))
    )
    assert arns == (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:tbl-T",)
    assert ra.record_arns("dynamodb.amazonaws.com", [], {"tableName": "T"}, CTX, lambda s, t: None) == ()


def test_partition_region_and_account_come_from_the_record(formats: ra.FormatLookup) -> None:
    china = ra.context_for(f"arn:aws-cn:iam::{ACCOUNT}:user/u", "cn-north-1", ACCOUNT)
    assert ra.record_arns("dynamodb.amazonaws.com", [], {"tableName": "T"}, china, formats) == (
        f"arn:aws-cn:dynamodb:cn-north-1:{ACCOUNT}:table/T",
    )
    nowhere = ra.context_for(f"arn:aws:iam::{ACCOUNT}:user/u", None, ACCOUNT)
    assert ra.record_arns("dynamodb.amazonaws.com", [], {"tableName": "T"}, nowhere, formats) == ()
    bad = ra.context_for(f"arn:aws:iam::{ACCOUNT}:user/u", "eu-west-1'; --", "12")
    assert bad.region is None and bad.account is None


def test_resources_field_entries_come_first_and_are_kept_when_well_formed(formats: ra.FormatLookup) -> None:
    resources = [
        "arn:aws:s3:::logs/a.txt",
        "arn:aws:s3:::logs",
        "not an arn",
        None,
        42,
        "arn:aws:s3:::logs/*",
        "arn:aws:s3:::logs/${aws:username}",
        "arn:aws:s3:::logs/a\nb",
    ]
    assert derive(formats, "s3.amazonaws.com", {"bucketName": "logs", "key": "a.txt"}, resources) == [
        "arn:aws:s3:::logs/a.txt",
        "arn:aws:s3:::logs",
    ]


HOSTILE = [
    ("s3.amazonaws.com", {"bucketName": "logs/other-bucket-object"}),  # a bucket is one segment
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "*"}),
    ("s3.amazonaws.com", {"bucketName": "lo?s"}),
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "${aws:username}/x"}),
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "a\u0000b"}),
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "a\u0085b"}),
    ("s3.amazonaws.com", {"bucketName": "logs", "key": "k" * (ra.MAX_VALUE + 1)}),
    ("s3.amazonaws.com", {"bucketName": ["logs"]}),
    ("s3.amazonaws.com", {"bucketName": {"a": "logs"}}),
    ("s3.amazonaws.com", {"bucketName": 7}),
    ("s3.amazonaws.com", {"bucketName": ""}),
    ("s3.amazonaws.com", {"bucketName": " logs"}),
    ("dynamodb.amazonaws.com", {"tableName": "T:other"}),  # the ARN's separator
    ("iam.amazonaws.com", {"roleName": "a/../../admin"}),
    ("iam.amazonaws.com", {"policyArn": "arn:aws:iam::111122223333:role/not-a-policy"}),
    ("iam.amazonaws.com", {"policyArn": "arn:aws:iam::111122223333:policy/*"}),
    ("sts.amazonaws.com", {"roleArn": "role/x"}),
    ("lambda.amazonaws.com", {"functionName": "fn:live"}),  # a qualifier: not the function's ARN
    ("lambda.amazonaws.com", {"functionName": "arn:aws:lambda:eu-west-1:111122223333:function:fn:1"}),
    ("sqs.amazonaws.com", {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/111122223333/q/../x"}),
    ("sqs.amazonaws.com", {"queueUrl": "http://evil/111122223333/q"}),
    ("kms.amazonaws.com", {"keyId": "key/../alias/x"}),
    ("kms.amazonaws.com", {"keyId": "alias/*"}),
    ("secretsmanager.amazonaws.com", {"secretId": "db"}),  # a name: its ARN has a random suffix
    ("ssm.amazonaws.com", {"name": "//x"}),
    ("ssm.amazonaws.com", {"names": "not-a-list"}),
    ("ec2.amazonaws.com", {"instancesSet": {"items": [{"instanceId": "i-1/x"}, "i-2", None]}}),
    ("logs.amazonaws.com", {"logGroupName": "g", "logStreamName": "a:log-stream:b"}),
    ("cloudtrail.amazonaws.com", {"name": "a/b"}),
]


@pytest.mark.parametrize(("source", "params"), HOSTILE, ids=[repr(p)[:40] for _, p in HOSTILE])
def test_hostile_values_yield_nothing(formats: ra.FormatLookup, source: str, params: dict) -> None:
    assert derive(formats, source, params) == []


def test_the_table_applies_to_its_own_service_only(formats: ra.FormatLookup) -> None:
    assert derive(formats, "sqs.amazonaws.com", {"tableName": "T", "bucketName": "b"}) == []


def test_a_record_names_at_most_max_per_record(formats: ra.FormatLookup) -> None:
    items = [{"instanceId": f"i-{n}"} for n in range(100)]
    resources = [f"arn:aws:s3:::b{n}" for n in range(100)]
    assert len(derive(formats, "ec2.amazonaws.com", {"instancesSet": {"items": items}})) == ra.MAX_PER_RECORD
    both = derive(formats, "ec2.amazonaws.com", {"instancesSet": {"items": items}}, resources)
    assert both == resources[: ra.MAX_PER_RECORD]  # the resources field first, then the parameters
    assert derive(formats, "s3.amazonaws.com", {}, ["arn:aws:s3:::b", "arn:aws:s3:::b"]) == ["arn:aws:s3:::b"]


@pytest.mark.parametrize("name", sorted(ra.CALLER_EVENTS))
def test_iam_calls_without_a_user_name_act_on_the_calling_user(formats: ra.FormatLookup, name: str) -> None:
    user = f"arn:aws:iam::{ACCOUNT}:user/ops/alice"
    ctx = ra.context_for(user, "us-east-1", ACCOUNT)
    assert ra.record_arns("iam.amazonaws.com", [], {}, ctx, formats, name) == (user,)
    named = ra.record_arns("iam.amazonaws.com", [], {"userName": "bob"}, ctx, formats, name)
    assert named == (f"arn:aws:iam::{ACCOUNT}:user/bob",)  # the request names the user: that one
    role = ra.context_for(f"arn:aws:iam::{ACCOUNT}:role/r", "us-east-1", ACCOUNT)
    assert ra.record_arns("iam.amazonaws.com", [], {}, role, formats, name) == ()  # a role is no user
    assert ra.record_arns("iam.amazonaws.com", [], {}, ctx, formats, "ListUsers") == ()
