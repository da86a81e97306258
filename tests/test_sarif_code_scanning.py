"""SARIF as GitHub code scanning reads it: severity on the rule (one rule per access level), helpUri at
each rule's docs anchor, and still a valid SARIF 2.1.0 log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ctlint.cli import main

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo" / "ctlint.yaml"
SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def sarif(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("sarif") / "ctlint.sarif"
    assert main(["check", "--config", str(DEMO), "--sarif", str(path), "-o", "/dev/null"]) == 1
    return json.loads(path.read_text())


def test_every_result_names_a_rule_whose_severity_github_reads(sarif):
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        # The rule carries the severity of the result's access level (GitHub ignores the result's own).
        assert rule["properties"]["security-severity"] == result["properties"]["security-severity"] or (
            "/" not in rule["id"]
        )
    split = {r["id"]: r for r in rules if "/" in r["id"]}
    assert split, "the demo has findings about actions with access levels"
    for rule_id, rule in split.items():
        base, level = rule_id.split("/")
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", level)
        assert rule["properties"]["accessLevel"].lower().replace(" ", "-") == level
        assert any(r["id"] == base for r in rules)  # the plain rule stays declared
    write = [r for r in split.values() if r["id"].endswith("/write")]
    listing = [r for r in split.values() if r["id"].endswith("/list")]
    if write and listing:
        assert float(write[0]["properties"]["security-severity"]) > float(
            listing[0]["properties"]["security-severity"]
        )


def test_help_uri_points_at_the_rules_docs_anchor(sarif):
    docs = (REPO / "docs" / "rules.md").read_text()
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]:
        base = rule["id"].split("/")[0]
        assert rule["helpUri"] == f"https://github.com/ctlint/ctlint/blob/main/docs/rules.md#{base}"
        assert f"\n## {base}\n" in docs  # the anchor exists


def test_fingerprints_do_not_depend_on_the_rule_split(sarif, tmp_path):
    document = tmp_path / "r.json"
    assert main(["check", "--config", str(DEMO), "--json", str(document), "-o", "/dev/null"]) == 1
    # One SARIF result per grouped finding (issue 17): its hash is the group's fingerprint, whatever
    # access-level rule the result is filed under.
    fingerprints = {g["fingerprint"] for g in json.loads(document.read_text())["statements"]}
    hashes = {r["partialFingerprints"]["primaryLocationLineHash"] for r in sarif["runs"][0]["results"]}
    assert fingerprints and fingerprints <= hashes


@pytest.mark.skipif(
    not SCHEMA.is_file(),
    reason="../shared/schemas/sarif-schema-2.1.0.json is absent (shared validation data)",
)
def test_valid_against_the_sarif_schema(sarif):
    import jsonschema

    jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))


def test_a_one_line_snapshot_still_points_at_each_principal(tmp_path):
    """`jq -c` output: every principal on line 1, told apart by the column of its Arn."""
    snapshot = json.loads((REPO / "examples" / "demo" / "iam" / "demo.json").read_text())
    one_line = tmp_path / "iam.json"
    text = json.dumps(snapshot, separators=(",", ":"))
    one_line.write_text(text)
    (tmp_path / ".git").mkdir()
    config = tmp_path / "ctlint.yaml"
    config.write_text(
        DEMO.read_text()
        .replace("iam/demo.json", str(one_line))
        .replace("iam/backup.json", str(DEMO.parent / "iam" / "backup.json"))
        .replace("paths: [logs]", f"paths: [{DEMO.parent / 'logs'}]")
    )
    out = tmp_path / "r.sarif"
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["check", "--config", str(config), "--sarif", str(out), "-o", os.devnull]) == 1
    finally:
        os.chdir(cwd)
    regions = {}
    for result in json.loads(out.read_text())["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        if location["artifactLocation"]["uri"] == "iam.json":
            regions[result["properties"]["principal"]] = location["region"]
    assert len(regions) >= 3
    assert {r["startLine"] for r in regions.values()} == {1}
    assert len({r["startColumn"] for r in regions.values()}) == len(regions)
    for arn, region in regions.items():
        at = region["startColumn"] - 1
        assert text[at:].startswith('"Arn":') and text[at:].split('"')[3] == arn
