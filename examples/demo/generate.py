"""Write the offline demo: two IAM snapshots and CloudTrail logs in the S3 delivery layout.

It retells CloudTracker's README story (alice, bob, charlie, the admin role, the backup account) so that
`ctlint check --config examples/demo/ctlint.yaml` shows a finding of every rule. The output is
deterministic (fixed ids, gzip mtime 0): run `python examples/demo/generate.py` and git shows no change.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
DEMO, BACKUP = "111111111111", "222222222222"


def _id(*parts: str, prefix: str = "", length: int = 16) -> str:
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest().upper()
    return prefix + digest[:length]


def _uuid(*parts: str) -> str:
    h = hashlib.sha256("|".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# ---------------------------------------------------------------- IAM snapshots


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions, resource="*") -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def trust(*aws_principals: str, service: str | None = None) -> dict:
    principal = {"Service": service} if service else {"AWS": list(aws_principals)}
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def encoded(document: dict) -> str:
    """IAM returns policy documents URL-encoded; keep one of each kind in the demo."""
    return quote(json.dumps(document, separators=(",", ":")), safe="")


def user(account: str, name: str, created: str, *, inline=(), managed=(), groups=()) -> dict:
    return {
        "Path": "/",
        "UserName": name,
        "UserId": _id(account, name, prefix="AIDA"),
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "CreateDate": created,
        "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "GroupList": list(groups),
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in managed],
        "Tags": [],
    }


def role(
    account: str,
    name: str,
    created: str,
    trust_policy: dict,
    *,
    inline=(),
    managed=(),
    path="/",
    last_used=None,
):
    detail = {
        "Path": path,
        "RoleName": name,
        "RoleId": _id(account, name, prefix="AROA"),
        "Arn": f"arn:aws:iam::{account}:role{path}{name}",
        "CreateDate": created,
        "AssumeRolePolicyDocument": encoded(trust_policy),
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[1], "PolicyArn": a} for a in managed],
        "Tags": [],
        "RoleLastUsed": {"LastUsedDate": last_used, "Region": "us-east-1"} if last_used else {},
    }
    return detail


def managed_policy(account: str, name: str, document: dict, created: str) -> dict:
    return {
        "PolicyName": name,
        "PolicyId": _id(account, name, prefix="ANPA"),
        "Arn": f"arn:aws:iam::{account}:policy/{name}",
        "Path": "/",
        "DefaultVersionId": "v2",
        "AttachmentCount": 1,
        "IsAttachable": True,
        "CreateDate": created,
        "UpdateDate": created,
        "PolicyVersionList": [
            # Only the default version counts: v1 granted iam:* and was replaced.
            {
                "Document": encoded(policy(allow("iam:*"))),
                "VersionId": "v1",
                "IsDefaultVersion": False,
                "CreateDate": created,
            },
            {
                "Document": encoded(document),
                "VersionId": "v2",
                "IsDefaultVersion": True,
                "CreateDate": created,
            },
        ],
    }


def demo_snapshot() -> dict:
    audit = managed_policy(
        DEMO,
        "SecurityAuditLite",
        policy(
            allow(
                [
                    "cloudwatch:DescribeAlarmHistory",
                    "cloudwatch:DescribeAlarms",
                    "cloudwatch:DescribeAlarmsForMetric",
                    "cloudwatch:GetDashboard",
                    "cloudwatch:GetMetricData",
                    "s3:ListAllMyBuckets",
                ]
            )
        ),
        "2017-09-01T00:00:00Z",
    )
    users = [
        user(
            DEMO,
            "alice",
            "2017-09-02T18:02:14Z",
            inline=[("assume-admin", policy(allow("sts:AssumeRole", f"arn:aws:iam::{DEMO}:role/admin")))],
            groups=["auditors"],
        ),
        user(
            DEMO,
            "bob",
            "2017-09-05T09:30:00Z",
            inline=[("read-buckets", policy(allow(["s3:ListAllMyBuckets", "s3:GetBucketLocation"])))],
        ),
        user(
            DEMO,
            "charlie",
            "2017-10-01T01:01:01Z",
            inline=[
                (
                    "assume-roles",
                    policy(
                        allow(
                            "sts:AssumeRole",
                            [f"arn:aws:iam::{DEMO}:role/*", f"arn:aws:iam::{BACKUP}:role/admin"],
                        )
                    ),
                )
            ],
        ),
    ]
    groups = [
        {
            "Path": "/",
            "GroupName": "auditors",
            "GroupId": _id(DEMO, "auditors", prefix="AGPA"),
            "Arn": f"arn:aws:iam::{DEMO}:group/auditors",
            "CreateDate": "2017-09-01T00:00:00Z",
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [{"PolicyName": "SecurityAuditLite", "PolicyArn": audit["Arn"]}],
        }
    ]
    account_root = f"arn:aws:iam::{DEMO}:root"
    admin_policy = policy(
        allow(
            [
                "s3:CreateBucket",
                "s3:DeleteBucket",
                "s3:GetObject",
                "iam:CreateUser",
                "iam:DeleteUser",
                "iam:PassRole",
            ]
        ),
        # Conditional Deny: must not remove the grant.
        {
            "Effect": "Deny",
            "Action": "iam:DeleteUser",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
    )
    roles = [
        role(DEMO, "admin", "2017-09-01T00:00:00Z", trust(account_root), inline=[("admin", admin_policy)]),
        role(
            DEMO,
            "auditor",
            "2018-02-01T00:00:00Z",
            trust(account_root),
            inline=[("audit", policy(allow(["cloudtrail:LookupEvents", "s3:GetObjet"])))],
        ),
        role(
            DEMO,
            "annual-audit",
            "2019-01-15T00:00:00Z",
            trust(account_root),
            inline=[("yearly", policy(allow(["organizations:ListAccounts"])))],
        ),
        role(
            DEMO,
            "nightly-report",
            "2020-03-01T00:00:00Z",
            trust(service="lambda.amazonaws.com"),
            inline=[("report", policy(allow(["ce:GetCostAndUsage"])))],
            last_used="2026-10-30T02:00:00Z",
        ),
        role(
            DEMO,
            "AWSServiceRoleForSupport",
            "2017-09-01T00:00:00Z",
            trust(service="support.amazonaws.com"),
            path="/aws-service-role/support.amazonaws.com/",
            inline=[("support", policy(allow(["support:*"])))],
        ),
    ]
    return {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": [audit]}


def backup_snapshot() -> dict:
    roles = [
        role(
            BACKUP,
            "admin",
            "2018-01-01T00:00:00Z",
            trust(f"arn:aws:iam::{DEMO}:root"),
            inline=[
                (
                    "admin",
                    policy(allow(["s3:CreateBucket", "s3:PutBucketVersioning", "backup:StartBackupJob"])),
                )
            ],
        ),
    ]
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": []}


# ---------------------------------------------------------------- CloudTrail


class Trail:
    """Collects records per (account, region, day) file, as CloudTrail delivers them."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
        self.counter = 0

    def add(self, recipient: str, record: dict) -> None:
        self.counter += 1
        record.setdefault("eventID", _uuid("event", str(self.counter)))
        record.setdefault("requestID", _id("request", str(self.counter), length=20))
        record["recipientAccountId"] = recipient
        day = record["eventTime"][:10]
        self.files[(recipient, record["awsRegion"], day)].append(record)

    def write(self, root: Path) -> int:
        for (account, region, day), records in sorted(self.files.items()):
            folder = root / "AWSLogs" / account / "CloudTrail" / region / day.replace("-", "/")
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{account}_CloudTrail_{region}_{day.replace('-', '')}T0000Z_{_id(account, day, length=16)}.json.gz"
            payload = json.dumps({"Records": records}, indent=None, sort_keys=True).encode()
            with (folder / name).open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                stream.write(payload)
        return sum(len(r) for r in self.files.values())


def iam_user_identity(account: str, name: str) -> dict:
    return {
        "type": "IAMUser",
        "principalId": _id(account, name, prefix="AIDA"),
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "accessKeyId": _id(account, name, "key", prefix="AKIA"),
        "userName": name,
    }


def role_identity(account: str, role_name: str, session: str, key: str, created: str) -> dict:
    role_id = _id(account, role_name, prefix="AROA")
    return {
        "type": "AssumedRole",
        "principalId": f"{role_id}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role_name}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": role_id,
                "arn": f"arn:aws:iam::{account}:role/{role_name}",
                "accountId": account,
                "userName": role_name,
            },
            "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
        },
    }


def call(
    identity: dict,
    when: str,
    source: str,
    name: str,
    *,
    region="us-east-1",
    error: str | None = None,
    request: dict | None = None,
    response: dict | None = None,
) -> dict:
    record = {
        "eventVersion": "1.08",
        "userIdentity": identity,
        "eventTime": when,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "readOnly": name.startswith(("Describe", "Get", "List")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = "User is not authorized to perform this operation"
    return record


def assume(
    trail: Trail, caller: dict, caller_account: str, role_account: str, role_name: str, when: str
) -> str:
    """Log an AssumeRole (in both accounts when cross-account) and return the session's access key."""
    key = _id(caller["arn"], role_account, role_name, when, prefix="ASIA")
    response = {
        "credentials": {
            "accessKeyId": key,
            "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
            "expiration": when,
        },
        "assumedRoleUser": {
            "assumedRoleId": f"{_id(role_account, role_name, prefix='AROA')}:{caller.get('userName', 'session')}",
            "arn": f"arn:aws:sts::{role_account}:assumed-role/{role_name}/{caller.get('userName', 'session')}",
        },
    }
    request = {
        "roleArn": f"arn:aws:iam::{role_account}:role/{role_name}",
        "roleSessionName": caller.get("userName"),
    }
    shared = _uuid("shared", key)
    for recipient in sorted({caller_account, role_account}):
        record = call(caller, when, "sts.amazonaws.com", "AssumeRole", request=request, response=response)
        record["requestID"] = _id("request", key, length=20)  # one call: both copies share the requestID
        if recipient != caller_account or role_account != caller_account:
            record["sharedEventID"] = shared
        trail.add(recipient, record)
    return key


def demo_trail() -> Trail:
    trail = Trail()
    alice = iam_user_identity(DEMO, "alice")
    charlie = iam_user_identity(DEMO, "charlie")

    trail.add(
        DEMO,
        call(
            alice,
            "2026-06-03T08:12:00Z",
            "signin.amazonaws.com",
            "ConsoleLogin",
            response={"ConsoleLogin": "Success"},
        ),
    )
    for day in ("2026-06-03", "2026-07-14", "2026-09-22"):
        trail.add(DEMO, call(alice, f"{day}T09:00:00Z", "monitoring.amazonaws.com", "DescribeAlarms"))
    trail.add(DEMO, call(alice, "2026-07-14T09:05:00Z", "monitoring.amazonaws.com", "DescribeAlarmHistory"))
    # alice created a bucket before her s3 permissions were taken away: used but not granted.
    trail.add(
        DEMO,
        call(
            alice,
            "2026-06-20T11:00:00Z",
            "s3.amazonaws.com",
            "CreateBucket",
            request={"bucketName": "alice-scratch"},
        ),
    )
    # Errors do not count as use.
    trail.add(
        DEMO,
        call(
            alice,
            "2026-06-21T11:00:00Z",
            "s3.amazonaws.com",
            "DeleteBucket",
            error="AccessDenied",
            request={"bucketName": "alice-scratch"},
        ),
    )

    key = assume(trail, alice, DEMO, DEMO, "admin", "2026-08-01T10:00:00Z")
    admin_as_alice = role_identity(DEMO, "admin", "alice", key, "2026-08-01T10:00:00Z")
    trail.add(
        DEMO,
        call(
            admin_as_alice,
            "2026-08-01T10:05:00Z",
            "s3.amazonaws.com",
            "CreateBucket",
            request={"bucketName": "team-data"},
        ),
    )
    trail.add(
        DEMO,
        call(
            admin_as_alice,
            "2026-08-01T10:07:00Z",
            "iam.amazonaws.com",
            "CreateUser",
            request={"userName": "dave"},
        ),
    )

    key = assume(trail, charlie, DEMO, DEMO, "admin", "2026-09-10T15:00:00Z")
    admin_as_charlie = role_identity(DEMO, "admin", "charlie", key, "2026-09-10T15:00:00Z")
    trail.add(
        DEMO,
        call(
            admin_as_charlie,
            "2026-09-10T15:02:00Z",
            "s3.amazonaws.com",
            "CreateBucket",
            request={"bucketName": "charlie-tmp"},
        ),
    )

    # charlie into the backup account: AssumeRole logged in both accounts, the session's calls in backup.
    key = assume(trail, charlie, DEMO, BACKUP, "admin", "2026-10-02T12:00:00Z")
    backup_as_charlie = role_identity(BACKUP, "admin", "charlie", key, "2026-10-02T12:00:00Z")
    trail.add(
        BACKUP,
        call(
            backup_as_charlie,
            "2026-10-02T12:03:00Z",
            "s3.amazonaws.com",
            "CreateBucket",
            region="eu-west-1",
            request={"bucketName": "backup-2026"},
        ),
    )

    # An AWS service acting on its own behalf counts for nobody.
    trail.add(
        DEMO,
        call(
            {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"},
            "2026-06-02T00:00:00Z",
            "kms.amazonaws.com",
            "GenerateDataKey",
        ),
    )
    return trail


def main() -> None:
    iam_dir, logs_dir = HERE / "iam", HERE / "logs"
    shutil.rmtree(logs_dir, ignore_errors=True)
    iam_dir.mkdir(exist_ok=True)
    for name, snapshot in (("demo.json", demo_snapshot()), ("backup.json", backup_snapshot())):
        (iam_dir / name).write_text(json.dumps(snapshot, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    count = demo_trail().write(logs_dir)
    print(
        f"wrote {iam_dir.relative_to(HERE.parent.parent)} and {count} CloudTrail records under "
        f"{logs_dir.relative_to(HERE.parent.parent)}"
    )


if __name__ == "__main__":
    main()
