"""examples/organizations end to end: its README output is real, the organisation policies remove grants
(and so findings) of the demo, `show` names the cause, and bad organisation input ends the run with 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ctlint.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "organizations"
CHECK = "$ ctlint check --config examples/organizations/ctlint.yaml --no-color\n"
SHOW = "$ ctlint show --config examples/organizations/ctlint.yaml --account demo --role admin --no-color\n"


def readme_block(command: str) -> str:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    return text.split(command, 1)[1].split("$ echo", 1)[0].split("```", 1)[0]


def test_check_output_is_the_readmes(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(["check", "--config", "examples/organizations/ctlint.yaml", "--no-color"])
    assert code == 1
    assert capsys.readouterr().out == readme_block(CHECK)


def test_show_names_what_the_organisation_removed(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code = main(
        [
            "show",
            "--config",
            "examples/organizations/ctlint.yaml",
            "--account",
            "demo",
            "--role",
            "admin",
            "--no-color",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "  s3:DeleteBucket: denied by RCP 'ProtectBuckets' at root\n" in err
    assert err + out == readme_block(SHOW)
    assert "s3:DeleteBucket" not in out


def findings(capsys, config: str) -> set[tuple[str, str, str]]:
    code = main(["check", "--config", config, "--format", "json"])
    assert code in (0, 1)
    report = json.loads(capsys.readouterr().out)
    return {(f["rule"], f["principal"].rsplit("/", 1)[1], f["action"] or "") for f in report["findings"]}


def copy_example(tmp_path: Path) -> Path:
    """The example and the demo data it points at, in a scratch folder; the example's config path."""
    shutil.copytree(EXAMPLE, tmp_path / "organizations")
    shutil.copytree(ROOT / "examples" / "demo", tmp_path / "demo")
    return tmp_path / "organizations" / "ctlint.yaml"


WITHOUT_ORG = ("    organization:\n      tree: org/root\n", "")


def test_removed_actions_are_not_granted_so_not_unused(capsys, monkeypatch, tmp_path):
    config = copy_example(tmp_path)
    plain = config.with_name("plain.yaml")
    plain.write_text(config.read_text(encoding="utf-8").replace(*WITHOUT_ORG), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    without = findings(capsys, str(plain))
    with_org = findings(capsys, str(config))
    removed = {
        ("granted-unused", "admin", "s3:DeleteBucket"),
        ("granted-unused", "nightly-report", "ce:GetCostAndUsage"),
    }
    assert removed <= without
    assert not removed & with_org
    assert with_org < without


def test_the_management_account_is_not_bound(capsys, monkeypatch, tmp_path):
    config = copy_example(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("tree: org/root", "tree: org/root\n      management_account: true"), encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    bound = findings(capsys, str(config))
    config.write_text(text.replace(*WITHOUT_ORG), encoding="utf-8")
    assert bound == findings(capsys, str(config))


@pytest.mark.parametrize(
    "content, message",
    [
        (
            {
                "Policies": [
                    {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY"}
                ]
            },
            "p-FullAWSAccess.json: this is the output of `aws organizations list-policies-for-target`",
        ),
        ("[", "p-FullAWSAccess.json: not valid JSON"),
    ],
)
def test_bad_organisation_input_exits_2_with_one_sentence(capsys, monkeypatch, tmp_path, content, message):
    copy_example(tmp_path)
    bad = tmp_path / "organizations" / "org" / "root" / "ou-prod" / "111111111111" / "p-FullAWSAccess.json"
    bad.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code = main(["check", "--config", "organizations/ctlint.yaml"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err
