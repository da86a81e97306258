"""Mapping coverage on real third-party CloudTrail records (../shared/realdata, not shipped)."""

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from ctlint.events import map_event

pytestmark = pytest.mark.realdata

RECORDS = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "cloudtrail-records"

# Names that are not AWS events: negative fixtures of detection-rule unit tests (panther-analysis pairs a
# name with the wrong service on purpose, e.g. ec2 DeleteBucketEncryption, iam NotCreateUser) and one
# record whose eventName is a URL. They must stay unmapped; they are reported apart from real gaps.
FABRICATED = {
    ("cloudtrail.amazonaws.com", "DeleteRule"),
    ("cloudtrail.amazonaws.com", "DescribeTrail"),
    ("cloudtrail.amazonaws.com", "EnableRegion"),
    ("ec2.amazonaws.com", "DeleteBucketEncryption"),
    ("ec2.amazonaws.com", "DeleteBucketPublicAccessBlock"),
    ("ec2.amazonaws.com", "DeleteBucketReplication"),
    ("ec2.amazonaws.com", "PutBucketLogging"),
    ("ec2.amazonaws.com", "RegisterManagedInstance"),
    ("ec2messages.amazonaws.com", "SendHeartbeat"),
    ("iam.amazonaws.com", "DescribePolicy"),
    ("iam.amazonaws.com", "DetachUserGroup"),
    ("iam.amazonaws.com", "NotCreateUser"),
    ("iam.amazonaws.com", "PutPolicy"),
    ("s3.amazonaws.com", "SetQueueAttributes"),
    ("sso.amazonaws.com", "https://portal.sso.us-east-1.amazonaws.com/instance/appinstances"),
}


@pytest.fixture(scope="module")
def pairs() -> Counter:
    if not RECORDS.is_dir():
        pytest.skip("../shared/realdata/cloudtrail-records is absent (third-party data, not shipped)")
    counts: Counter = Counter()
    for path in sorted(RECORDS.glob("*.gz")):
        for record in json.loads(gzip.decompress(path.read_bytes()))["Records"]:
            counts[(record.get("eventSource") or "", record.get("eventName") or "")] += 1
    return counts


def test_corpus_is_the_expected_one(pairs):
    assert sum(pairs.values()) == 4230


def test_unmapped_under_one_percent_of_records(pairs):
    kinds = Counter()
    for (source, name), count in pairs.items():
        kinds[map_event(source, name).kind] += count
    assert kinds["unmapped"] / sum(pairs.values()) < 0.01, kinds
    assert kinds["mapped"] / sum(pairs.values()) > 0.95, kinds


def test_unmapped_real_pairs_under_one_percent(pairs):
    unmapped = {p for p in pairs if map_event(*p).kind == "unmapped"}
    real = unmapped - FABRICATED
    assert len(real) / (len(pairs) - len(FABRICATED & set(pairs))) < 0.01, sorted(real)


def test_fabricated_names_stay_unmapped(pairs):
    for pair in FABRICATED & set(pairs):
        assert map_event(*pair).kind == "unmapped", pair


def test_no_iam_events_are_recognised(pairs):
    no_iam = {p for p in pairs if map_event(*p).kind == "no_iam_action"}
    assert ("signin.amazonaws.com", "ConsoleLogin") in no_iam
    assert ("sts.amazonaws.com", "GetCallerIdentity") in no_iam
