import gzip
import json
import subprocess
import sys
from pathlib import Path

from ctlint.iac.managed import aws_managed_policy, data_version
from ctlint.resources import data_path

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_data_resolves_known_policies():
    admin = aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert admin is not None and admin.statements[0].actions == ("*",)
    power = aws_managed_policy("arn:aws:iam::aws:policy/PowerUserAccess")
    assert power.statements[0].not_actions == ("iam:*", "organizations:*", "account:*")
    assert aws_managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    assert data_version().startswith("curated:")


def test_generator_is_deterministic_and_matches_shipped(tmp_path):
    out = tmp_path / "m.json.gz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_managed_policies.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == data_path("aws_managed_policies.json.gz").read_bytes()


def test_generator_reads_authorization_details(tmp_path):
    details = {
        "Policies": [
            {
                "Arn": "arn:aws:iam::aws:policy/X",
                "PolicyVersionList": [
                    {"VersionId": "v1", "IsDefaultVersion": False, "Document": {"Statement": []}},
                    {
                        "VersionId": "v2",
                        "IsDefaultVersion": True,
                        "Document": "%7B%22Statement%22%3A%5B%5D%2C%22Version%22%3A%222012-10-17%22%7D",
                    },
                ],
            },
            {"Arn": "arn:aws:iam::123456789012:policy/mine", "PolicyVersionList": []},
        ]
    }
    (tmp_path / "d.json").write_text(json.dumps(details))
    out = tmp_path / "m.json.gz"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "generate_managed_policies.py"),
            "--from",
            str(tmp_path / "d.json"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    payload = json.loads(gzip.decompress(out.read_bytes()))
    assert payload["provenance"] == "authorization-details"
    assert payload["policies"] == {
        "arn:aws:iam::aws:policy/X": {"version": "v2", "document": {"Statement": [], "Version": "2012-10-17"}}
    }
