"""Regenerate the malformed-input corpus: `python tests/malformed/build.py` (deterministic output).

Layout (see README.md): `base/` is one good account (IAM snapshot + CloudTrail logs for June 2026);
`config/`, `iam/`, `cloudtrail/` hold one broken input per file, each differing from `base/` in one way.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCOUNT = "111111111111"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"


def policy(*actions: str, effect: str = "Allow") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": effect, "Action": list(actions), "Resource": "*"}],
    }


def snapshot() -> dict:
    return {
        "UserDetailList": [
            {
                "UserName": "alice",
                "Arn": ALICE,
                "Path": "/",
                "GroupList": ["devs"],
                "UserPolicyList": [
                    {"PolicyName": "s3", "PolicyDocument": policy("s3:CreateBucket", "s3:ListAllMyBuckets")}
                ],
                "AttachedManagedPolicies": [
                    {"PolicyName": "ro", "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/ro"}
                ],
            }
        ],
        "GroupDetailList": [
            {
                "GroupName": "devs",
                "Arn": f"arn:aws:iam::{ACCOUNT}:group/devs",
                "Path": "/",
                "GroupPolicyList": [],
                "AttachedManagedPolicies": [],
            }
        ],
        "RoleDetailList": [],
        "Policies": [
            {
                "PolicyName": "ro",
                "Arn": f"arn:aws:iam::{ACCOUNT}:policy/ro",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": True, "Document": policy("ec2:DescribeInstances")}
                ],
            }
        ],
    }


def record(name: str = "CreateBucket", time: str = "2026-06-02T10:00:00Z", **extra) -> dict:
    rec = {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": ALICE,
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLEKEY0WXYZ",
            "userName": "alice",
        },
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "requestParameters": {"bucketName": "b"},
        "responseElements": None,
        "requestID": f"req-{name}-{time}",
        "eventID": f"evt-{name}-{time}",
        "recipientAccountId": ACCOUNT,
    }
    rec.update(extra)
    return rec


def write(rel: str, data: bytes | str | dict) -> None:
    path = HERE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, dict):
        data = json.dumps(data, indent=1)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)


def snapshot_with(keys: tuple, value: object) -> dict:
    """The good snapshot with the value at `keys` (a path of dict keys and list indexes) replaced."""
    data = snapshot()
    target = data
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return data


def record_without(key: str) -> dict:
    rec = record("ListBuckets", "2026-06-04T10:00:00Z")
    del rec[key]
    return rec


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


GOOD_CONFIG = """accounts:
  - name: prod
    id: "111111111111"
    iam: ../base/iam.json
usage:
  local:
    paths: [../base/logs]
window:
  start: 2026-06-01
  end: 2026-07-01
"""

CONFIGS = {
    "unknown-key.yaml": GOOD_CONFIG.replace("window:", "windw:"),
    "unknown-nested-key.yaml": GOOD_CONFIG.replace("    paths:", "    path:"),
    "wrong-type-accounts.yaml": GOOD_CONFIG.replace(
        'accounts:\n  - name: prod\n    id: "111111111111"\n    iam: ../base/iam.json', "accounts: prod"
    ),
    "wrong-type-skip.yaml": GOOD_CONFIG.replace(
        "    paths: [../base/logs]", "    paths: [../base/logs]\n    skip_bad_files: sometimes"
    ),
    "missing-accounts.yaml": "usage:" + GOOD_CONFIG.split("usage:")[1],
    "empty-accounts.yaml": "accounts: []\n" + "usage:" + GOOD_CONFIG.split("usage:")[1],
    "bad-account-id.yaml": GOOD_CONFIG.replace('id: "111111111111"', "id: 11111111111"),
    "duplicate-account-id.yaml": GOOD_CONFIG.replace(
        "usage:", '  - name: other\n    id: "111111111111"\n    iam: ../base/iam.json\nusage:'
    ),
    "duplicate-account-name.yaml": GOOD_CONFIG.replace(
        "usage:", '  - name: prod\n    id: "222222222222"\n    iam: ../base/iam.json\nusage:'
    ),
    "duplicate-yaml-key.yaml": GOOD_CONFIG.replace(
        "  end: 2026-07-01", "  end: 2026-07-01\n  end: 2026-08-01"
    ),
    "snapshot-missing.yaml": GOOD_CONFIG.replace("../base/iam.json", "../base/no-such-snapshot.json"),
    "logs-missing.yaml": GOOD_CONFIG.replace("[../base/logs]", "[../base/no-such-logs]"),
    "window-start-after-end.yaml": GOOD_CONFIG.replace("start: 2026-06-01", "start: 2026-08-01"),
    "window-not-a-date.yaml": GOOD_CONFIG.replace("start: 2026-06-01", "start: 2026-13-01"),
    "window-in-future.yaml": GOOD_CONFIG.replace(
        "start: 2026-06-01\n  end: 2026-07-01", "start: 2026-06-01\n  end: 2099-01-01"
    ),
    "window-start-in-future.yaml": GOOD_CONFIG.replace(
        "start: 2026-06-01\n  end: 2026-07-01", "start: 2099-01-01"
    ),
    "allowlist-no-reason.yaml": GOOD_CONFIG
    + 'allowlist:\n  - principal: "arn:aws:iam::111111111111:user/alice"\n',
    "allowlist-blank-reason.yaml": GOOD_CONFIG
    + 'allowlist:\n  - principal: "arn:aws:iam::111111111111:user/alice"\n    reason: "   "\n',
    "python-tag.yaml": GOOD_CONFIG
    + 'fail_on: !!python/object/apply:os.system ["echo pwned > /tmp/ctlint-pwned"]\n',
    "not-yaml.yaml": "accounts: [\n  {name: prod\n",
    "not-a-mapping.yaml": "- just\n- a list\n",
    "empty.yaml": "",
    "elasticsearch.yaml": GOOD_CONFIG + "elasticsearch:\n  host: localhost\n",
}


def main() -> None:
    write("base/iam.json", snapshot())
    write(
        "base/logs/111111111111_CloudTrail_us-east-1_20260602.json.gz",
        gz(json.dumps({"Records": [record(), record("ListBuckets", "2026-06-03T10:00:00Z")]}).encode()),
    )
    for name, text in CONFIGS.items():
        write(f"config/{name}", text)

    # IAM snapshots: each breaks the good one in one way.
    good = json.dumps(snapshot(), indent=1)
    write("iam/not-json.json", "UserDetailList: alice\n")
    write("iam/not-authz.json", {"Users": [{"UserName": "alice"}]})
    write("iam/json-array.json", "[]")
    write("iam/truncated.json", good[: len(good) // 2])
    write("iam/empty.json", "")
    write("iam/managed-policy-absent.json", snapshot_with(("Policies",), []))
    write("iam/group-absent.json", snapshot_with(("GroupDetailList",), []))
    inline = ("UserDetailList", 0, "UserPolicyList", 0, "PolicyDocument")
    write("iam/policy-invalid-json.json", snapshot_with(inline, '{"Version": "2012-10-17", "Statement": ['))
    write("iam/policy-bad-url-encoding.json", snapshot_with(inline, "%7B%22Version%22%3A%E9%22"))
    write("iam/effect-permit.json", snapshot_with(inline, policy("s3:*", effect="Permit")))
    statement = ("Policies", 0, "PolicyVersionList", 0, "Document", "Statement")
    write("iam/empty-statement.json", snapshot_with(statement, []))
    write("iam/other-account.json", good.replace(ACCOUNT, "999999999999"))
    alice = snapshot()["UserDetailList"][0]
    write("iam/duplicate-principal.json", snapshot_with(("UserDetailList",), [alice, copy.deepcopy(alice)]))

    # CloudTrail files: each is one delivery file that cannot be used.
    body = json.dumps({"Records": [record("ListBuckets", "2026-06-04T10:00:00Z")]}).encode()
    write("cloudtrail/corrupt.json.gz", b"\x1f\x8b\x08\x00" + b"not really deflate data" * 4)
    write("cloudtrail/truncated.json.gz", gz(body)[:40])
    write("cloudtrail/not-gzip.json.gz", body)
    write("cloudtrail/not-json.json", "this is a log line, not JSON\n")
    write("cloudtrail/truncated.json", body[: len(body) // 2])
    write("cloudtrail/empty.json", "")
    write("cloudtrail/no-event-source.json", {"Records": [record_without("eventSource")]})
    write("cloudtrail/no-event-name.json", {"Records": [record_without("eventName")]})
    write("cloudtrail/no-event-time.json", {"Records": [record_without("eventTime")]})
    write("cloudtrail/bad-event-time.json", {"Records": [record("ListBuckets", "04/06/2026 10:00")]})
    write(
        "cloudtrail/impossible-event-time.json", {"Records": [record("ListBuckets", "2026-02-30T10:00:00Z")]}
    )
    write("cloudtrail/records-not-a-list.json", {"Records": {"eventName": "x"}})


if __name__ == "__main__":
    main()
