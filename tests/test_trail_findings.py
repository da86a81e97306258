"""Trail scope and uncontrolled actions in the findings: the rules engine and the whole check."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.cli import main
from ctlint.config import load_config
from ctlint.errors import ConfigError
from ctlint.evaluate import AccountState, EvaluationInput, evaluate
from ctlint.model import (
    ActionUse,
    Grants,
    Inventory,
    Level,
    Principal,
    PrincipalUsage,
    RuleFilters,
    RuleSpec,
    SourceLocation,
    Usage,
    Window,
)
from ctlint.observability import visibility
from ctlint.trailscope import TrailScope, load_event_selectors

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"
CLASSIC = REPO / "tests" / "fixtures" / "trail" / "classic.json"
ACCOUNT = "111111111111"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
RULES = tuple(
    RuleSpec(id=k, kind=k, level=Level.WARNING, title=k, description="d", help="h", filters=RuleFilters())
    for k in ("granted-unused", "granted-unknown", "used-not-granted")
)


def _findings(granted, used, trail=None):
    alice = Principal(
        arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        name="alice",
        type="user",
        account_id=ACCOUNT,
        location=SourceLocation("iam.json", 1),
    )
    moment = datetime(2026, 7, 1, tzinfo=timezone.utc)
    usage = Usage(
        window=WINDOW,
        principals={
            alice.arn: PrincipalUsage(alice.arn, "user", {a: ActionUse(1, moment, moment) for a in used})
        },
    )
    catalog = Catalog.load()
    data = EvaluationInput(
        accounts=(
            AccountState(
                Inventory(ACCOUNT, "demo", (alice,), "iam.json"),
                {alice.arn: Grants(alice.arn, frozenset(granted))},
            ),
        ),
        usage=usage,
        active=frozenset({alice.arn}),
        rules=RULES,
        visibility=visibility(catalog, frozenset(), trail),
    )
    return evaluate(data, catalog)


def test_uncontrolled_actions_are_never_findings():
    granted = {"sts:GetCallerIdentity", "sts:GetSessionToken", "iam:CreateUser", "iam:PassRole"}
    found = _findings(granted, {"iam:ListUsers", "sts:GetSessionToken"})
    assert sorted((f.rule, f.action) for f in found) == [
        ("granted-unknown", "iam:PassRole"),
        ("granted-unused", "iam:CreateUser"),
        ("used-not-granted", "iam:ListUsers"),
    ]


def test_partly_recorded_actions_are_granted_unknown_and_say_what_was_watched():
    trail = TrailScope(load_event_selectors(CLASSIC))
    found = {f.action: f for f in _findings({"s3:GetObject", "kms:Decrypt", "iam:CreateUser"}, set(), trail)}
    assert found["iam:CreateUser"].rule == "granted-unused"
    assert found["kms:Decrypt"].rule == "granted-unknown"  # KMS management events excluded
    assert "does not record with the configured trail" in found["kms:Decrypt"].message
    get = found["s3:GetObject"]
    assert get.rule == "granted-unknown"
    assert get.message == (
        "alice (user) is granted s3:GetObject, whose use the configured trail records only resources.ARN "
        "StartsWith arn:aws:s3:::audit-bucket/, arn:aws:s3:::logs/; it was not used there between "
        "2026-06-01 and 2026-11-01, but ctlint cannot tell whether it is used elsewhere."
    )
    # The verdict changes, the identity of a (rule, action) finding does not.
    plain = {f.action: f for f in _findings({"s3:GetObject"}, set())}
    assert plain["s3:GetObject"].fingerprint == get.fingerprint


# ---------------------------------------------------------------- the whole check


def _demo(tmp_path: Path, trail_yaml: str | None) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(DEMO, target, ignore=shutil.ignore_patterns("generate.py"))
    config = target / "ctlint.yaml"
    text = config.read_text()
    marker = "  data_events: []          # the demo trail logs management events only\n"
    assert marker in text
    if trail_yaml is not None:
        text = text.replace(marker, marker + trail_yaml)
    config.write_text(text)
    return config


def _check(capsys, config: Path) -> tuple[int, str]:
    code = main(["check", "--config", str(config), "--format", "json"])
    out, _err = capsys.readouterr()
    return code, out


def test_a_trail_block_that_changes_nothing_keeps_the_report_byte_identical(tmp_path, capsys):
    _, without = _check(capsys, _demo(tmp_path / "a", None))
    _, default = _check(
        capsys,
        _demo(tmp_path / "b", "  trail:\n    management_events: {log: All}\n"),
    )
    assert default.replace(str(tmp_path / "b"), "") == without.replace(str(tmp_path / "a"), "")


def test_a_single_region_trail_outside_us_east_1_cannot_call_iam_actions_unused(tmp_path, capsys):
    _, before = _check(capsys, _demo(tmp_path / "a", None))
    _, after = _check(capsys, _demo(tmp_path / "b", "  trail:\n    regions: [eu-west-1]\n"))
    old = {(f["principal"], f["action"]): f for f in json.loads(before)["findings"]}
    new = {(f["principal"], f["action"]): f for f in json.loads(after)["findings"]}
    admin = f"arn:aws:iam::{ACCOUNT}:role/admin"
    assert old[(admin, "iam:DeleteUser")]["rule"] == "granted-unused"
    assert new[(admin, "iam:DeleteUser")]["rule"] == "granted-unknown"  # IAM is recorded in us-east-1 only
    assert old[(admin, "s3:DeleteBucket")]["rule"] == "granted-unused"
    assert new[(admin, "s3:DeleteBucket")]["rule"] == "granted-unknown"
    assert "records only in eu-west-1" in new[(admin, "s3:DeleteBucket")]["message"]
    assert not [f for f in new.values() if f["rule"] == "granted-unused"]
    assert {k for k, f in new.items() if f["rule"] != "granted-unknown"} == {
        k for k, f in old.items() if f["rule"] not in ("granted-unused", "granted-unknown")
    }


def test_event_selectors_file_in_the_config(tmp_path, capsys):
    config = _demo(tmp_path, "  trail:\n    event_selectors: selectors.json\n")
    shutil.copy(CLASSIC, config.parent / "selectors.json")
    loaded = load_config(config)
    assert loaded.trail is not None and len(loaded.trail.selectors) == 3
    code, out = _check(capsys, config)
    assert code == 1
    assert json.loads(out)["findings"]


def test_trail_description_file_in_the_config(tmp_path):
    config = _demo(
        tmp_path, "  trail:\n    trail_description: trail.json\n    event_selectors: selectors.json\n"
    )
    shutil.copy(REPO / "tests" / "fixtures" / "trail" / "get-trail.json", config.parent / "trail.json")
    shutil.copy(CLASSIC, config.parent / "selectors.json")
    trail = load_config(config).trail
    assert trail is not None and trail.regions == frozenset({"eu-west-1"})
    assert trail.include_global_service_events


@pytest.mark.parametrize(
    ("trail_yaml", "message"),
    [
        (
            "  trail:\n    event_selectors: absent.json\n",
            r"usage.trail.event_selectors \(absent.json\).*cannot read",
        ),
        (
            "  trail:\n    event_selectors: s.json\n    management_events: {log: All}\n",
            "both 'event_selectors' and 'management_events'",
        ),
        ("  trail:\n    regions: [Europe]\n", "usage.trail.regions"),
        ("  trail:\n    management_events: {exclude_sources: [s3.amazonaws.com]}\n", "exclude_sources"),
        ("  trail:\n    management_events: {log: Writes}\n", "usage.trail.management_events.log"),
        ("  trail:\n    region: eu-west-1\n", "region"),
        ("  trail:\n    include_global_service_events: false\n", "always logs global service events"),
        ("  trail:\n    trail_description: t.json\n    regions: [eu-west-1]\n", "already says which regions"),
        (
            "  trail:\n    trail_description: t.json\n",
            r"trail_description \(t.json\).*cannot read the get-trail",
        ),
    ],
)
def test_bad_trail_blocks_fail_closed(tmp_path, trail_yaml, message):
    with pytest.raises(ConfigError, match=message):
        load_config(_demo(tmp_path, trail_yaml))


def test_show_and_the_pr_rules_use_the_trail_verdicts():
    from ctlint.show import UNKNOWN, UNUSED, diff_actions

    catalog = Catalog.load()
    seen = visibility(catalog, frozenset(), TrailScope(load_event_selectors(CLASSIC)))
    lines = diff_actions(
        {"iam:CreateUser", "kms:Decrypt", "sts:GetCallerIdentity"}, (), catalog, (), seen.observable
    )
    assert {line.name: line.symbol for line in lines} == {
        "iam:CreateUser": UNUSED,
        "kms:Decrypt": UNKNOWN,  # excluded from the trail
        "sts:GetCallerIdentity": UNKNOWN,  # uncontrolled: never "granted but unused"
    }
    # Without a trail the catalog decides, as before.
    before = diff_actions({"kms:Decrypt"}, (), catalog, ())
    assert before[0].symbol == UNUSED


def test_the_pr_rule_new_grant_unused_takes_the_trail_verdicts():
    from test_iac_compare import NEW_GRANT_UNUSED, pr_findings

    from ctlint.iac.compare import make_locator
    from ctlint.iac.loader import load_iac
    from ctlint.inventory import load_snapshot

    fixtures = REPO / "tests" / "fixtures" / "iac"
    snapshot = load_snapshot(
        fixtures / "snapshot.json", account_id=ACCOUNT, account_name="test", display_path="snapshot.json"
    )
    result = load_iac(
        [{"terraform_plan": "plan.json"}],
        base_dir=fixtures,
        account_id=ACCOUNT,
        account_name="test",
        snapshot=snapshot,
    )
    catalog = Catalog.load()
    usage = Usage(window=WINDOW, principals={})

    def new_unused(trail):
        seen = visibility(catalog, frozenset(), trail)
        found = pr_findings(
            result.inventory,
            snapshot,
            usage,
            catalog,
            account_name="test",
            locate=make_locator(result),
            visibility=seen,
        )
        return [f.action for f in found if f.rule == NEW_GRANT_UNUSED]

    assert new_unused(None) == ["s3:PutBucketPolicy"]
    # A trail in eu-west-1 records S3 bucket calls only there: the new grant is not proven unused.
    assert new_unused(TrailScope(regions=frozenset({"eu-west-1"}))) == []
