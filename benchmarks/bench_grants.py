"""Benchmark (not a test): effective grants of 1,000 synthetic principals against the real catalog.

Run: python benchmarks/bench_grants.py [N]
Each principal gets its own inline policy (so per-principal work is not cached away) plus a mix of shared
managed policies: "*", "service:*", NotAction, Deny, Action lists, and permissions boundaries for a third.
Also times loading the same principals from a snapshot file written to a temporary folder.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from ctlint.catalog import Catalog
from ctlint.inventory import load_snapshot
from ctlint.policy import compute_grants

ACCOUNT = "111111111111"


def _doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def synthetic_snapshot(n: int, catalog: Catalog, seed: int = 7) -> dict:
    rng = random.Random(seed)
    services = sorted(catalog.services)
    actions = sorted(catalog.all_actions)
    managed = {
        "Admin": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        "PowerUser": _doc(
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"}
        ),
        "ReadOnly": _doc(
            {
                "Effect": "Allow",
                "Action": [f"{s}:Get*" for s in services[:150]] + [f"{s}:List*" for s in services[:150]],
                "Resource": "*",
            }
        ),
        "NoDelete": _doc({"Effect": "Deny", "Action": ["*:Delete*"], "Resource": "*"}),
        "Boundary": _doc(
            {
                "Effect": "Allow",
                "Action": ["s3:*", "ec2:*", "logs:*", "lambda:*", "dynamodb:*", "sts:AssumeRole"],
                "Resource": "*",
            }
        ),
    }
    policies = [
        {
            "PolicyName": name,
            "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
            "Path": "/",
            "DefaultVersionId": "v1",
            "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True}],
        }
        for name, doc in managed.items()
    ]
    roles = []
    for i in range(n):
        own = _doc(
            {
                "Effect": "Allow",
                "Action": [f"{rng.choice(services)}:*", *rng.sample(actions, 20)],
                "Resource": "*",
            },
            {"Effect": "Deny", "Action": rng.sample(actions, 3), "Resource": "*"},
            {"Effect": "Allow", "NotAction": [f"{rng.choice(services)}:*"], "Resource": "*"}
            if i % 10 == 0
            else {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/r{i + 1}",
            },
        )
        attached = rng.sample(["Admin", "PowerUser", "ReadOnly", "NoDelete"], rng.randint(0, 2))
        role = {
            "RoleName": f"r{i}",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/r{i}",
            "Path": "/",
            "AssumeRolePolicyDocument": _doc(
                {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
            ),
            "RolePolicyList": [{"PolicyName": f"own{i}", "PolicyDocument": own}],
            "AttachedManagedPolicies": [
                {"PolicyName": a, "PolicyArn": f"arn:aws:iam::{ACCOUNT}:policy/{a}"} for a in attached
            ],
        }
        if i % 3 == 0:
            role["PermissionsBoundary"] = {
                "PermissionsBoundaryType": "Policy",
                "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/Boundary",
            }
        roles.append(role)
    return {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": roles, "Policies": policies}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    t0 = time.perf_counter()
    catalog = Catalog.load()
    t1 = time.perf_counter()
    data = synthetic_snapshot(n, catalog)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.json"
        path.write_text(json.dumps(data, indent=2))
        t2 = time.perf_counter()
        inventory = load_snapshot(path, account_id=ACCOUNT, account_name="bench")
        t3 = time.perf_counter()
    grants = [compute_grants(p, catalog) for p in inventory.principals]
    t4 = time.perf_counter()
    again = [compute_grants(p, catalog) for p in inventory.principals]
    t5 = time.perf_counter()
    assert [g.actions for g in grants] == [g.actions for g in again]
    total = sum(len(g.actions) for g in grants)
    print(f"catalog load:        {t1 - t0:6.3f} s ({len(catalog.all_actions)} actions)")
    print(f"snapshot load:       {t3 - t2:6.3f} s ({len(inventory.principals)} principals, {path.name})")
    print(f"grants, cold caches: {t4 - t3:6.3f} s ({total} granted actions in all)")
    print(f"grants, warm caches: {t5 - t4:6.3f} s")


if __name__ == "__main__":
    main()
