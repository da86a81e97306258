"""The PR scenario: a plan adds s3:PutBucketPolicy (never used) and drops logs:CreateLogGroup (used)."""

from datetime import datetime, timezone
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.evaluate import AccountState, EvaluationInput, evaluate, fingerprint
from ctlint.iac.compare import make_locator
from ctlint.iac.loader import load_iac
from ctlint.inventory import load_snapshot
from ctlint.model import ActionUse, Inventory, Level, PrincipalUsage, RuleSpec, Usage, Window
from ctlint.policy import compute_grants
from ctlint.rulefiles import load_rules, parse_rule

NEW_GRANT_UNUSED = "new-grant-unused"
REMOVED_GRANT_USED = "removed-grant-used"
PR_KINDS = (NEW_GRANT_UNUSED, REMOVED_GRANT_USED)

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


def pr_findings(
    proposed: Inventory,
    deployed: Inventory,
    usage: Usage,
    catalog: Catalog,
    *,
    account_name: str,
    locate,
    data_events=(),
    rules: tuple[RuleSpec, ...] | None = None,
    visibility=None,
):
    """The pull-request rules' findings for one account, through the evaluator like every other rule."""
    rules = tuple(r for r in (rules or load_rules()) if r.kind in PR_KINDS)
    merged = {p.arn: p for p in deployed.principals} | {p.arn: p for p in proposed.principals}
    inventory = Inventory(proposed.account_id, account_name, tuple(merged.values()), proposed.source)
    redefined = {p.arn for p in proposed.principals}
    state = AccountState(
        inventory=inventory,
        grants={arn: compute_grants(p, catalog) for arn, p in merged.items()},
        deployed_grants={
            p.arn: compute_grants(p, catalog) for p in deployed.principals if p.arn in redefined
        },
    )
    data = EvaluationInput((state,), usage, frozenset(), rules, frozenset(data_events), visibility)
    return evaluate(data, catalog, locate)


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


def test_filters_and_levels_of_an_iac_rule_apply(scenario, catalog):
    # Before the rule-kind registry, the IaC rules took levels only, keyed by kind: filters were ignored.
    snapshot, result = scenario
    usage = _usage({APP: ["logs:CreateLogGroup", "s3:ListBucket", "logs:PutLogEvents"]})
    rules = load_rules(
        {
            NEW_GRANT_UNUSED: {"level": "warning", "filters": {"actions": ["ec2:*"]}},
            REMOVED_GRANT_USED: {"filters": {"access_levels": ["Write"]}},
        }
    )
    narrowed = pr_findings(
        result.inventory,
        snapshot,
        usage,
        catalog,
        account_name="test",
        locate=make_locator(result),
        rules=rules,
    )
    assert [(f.rule, f.action, f.level) for f in narrowed] == [
        (REMOVED_GRANT_USED, "logs:CreateLogGroup", Level.ERROR)
    ]
    rules = load_rules(
        {NEW_GRANT_UNUSED: {"level": "warning", "filters": {"principals": ["*:role/service/*"]}}}
    )
    kept = pr_findings(
        result.inventory,
        snapshot,
        usage,
        catalog,
        account_name="test",
        locate=make_locator(result),
        rules=rules,
    )
    assert [(f.rule, f.level) for f in kept if f.rule == NEW_GRANT_UNUSED] == [
        (NEW_GRANT_UNUSED, Level.WARNING)
    ]


def test_a_custom_rule_of_an_iac_kind_reports_under_its_own_id(scenario, catalog):
    snapshot, result = scenario
    usage = _usage({APP: ["logs:CreateLogGroup"]})
    custom = parse_rule(
        {
            "id": "pr-permissions-grant",
            "kind": NEW_GRANT_UNUSED,
            "level": "warning",
            "title": "t",
            "description": "d",
            "help": "h",
            "filters": {"access_levels": ["Permissions management"]},
        },
        "custom.yaml",
    )
    findings = pr_findings(
        result.inventory,
        snapshot,
        usage,
        catalog,
        account_name="test",
        locate=make_locator(result),
        rules=(*load_rules(), custom),
    )
    mine = [f for f in findings if f.rule == "pr-permissions-grant"]
    assert [(f.action, f.level) for f in mine] == [("s3:PutBucketPolicy", Level.WARNING)]
    assert mine[0].fingerprint == fingerprint(
        ACCOUNT, APP, "pr-permissions-grant", "s3:PutBucketPolicy", None
    )


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
                "(lambda:UpdateFunctionCode); 0 not observable.  [new-grant-unused]  (examples/cloudformation/template.yaml:62)",
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
