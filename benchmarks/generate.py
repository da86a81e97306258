"""Realistic CloudTrail at scale in the S3 layout, with a matching IAM snapshot and ctlint config.

Used by `benchmarks/run.py`; also runnable alone: `python benchmarks/generate.py OUT [--events N] [--principals M]`.

What it writes under OUT (deterministic for the same arguments, so a cached copy can be reused):
- `logs/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<time>_<id>.json.gz`:
  `{"Records": [...]}` files of ~1.1 KB per event (user agent, IPs, TLS details, request parameters,
  resources), 30 days of March 2026, 10 regions (us-east-1 busiest), file sizes from a handful of events
  to a few thousand, ~7% errors (AccessDenied, throttling, ...).
- Principals in account A: users (long-term keys) and roles used through assumed-role sessions that start
  with an AssumeRole call (by a user, a role — chaining — or an AWS service); cross-account sessions into
  account B (the AssumeRole logged in both accounts with one requestID); AWSService and Root calls, and
  console sign-ins without identity.
- `iam/a.json`, `iam/b.json`: get-account-authorization-details snapshots (users with inline policies and
  groups, roles with inline and managed policies including `*`, `service:*`, NotAction, Deny and
  permissions boundaries).
- `ctlint.yaml` with both accounts and the window 2026-03-01 .. 2026-04-01.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from isal import igzip

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere without installing

A, B, C = "111111111111", "222222222222", "333333333333"
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAYS = 30
REGIONS = (
    ("us-east-1", 0.55),
    ("eu-west-1", 0.15),
    ("us-west-2", 0.1),
    ("eu-central-1", 0.06),
    ("ap-northeast-1", 0.04),
    ("ap-southeast-2", 0.03),
    ("us-east-2", 0.03),
    ("sa-east-1", 0.02),
    ("ca-central-1", 0.01),
    ("eu-north-1", 0.01),
)
SERVICES = {  # IAM prefix -> event source
    "s3": "s3",
    "ec2": "ec2",
    "iam": "iam",
    "lambda": "lambda",
    "dynamodb": "dynamodb",
    "logs": "logs",
    "kms": "kms",
    "sqs": "sqs",
    "sns": "sns",
    "cloudformation": "cloudformation",
    "ecr": "ecr",
    "ecs": "ecs",
    "rds": "rds",
    "secretsmanager": "secretsmanager",
    "ssm": "ssm",
    "autoscaling": "autoscaling",
    "route53": "route53",
    "cloudwatch": "monitoring",
    "elasticloadbalancing": "elasticloadbalancing",
    "events": "events",
    "glue": "glue",
    "athena": "athena",
    "kinesis": "kinesis",
    "sts": "sts",
}
ERRORS = (
    ("AccessDenied", 0.6),
    ("ThrottlingException", 0.2),
    ("ValidationException", 0.1),
    ("NoSuchEntity", 0.1),
)
AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Linux/5.10.210-201.852.amzn2.x86_64 exe/x86_64.amzn.2 prompt/off command/s3.ls",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#legacy",
    "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0",
    "terraform-provider-aws/5.43.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0",
)


def _actions(seed: int) -> list[tuple[str, str, str]]:
    """(iam prefix, event source, event name) for real actions of the SERVICES, from the catalog."""
    from ctlint.catalog import Catalog

    catalog = Catalog.load()
    rng = random.Random(seed)
    out = []
    for action in sorted(catalog.all_actions):
        prefix, name = action.split(":", 1)
        if prefix in SERVICES and name[:3] in (
            "Get",
            "Lis",
            "Des",
            "Put",
            "Cre",
            "Upd",
            "Del",
            "Sta",
            "Inv",
            "Run",
        ):
            out.append((prefix, f"{SERVICES[prefix]}.amazonaws.com", name))
    rng.shuffle(out)
    return out[:600]


def _pick(rng: random.Random, weighted) -> str:
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x <= 0:
            return value
    return weighted[0][0]


def _key(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


class World:
    """Principals and what each one does; deterministic from (principals, seed)."""

    def __init__(self, principals: int, seed: int = 8) -> None:
        rng = random.Random(seed)
        self.actions = _actions(seed)
        n_users = max(1, principals * 2 // 5)
        n_roles = max(1, principals - n_users)
        self.users = [
            (f"arn:aws:iam::{A}:user/u{i}", f"u{i}", _key(rng, "AKIA"), "AIDA" + _key(rng, "")[:17])
            for i in range(n_users)
        ]
        self.roles = [
            (f"arn:aws:iam::{A}:role/r{i}", f"r{i}", "AROA" + _key(rng, "")[:17]) for i in range(n_roles)
        ]
        self.cross = [
            (f"arn:aws:iam::{B}:role/x{i}", f"x{i}", "AROA" + _key(rng, "")[:17]) for i in range(20)
        ]
        # each principal uses 5..60 actions; about a tenth of principals are idle
        self.uses: dict[str, list[int]] = {}
        for arn, *_ in (*self.users, *self.roles, *self.cross):
            if rng.random() < 0.1 and not arn.startswith(f"arn:aws:iam::{B}"):
                continue
            self.uses[arn] = rng.sample(range(len(self.actions)), rng.randint(5, 60))
        self.active_users = [u for u in self.users if u[0] in self.uses]
        self.active_roles = [r for r in self.roles if r[0] in self.uses]


def _ident_user(user) -> dict:
    arn, name, key, pid = user
    return {
        "type": "IAMUser",
        "principalId": pid,
        "arn": arn,
        "accountId": A,
        "accessKeyId": key,
        "userName": name,
    }


def _ident_session(role, account: str, session: str, key: str) -> dict:
    arn, name, rid = role
    return {
        "type": "AssumedRole",
        "principalId": f"{rid}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": rid,
                "arn": arn,
                "accountId": account,
                "userName": name,
            },
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-03-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


def _record(
    rng,
    identity,
    source,
    name,
    moment,
    account,
    region,
    *,
    request=None,
    response=None,
    request_id=None,
    error=None,
) -> dict:
    rec = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"{rng.randint(3, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "userAgent": rng.choice(AGENTS),
        "requestParameters": request
        if request is not None
        else {
            "resourceName": f"arn:aws:{source.split('.')[0]}:{region}:{account}:thing/{rng.getrandbits(40):x}",
            "maxResults": 100,
        },
        "responseElements": response,
        "requestID": request_id or str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": name.startswith(("Get", "List", "Describe")),
        "resources": [
            {
                "accountId": account,
                "type": "AWS::Generic::Thing",
                "ARN": f"arn:aws:{source.split('.')[0]}:{region}:{account}:thing/{rng.getrandbits(32):x}",
            }
        ],
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{source.split('.')[0]}.{region}.amazonaws.com",
        },
    }
    if error:
        rec["errorCode"] = error
        rec["errorMessage"] = f"User is not authorized to perform: {name} because no policy allows it"
    return rec


def _stream(args) -> list[tuple[str, str, datetime, list[dict]]]:
    """Events of one worker share, as (account, region, time, records) files."""
    share, events, principals, seed = args
    world = World(principals, seed)
    rng = random.Random(seed * 1000 + share)
    by_place: dict[tuple[str, str], list[tuple[datetime, dict]]] = {}

    def emit(identity, source, name, moment, account, region, **kw):
        err = _pick(rng, ERRORS) if rng.random() < 0.07 else None
        by_place.setdefault((account, region), []).append(
            (moment, _record(rng, identity, source, name, moment, account, region, error=err, **kw))
        )

    produced = 0
    services = [("lambda.amazonaws.com", 0.5), ("ec2.amazonaws.com", 0.3), ("ecs-tasks.amazonaws.com", 0.2)]
    while produced < events:
        moment = START + timedelta(seconds=rng.randrange(DAYS * 86400 - 7200))
        region = _pick(rng, REGIONS)
        kind = rng.random()
        if kind < 0.25:  # a user calls directly
            user = rng.choice(world.active_users)
            for _ in range(rng.randint(1, 40)):
                prefix, source, name = world.actions[rng.choice(world.uses[user[0]])]
                emit(_ident_user(user), source, name, moment, A, region)
                moment += timedelta(seconds=rng.randint(0, 30))
                produced += 1
            continue
        if kind < 0.3:  # AWS service, root or console sign-in
            if rng.random() < 0.8:
                emit(
                    {"type": "AWSService", "invokedBy": _pick(rng, services)},
                    "kms.amazonaws.com",
                    "Decrypt",
                    moment,
                    A,
                    region,
                )
            elif rng.random() < 0.5:
                emit(
                    {
                        "type": "Root",
                        "principalId": A,
                        "arn": f"arn:aws:iam::{A}:root",
                        "accountId": A,
                        "accessKeyId": _key(rng, "ASIA"),
                    },
                    "iam.amazonaws.com",
                    "ListUsers",
                    moment,
                    A,
                    region,
                )
            else:
                emit(None, "signin.amazonaws.com", "ConsoleLogin", moment, A, region)
            produced += 1
            continue
        # an assumed-role session: AssumeRole, then calls with the session key
        cross = kind > 0.93
        role = rng.choice(world.cross if cross else world.active_roles)
        account = B if cross else A
        who = rng.random()
        if who < 0.5 or cross:
            caller = _ident_user(rng.choice(world.active_users))
        elif who < 0.7:
            other = rng.choice(world.active_roles)
            caller = _ident_session(other, A, "chain", _key(rng, "ASIA"))
        else:
            caller = {"type": "AWSService", "invokedBy": _pick(rng, services)}
        key = _key(rng, "ASIA")
        session = f"s{rng.getrandbits(32):x}"
        request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        request = {"roleArn": role[0], "roleSessionName": session, "durationSeconds": 3600}
        response = {
            "credentials": {
                "accessKeyId": key,
                "sessionToken": "IQoJb3JpZ2luX2VjE" + "x" * 120,
                "expiration": "Mar 1, 2026, 1:00:00 AM",
            },
            "assumedRoleUser": {"assumedRoleId": f"{role[2]}:{session}", "arn": role[0]},
        }
        emit(
            caller,
            "sts.amazonaws.com",
            "AssumeRole",
            moment,
            A,
            region,
            request=request,
            response=response,
            request_id=request_id,
        )
        produced += 1
        if cross:  # logged in the role's account too, same requestID
            emit(
                caller,
                "sts.amazonaws.com",
                "AssumeRole",
                moment,
                B,
                region,
                request=request,
                response=response,
                request_id=request_id,
            )
            produced += 1
        ident = _ident_session(role, account, session, key)
        for _ in range(int(rng.paretovariate(1.2) * 8)):
            moment += timedelta(seconds=rng.randint(0, 20))
            prefix, source, name = world.actions[rng.choice(world.uses[role[0]])]
            emit(ident, source, name, moment, account, region)
            produced += 1
            if produced >= events:
                break
    files = []
    for (account, region), items in by_place.items():
        items.sort(key=lambda x: x[0])
        i = 0
        while i < len(items):
            size = max(1, int(rng.lognormvariate(5.5 if region == "us-east-1" else 3.5, 1.0)))
            chunk = items[i : i + size]
            i += size
            files.append((account, region, chunk[-1][0], [r for _, r in chunk]))
    return files


def _write(args) -> tuple[int, int]:
    out, share, events, principals, seed = args
    files = _stream((share, events, principals, seed))
    rng = random.Random(share)
    total = 0
    for account, region, moment, records in files:
        folder = out / "logs" / "AWSLogs" / account / "CloudTrail" / region / moment.strftime("%Y/%m/%d")
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"{account}_CloudTrail_{region}_{moment:%Y%m%dT%H%M}Z_{share}{rng.getrandbits(48):012x}.json.gz"
        )
        body = b'{"Records":[' + b",".join(orjson.dumps(r) for r in records) + b"]}"
        (folder / name).write_bytes(igzip.compress(body, compresslevel=2))
        total += len(records)
    return len(files), total


def _policy(*statements) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def snapshots(world: World, *, realistic: bool = False) -> tuple[dict, dict]:
    """The snapshots of both accounts. `realistic`: grants as least-privilege-minded teams write them, each
    scoped to services (own actions, `service:*`, `service:Get*`; no `*`, no NotAction, no admin policies),
    so findings number a few hundred per principal instead of thousands."""
    rng = random.Random(3)
    used = sorted({f"{p}:{n}" for p, _, n in world.actions})
    services = sorted({p for p, _, _ in world.actions})
    managed = {
        "Admin": _policy({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        "PowerUser": _policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}),
        "ReadOnly": _policy(
            {
                "Effect": "Allow",
                "Action": [f"{s}:Get*" for s in services]
                + [f"{s}:List*" for s in services]
                + [f"{s}:Describe*" for s in services],
                "Resource": "*",
            }
        ),
        "NoDelete": _policy({"Effect": "Deny", "Action": ["*:Delete*"], "Resource": "*"}),
        "Boundary": _policy(
            {
                "Effect": "Allow",
                "Action": ["s3:*", "ec2:*", "logs:*", "lambda:*", "dynamodb:*", "sts:AssumeRole", "kms:*"],
                "Resource": "*",
            }
        ),
    }
    if realistic:
        managed["ReadOnlyTeam"] = _policy(
            {
                "Effect": "Allow",
                "Action": [f"{s}:{verb}*" for s in services[:4] for verb in ("Get", "List", "Describe")],
                "Resource": "*",
            }
        )
    policies = [
        {
            "PolicyName": k,
            "Arn": f"arn:aws:iam::{A}:policy/{k}",
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "IsAttachable": True,
            "PolicyVersionList": [{"Document": d, "VersionId": "v1", "IsDefaultVersion": True}],
        }
        for k, d in managed.items()
    ]
    groups = [
        {
            "GroupName": f"g{i}",
            "GroupId": f"AGPA{i:017d}",
            "Arn": f"arn:aws:iam::{A}:group/g{i}",
            "Path": "/",
            "GroupPolicyList": [
                {
                    "PolicyName": f"gp{i}",
                    "PolicyDocument": _policy(
                        {
                            "Effect": "Allow",
                            "Action": [f"{rng.choice(services)}:{'Get*' if realistic and i % 2 else '*'}"],
                            "Resource": "*",
                        }
                    ),
                }
            ],
            "AttachedManagedPolicies": [
                {"PolicyName": "ReadOnly", "PolicyArn": f"arn:aws:iam::{A}:policy/ReadOnly"}
            ]
            if i % 2
            else [],
        }
        for i in range(10)
    ]

    def own(arn: str) -> dict:
        granted = [a for a in rng.sample(used, 30)]
        mine = [f"{p}:{n}" for p, _, n in (world.actions[i] for i in world.uses.get(arn, []))]
        keep = [a for a in mine if rng.random() < 0.85]
        statements = [{"Effect": "Allow", "Action": sorted(set(granted + keep)), "Resource": "*"}]
        if rng.random() < 0.1 and not realistic:
            statements.append(
                {"Effect": "Allow", "NotAction": [f"{rng.choice(services)}:*"], "Resource": "*"}
            )
        if rng.random() < 0.2:
            statements.append({"Effect": "Allow", "Action": f"{rng.choice(services)}:*", "Resource": "*"})
        return _policy(*statements)

    def attached() -> list:
        # admins are few (each `*` grant is ~22,000 granted-unused actions for the rules to report)
        odds = (("Admin", 0.005), ("PowerUser", 0.005), ("ReadOnly", 0.2), ("NoDelete", 0.2))
        if realistic:  # no account-wide grants: a team's read access is its own services'
            odds = (("ReadOnlyTeam", 0.2), ("NoDelete", 0.2))
        return [
            {"PolicyName": a, "PolicyArn": f"arn:aws:iam::{A}:policy/{a}"}
            for a, p in odds
            if rng.random() < p
        ]

    users = [
        {
            "UserName": name,
            "UserId": pid,
            "Arn": arn,
            "Path": "/",
            "CreateDate": "2025-01-01T00:00:00Z",
            "UserPolicyList": [{"PolicyName": f"own-{name}", "PolicyDocument": own(arn)}],
            "GroupList": [f"g{rng.randrange(10)}"],
            "AttachedManagedPolicies": attached(),
        }
        for arn, name, _, pid in world.users
    ]
    trust = _policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "sts:AssumeRole"}
    )
    roles = []
    for i, (arn, name, rid) in enumerate(world.roles):
        role = {
            "RoleName": name,
            "RoleId": rid,
            "Arn": arn,
            "Path": "/",
            "CreateDate": "2025-01-01T00:00:00Z",
            "AssumeRolePolicyDocument": trust,
            "RolePolicyList": [{"PolicyName": f"own-{name}", "PolicyDocument": own(arn)}],
            "AttachedManagedPolicies": attached(),
        }
        if i % 3 == 0:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": f"arn:aws:iam::{A}:policy/Boundary",
            }
        roles.append(role)
    cross = [
        {
            "RoleName": name,
            "RoleId": rid,
            "Arn": arn,
            "Path": "/",
            "CreateDate": "2025-01-01T00:00:00Z",
            "AssumeRolePolicyDocument": trust,
            "RolePolicyList": [{"PolicyName": "own", "PolicyDocument": own(arn)}],
            "AttachedManagedPolicies": [],
        }
        for arn, name, rid in world.cross
    ]
    a = {"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}
    b = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": cross, "Policies": []}
    return a, b


CONFIG = """accounts:
  - name: main
    id: "111111111111"
    iam: iam/a.json
  - name: shared
    id: "222222222222"
    iam: iam/b.json
usage:
  source: local
  local:
    paths: [logs]
window:
  start: 2026-03-01
  end: 2026-04-01
"""


def generate(out: Path, events: int, principals: int, *, seed: int = 8, workers: int | None = None) -> dict:
    """Write the data set under `out` (skipped when `out/done.json` says it is already there)."""
    marker = out / "done.json"
    if marker.is_file():
        return json.loads(marker.read_text())
    workers = workers or os.cpu_count() or 2
    shares = max(workers, events // 100_000)
    per = [events // shares + (1 if i < events % shares else 0) for i in range(shares)]
    with ProcessPoolExecutor(workers) as pool:
        done = list(pool.map(_write, [(out, i, n, principals, seed) for i, n in enumerate(per)]))
    world = World(principals, seed)
    a, b = snapshots(world)
    (out / "iam").mkdir(parents=True, exist_ok=True)
    (out / "iam" / "a.json").write_text(json.dumps(a))
    (out / "iam" / "b.json").write_text(json.dumps(b))
    (out / "ctlint.yaml").write_text(CONFIG)
    info = {
        "events": sum(n for _, n in done),
        "files": sum(f for f, _ in done),
        "principals": principals,
        "gz_bytes": sum(p.stat().st_size for p in (out / "logs").rglob("*.gz")),
    }
    marker.write_text(json.dumps(info))
    return info


REALISTIC_CONFIG = "ctlint-realistic.yaml"


def write_realistic(out: Path, principals: int, *, seed: int = 8) -> Path:
    """Beside a generated data set: snapshots with service-scoped grants only (`iam-realistic/`) and a
    config that reads them with the same logs. Returns the config's path."""
    a, b = snapshots(World(principals, seed), realistic=True)
    (out / "iam-realistic").mkdir(parents=True, exist_ok=True)
    (out / "iam-realistic" / "a.json").write_text(json.dumps(a))
    (out / "iam-realistic" / "b.json").write_text(json.dumps(b))
    config = out / REALISTIC_CONFIG
    config.write_text(CONFIG.replace("iam: iam/", "iam: iam-realistic/"))
    return config


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--principals", type=int, default=1000)
    args = parser.parse_args(argv)
    print(generate(args.out, args.events, args.principals))
    return 0


if __name__ == "__main__":
    sys.exit(main())
