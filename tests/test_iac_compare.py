"""The PR scenario: a plan adds s3:PutBucketPolicy (never used) and drops logs:CreateLogGroup (used)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.evaluate import fingerprint
from ctlint.iac.compare import NEW_GRANT_UNUSED, REMOVED_GRANT_USED, make_locator, pr_findings
from ctlint.iac.loader import load_iac
from ctlint.inventory import load_snapshot
from ctlint.model import ActionUse, Level, PrincipalUsage, Usage, Window

FIXTURES = Path(__file__).parent / "fixtures" / "iac"
ACCOUNT = "111111111111"
APP = f"arn:aws:iam::{ACCOUNT}:role/service/app"
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _usage(actions: dict[str, list[str]]) -> Usage:
    use = ActionUse(3, datetime(2026, 10, 1, tzinfo=timezone.utc), datetime(2026, 10, 2, tzinfo=timezone.utc))
    return Usage(
        window=Window(T0, T1),
        principals={
            arn: PrincipalUsage(arn, "role", {a: use for a in used}) for arn, used in actions.items()
        },
    )


def _line_of(text: str, needle: str, after: str | None = None) -> int:
    lines = text.splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines[start:], start) if needle in line) + 1


@pytest.fixture(scope="module")
def catalog():
    return Catalog.load()


@pytest.fixture(scope="module")
def scenario():
    snapshot = load_snapshot(
        FIXTURES / "snapshot.json", account_id=ACCOUNT, account_name="test", display_path="snapshot.json"
    )
    result = load_iac(
        [{"terraform_plan": "plan.json"}],
        base_dir=FIXTURES,
        account_id=ACCOUNT,
        account_name="test",
        snapshot=snapshot,
    )
    return snapshot, result


def test_pr_findings_name_exactly_the_added_unused_and_removed_used_actions(scenario, catalog):
    snapshot, result = scenario
    usage = _usage({APP: ["logs:CreateLogGroup", "s3:ListBucket", "logs:PutLogEvents"]})
    findings = pr_findings(
        result.inventory, snapshot, usage, catalog, account_name="test", locate=make_locator(result)
    )
    assert [(f.rule, f.principal, f.action) for f in findings] == [
        (NEW_GRANT_UNUSED, APP, "s3:PutBucketPolicy"),
        (REMOVED_GRANT_USED, APP, "logs:CreateLogGroup"),
    ]
    plan = (FIXTURES / "plan.json").read_text()
    added, removed = findings
    assert added.location.path == "plan.json"
    assert added.location.line == _line_of(
        plan, '"s3:PutBucketPolicy"', after="data.aws_iam_policy_document.app_s3"
    )
    assert removed.location.line == _line_of(plan, '"address": "aws_iam_role.app"')
    assert {f.level for f in findings} == {Level.ERROR}
    assert added.fingerprint == fingerprint(ACCOUNT, APP, NEW_GRANT_UNUSED, "s3:PutBucketPolicy", None)
    assert added.access_level == "Permissions management"
    assert "s3:PutBucketPolicy" in added.message and "2026-06-01" in added.message


def test_used_new_grant_and_unused_removed_grant_are_quiet(scenario, catalog):
    snapshot, result = scenario
    usage = _usage({APP: ["s3:PutBucketPolicy"]})
    findings = pr_findings(
        result.inventory, snapshot, usage, catalog, account_name="test", locate=make_locator(result)
    )
    assert findings == []


def test_unobservable_new_grants_are_never_called_unused(scenario, catalog):
    # The plan keeps s3:PutObject (a data event); were it new it must still not be flagged.
    snapshot, result = scenario
    findings = pr_findings(
        result.inventory, snapshot, _usage({}), catalog, account_name="test", locate=make_locator(result)
    )
    assert all(catalog.is_observable(f.action, ()) for f in findings if f.rule == NEW_GRANT_UNUSED)
    with_data = pr_findings(
        result.inventory,
        snapshot,
        _usage({}),
        catalog,
        account_name="test",
        locate=make_locator(result),
        data_events=("s3",),
    )
    assert [f.action for f in with_data] == [f.action for f in findings]  # PutObject is not new anyway


def test_locator_prefers_exact_pattern_over_wildcard(catalog):
    from ctlint.iac.loader import IacResult
    from ctlint.model import Inventory, Principal, SourceLocation

    principal = Principal(APP, "app", "role", ACCOUNT, location=SourceLocation("p.json", 1))
    result = IacResult(
        inventory=Inventory(ACCOUNT, "t", (principal,), "p.json"),
        unlinked=(),
        unresolved=(),
        action_locations={
            (APP, "s3:*"): SourceLocation("p.json", 5),
            (APP, "s3:Get*"): SourceLocation("p.json", 7),
            (APP, "s3:getobject"): SourceLocation("p.json", 9),
        },
    )
    locate = make_locator(result)
    assert locate(principal, "s3:GetObject").line == 9
    assert locate(principal, "s3:GetBucketPolicy").line == 7
    assert locate(principal, "s3:PutObject").line == 5
    assert locate(principal, "ec2:RunInstances").line == 1


@pytest.mark.parametrize(
    "folder, expected",
    [
        (
            "terraform",
            [
                "(s3:PutBucketPolicy); 0 not observable.  [new-grant-unused]  (examples/terraform/plan.json:419)",
                "removes logs:CreateLogGroup, which it used between 2026-08-01 and 2026-11-01; expect failures.  [removed-grant-used]",
            ],
        ),
        (
            "cloudformation",
            [
                "(lambda:UpdateFunctionCode); 0 not observable.  [new-grant-unused]  (examples/cloudformation/template.yaml:61)",
                "removes dynamodb:DeleteItem, which it used between 2026-08-01 and 2026-11-01; expect failures.  [removed-grant-used]",
            ],
        ),
    ],
)
def test_examples_run_as_their_readme_says(folder, expected, capsys, monkeypatch):
    from ctlint.cli import main

    root = Path(__file__).resolve().parents[1]
    monkeypatch.chdir(root)
    code = main(["check", "--config", f"examples/{folder}/ctlint.yaml", "--no-color"])
    out = capsys.readouterr().out
    assert code == 1
    assert all(any(want in line for line in out.splitlines()) for want in expected)
    readme = (root / "examples" / folder / "README.md").read_text()
    block = readme.split(f"$ ctlint check --config examples/{folder}/ctlint.yaml\n", 1)[1].split("$ echo", 1)[
        0
    ]
    assert block == out
