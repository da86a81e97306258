"""Every third-party snapshot under ../shared/realdata/iam/ loads, and grants compute on the real catalog."""

from __future__ import annotations

from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.inventory import read_snapshot
from ctlint.policy import compute_grants, trust_admits

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata" / "iam"

pytestmark = pytest.mark.realdata

# file -> (account id, users + roles, warnings expected)
EXPECTED = {
    # Doc example: one truncated page; two groups have AttachedManagedPolicies as an object (read as one
    # item); four attached AWS managed policies absent from Policies, all resolved from ctlint's copy.
    "aws__aws-cli/get-account-authorization-details.example.json": ("123456789012", 4, 5),
    "bridgecrewio__AirIAM/iam_data.authz.json": ("000000000000", 13, 0),
    # Sanitised: users and group carry account "aws" in their ARNs.
    "duo-labs__cloudmapper/iam-get-account-authorization-details.json": ("123456789012", 6, 3),
    "salesforce__cloudsplaining/example-authz-details.json": ("012345678901", 6, 0),
    "salesforce__cloudsplaining/example.json": ("200611803367", 116, 0),
}


def _require_realdata() -> None:
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata/iam is absent (third-party data is not part of the repository)")


def test_every_realdata_file_is_covered():
    _require_realdata()
    present = {str(p.relative_to(REALDATA)) for p in REALDATA.rglob("*.json")}
    assert present == set(EXPECTED), "a realdata IAM file was added or removed: add it to EXPECTED"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realdata_snapshot_loads(name):
    _require_realdata()
    account, principals, warnings = EXPECTED[name]
    snap = read_snapshot(REALDATA / name, account_id=account, account_name="real", display_path=f"iam/{name}")
    inv = snap.inventory
    assert len(inv.principals) == principals
    assert len(snap.warnings) == warnings, snap.warnings
    text = (REALDATA / name).read_text().splitlines()
    for p in inv.principals:
        assert p.location is not None and p.arn in text[p.location.line - 1]
        assert p.type in ("user", "role") and p.account_id == account
        if p.type == "role":
            assert p.trust_policy is not None
    catalog = Catalog.load()
    for p in inv.principals:
        compute_grants(p, catalog)  # must not raise on any real document


def test_aws_cli_example_group_policies_resolved():
    _require_realdata()
    name = "aws__aws-cli/get-account-authorization-details.example.json"
    snap = read_snapshot(REALDATA / name, account_id="123456789012", account_name="real")
    users = {p.name: p for p in snap.inventory.principals if p.type == "user"}
    catalog = Catalog.load()
    # Admins group -> AdministratorAccess (an object, not a list, in this file) -> every action;
    # Bob also has an inline unconditional Deny on aws-portal:* and iam:*.
    everything = catalog.all_actions
    assert compute_grants(users["Alice"], catalog).actions == everything
    bob = compute_grants(users["Bob"], catalog).actions
    assert bob == {a for a in everything if not a.startswith(("aws-portal:", "iam:"))}
    charlie = compute_grants(users["Charlie"], catalog).actions  # Dev -> PowerUserAccess: NotAction iam:*
    assert "ec2:RunInstances" in charlie and "iam:CreateUser" not in charlie and "iam:ListRoles" in charlie


def test_cloudsplaining_real_account_facts():
    _require_realdata()
    name = "salesforce__cloudsplaining/example.json"
    snap = read_snapshot(REALDATA / name, account_id="200611803367", account_name="real")
    inv = snap.inventory
    catalog = Catalog.load()
    users = [p for p in inv.principals if p.type == "user"]
    roles = [p for p in inv.principals if p.type == "role"]
    assert (len(users), len(roles)) == (41, 75)
    assert sum(p.is_service_linked for p in roles) == 8
    grants = {p.arn: compute_grants(p, catalog) for p in inv.principals}
    admins = [arn for arn, g in grants.items() if g.actions == catalog.all_actions]
    assert admins, "the account has administrators"
    # Service-linked roles are trusted by services only: no IAM user may assume them.
    some_user = users[0].arn
    assert not any(trust_admits(r, some_user) for r in roles if r.is_service_linked)
