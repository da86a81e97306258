"""Baselines: load/validate, apply (new/unchanged/fixed), deterministic atomic writes, the command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
from datetime import datetime, timezone
from pathlib import Path

import pytest
from report_factory import ACCOUNT, make_finding

from ctlint.baseline import (
    Baseline,
    BaselineEntry,
    apply_baseline,
    fixed_as_dicts,
    load_baseline,
    write_baseline,
)
from ctlint.errors import InputError
from ctlint.model import DataVersions, RunResult, SourceLocation, Window

finding = make_finding


def test_write_then_load_roundtrip_sorted_and_relative_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iam").mkdir()
    target = tmp_path / "ci" / ".ctlint-baseline.json"
    findings = [
        finding("bob", "s3:PutObject", location=SourceLocation("iam/demo.json", 40)),
        finding("alice", "iam:CreateUser", location=SourceLocation(str(tmp_path / "iam" / "demo.json"), 3)),
        finding("alice", None, rule="unused-actor", fingerprint="fp-alice"),
        finding("alice", "iam:CreateUser"),  # a duplicate fingerprint is written once
    ]
    write_baseline(target, findings, None, "2026-06-01")
    data = json.loads(target.read_text())
    assert data["version"] == 1 and data["tool"] == "ctlint"
    assert [e["principal"].rsplit("/", 1)[1] for e in data["findings"]] == ["alice", "alice", "bob"]
    assert [e["rule"] for e in data["findings"]][:2] == ["granted-unused", "unused-actor"]
    assert data["findings"][0]["path"] == "../iam/demo.json"
    assert data["findings"][2]["path"] == "../iam/demo.json"
    assert "path" not in data["findings"][1]
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    loaded = load_baseline(target)
    assert set(loaded.entries) == {"fp-alice-iam:CreateUser", "fp-alice", "fp-bob-s3:PutObject"}
    assert loaded.entries["fp-alice"] == BaselineEntry(
        "fp-alice", "unused-actor", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", None, None, "2026-06-01"
    )
    # No temp files left behind.
    assert sorted(p.name for p in target.parent.iterdir()) == [".ctlint-baseline.json"]


def test_write_is_deterministic_and_keeps_first_seen(tmp_path):
    target = tmp_path / "b.json"
    write_baseline(target, [finding("a"), finding("b")], None, "2026-06-01")
    first = target.read_bytes()
    write_baseline(target, [finding("b"), finding("a")], None, "2026-06-01")
    assert target.read_bytes() == first
    previous = load_baseline(target)
    write_baseline(target, [finding("b"), finding("c")], previous, "2026-07-15")
    entries = load_baseline(target).entries
    assert entries["fp-b-s3:GetObject"].first_seen == "2026-06-01"
    assert entries["fp-c-s3:GetObject"].first_seen == "2026-07-15"
    assert "fp-a-s3:GetObject" not in entries


def test_apply_marks_new_and_unchanged_and_lists_fixed(tmp_path):
    target = tmp_path / "b.json"
    write_baseline(
        target, [finding("a"), finding("b"), finding("gone", "ec2:RunInstances")], None, "2026-06-01"
    )
    current = [finding("b"), finding("a"), finding("new", "iam:PassRole")]
    marked, fixed = apply_baseline(current, load_baseline(target))
    assert [(f.principal.rsplit("/", 1)[1], f.baseline) for f in marked] == [
        ("b", "unchanged"),
        ("a", "unchanged"),
        ("new", "new"),
    ]
    assert [e.fingerprint for e in fixed] == ["fp-gone-ec2:RunInstances"]
    assert fixed_as_dicts(fixed)[0]["action"] == "ec2:RunInstances"
    assert current[0].baseline is None  # inputs untouched (frozen values)


def test_one_new_grant_is_exactly_the_one_new_finding(tmp_path):
    today = [finding(f"user{i}", f"s3:Action{j}") for i in range(5) for j in range(5)]
    target = tmp_path / "b.json"
    write_baseline(target, today, None, "2026-06-01")
    tomorrow = [*today, finding("user3", "iam:CreateAccessKey")]
    marked, fixed = apply_baseline(tomorrow, load_baseline(target))
    assert [f.fingerprint for f in marked if f.baseline == "new"] == ["fp-user3-iam:CreateAccessKey"]
    assert fixed == ()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "is not valid JSON (line 1"),
        ("[]", "needs a top-level 'findings' list"),
        ('{"version": 9, "findings": []}', "has version 9"),
        ('{"version": 1, "findings": [3]}', "findings[0] is not an object"),
        (
            '{"version": 1, "findings": [{"fingerprint": "x"}]}',
            "findings[0]: 'rule' must be a non-empty string",
        ),
        (
            '{"version": 1, "findings": [{"fingerprint": "x", "rule": "r", "account": "1", "principal": "p",'
            ' "first_seen": "June"}]}',
            "'first_seen' must be a date",
        ),
        (
            '{"version": 1, "findings": [{"fingerprint": "x", "rule": "r", "account": "1", "principal": "p",'
            ' "first_seen": "2026-01-01", "action": 5}]}',
            "'action' must be a string or null",
        ),
    ],
)
def test_invalid_baselines_raise_one_sentence_naming_the_file(tmp_path, content, fragment):
    target = tmp_path / "bad.json"
    target.write_text(content)
    with pytest.raises(InputError) as info:
        load_baseline(target)
    message = str(info.value)
    assert str(target) in message and fragment in message
    assert "\n" not in message


def test_duplicate_fingerprint_and_missing_file(tmp_path):
    entry = {"fingerprint": "x", "rule": "r", "account": "1", "principal": "p", "first_seen": "2026-01-01"}
    target = tmp_path / "dup.json"
    target.write_text(json.dumps({"version": 1, "findings": [entry, entry]}))
    with pytest.raises(InputError, match="appears twice"):
        load_baseline(target)
    with pytest.raises(InputError, match="does not exist"):
        load_baseline(tmp_path / "missing.json")


def test_failed_write_leaves_the_old_baseline_intact(tmp_path, monkeypatch):
    target = tmp_path / "b.json"
    write_baseline(target, [finding("a")], None, "2026-06-01")
    before = target.read_bytes()

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="cannot be written"):
        write_baseline(target, [finding("b")], None, "2026-06-02")
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]


# ---------------------------------------------------------------- the `ctlint baseline` command


def _fake_pipeline(monkeypatch, findings):
    """Stand in for ctlint.pipeline so the command is tested without inputs (the demo covers the rest)."""
    seen = {}

    def run_check(args):
        seen["args"] = args
        return RunResult(
            tool_version="0.1.0",
            window=Window(
                datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)
            ),
            data=DataVersions({}),
            accounts=(("demo", ACCOUNT),),
            rules=(),
            findings=tuple(findings),
            suppressed=(finding("quiet", suppressed_reason="ok"),),
        )

    module = types.ModuleType("ctlint.pipeline")
    module.run_check = run_check
    module.config_or_error = lambda path: path or "ctlint.yaml"
    monkeypatch.setitem(sys.modules, "ctlint.pipeline", module)
    return seen


def test_command_records_unsuppressed_findings_and_reports(tmp_path, monkeypatch, capsys):
    from ctlint.commands import baseline as command

    seen = _fake_pipeline(monkeypatch, [finding("a"), finding("b")])
    out = tmp_path / ".ctlint-baseline.json"
    args = argparse.Namespace(
        config="cfg.yaml", start="2026-06-01", end=None, output=str(out), baseline="old.json"
    )
    assert command.run(args) == 0
    assert seen["args"].baseline is None and seen["args"].update_baseline is False
    assert set(load_baseline(out).entries) == {"fp-a-s3:GetObject", "fp-b-s3:GetObject"}
    assert "wrote 2 finding(s) to the new baseline" in capsys.readouterr().err

    _fake_pipeline(monkeypatch, [finding("b"), finding("c")])
    assert command.run(argparse.Namespace(config=None, start=None, end=None, output=str(out))) == 0
    assert "(1 added, 1 kept, 1 removed)" in capsys.readouterr().err


def test_command_refuses_a_corrupt_previous_baseline(tmp_path, monkeypatch):
    from ctlint.commands import baseline as command

    _fake_pipeline(monkeypatch, [finding("a")])
    out = tmp_path / "b.json"
    out.write_text("{oops")
    with pytest.raises(InputError, match="not valid JSON"):
        command.run(argparse.Namespace(config="c.yaml", start=None, end=None, output=str(out)))
    assert out.read_text() == "{oops"


def test_baseline_value_is_plain_data(tmp_path):
    b = Baseline(path=tmp_path / "x.json", entries={})
    assert apply_baseline([], b) == ((), ())


# ---------------------------------------------------------------- end to end on the demo


def test_demo_baseline_then_one_new_grant_fails_with_exactly_that_finding(tmp_path, monkeypatch):
    import shutil

    from ctlint.cli import main

    demo = Path(__file__).resolve().parents[1] / "examples" / "demo"
    work = tmp_path / "demo"
    shutil.copytree(demo, work, ignore=shutil.ignore_patterns("generate.py", "__pycache__"))
    monkeypatch.chdir(tmp_path)
    config, base = str(work / "ctlint.yaml"), str(tmp_path / ".ctlint-baseline.json")
    assert main(["baseline", "--config", config, "--output", base]) == 0
    recorded = load_baseline(Path(base))
    assert len(recorded.entries) > 5
    assert main(["check", "--config", config, "--baseline", base, "--format", "json", "-o", "r0.json"]) == 0

    snapshot = work / "iam" / "demo.json"
    data = json.loads(snapshot.read_text())
    # alice is active (she assumes admin): a new grant she does not use is a granted-unused finding.
    alice = next(u for u in data["UserDetailList"] if u["UserName"] == "alice")
    statements = alice["UserPolicyList"][0]["PolicyDocument"]["Statement"]
    # Its own statement, since the existing one is scoped to a role ARN (which no access key is).
    statements.append({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"})
    snapshot.write_text(json.dumps(data, indent=2))

    code = main(
        [
            "check",
            "--config",
            config,
            "--baseline",
            base,
            "--format",
            "json",
            "-o",
            "r1.json",
            "--sarif",
            "r1.sarif",
        ]
    )
    assert code == 1
    report = json.loads((tmp_path / "r1.json").read_text())
    new = [f for f in report["findings"] if f["baseline"] == "new"]
    assert [(f["rule"], f["principal"], f["action"]) for f in new] == [
        ("granted-unused", f"arn:aws:iam::{ACCOUNT}:user/alice", "iam:CreateAccessKey")
    ]
    assert len(report["findings"]) == len(recorded.entries) + 1
    sarif = json.loads((tmp_path / "r1.sarif").read_text())
    results = [r for r in sarif["runs"][0]["results"] if "suppressions" not in r]
    states = [r.get("baselineState") for r in results]
    # One SARIF result per granting statement: the statement that now grants the new action is new.
    assert states.count("new") == 1 and states.count("unchanged") == len(report["statements"]) - 1
    (fresh,) = [r for r in results if r.get("baselineState") == "new"]
    assert "iam:CreateAccessKey" in fresh["properties"]["actions"]
