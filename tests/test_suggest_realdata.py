"""`ctlint suggest` on the third-party 116-principal account (../shared/realdata/iam), with usage made up
here: every principal uses up to 40 of its granted actions, each on a resource its policies grant
(`policy.example_resource`). Every suggestion is valid grammar within the size limits, grants exactly the
used and kept actions, and allows each used (action, resource). `pytest -s` prints the figures."""

from __future__ import annotations

import random
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from suggest_proof import allows, check_documents, suggested_principal

from ctlint.catalog import Catalog
from ctlint.evaluate import AccountState
from ctlint.inventory import read_snapshot
from ctlint.model import ActionUse, PrincipalUsage, Usage, Window
from ctlint.observability import visibility
from ctlint.policy import compute_grants, example_resource
from ctlint.suggest.run import suggest_all

pytestmark = pytest.mark.realdata

SNAPSHOT = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "realdata"
    / "iam"
    / "salesforce__cloudsplaining"
    / "example.json"
)
ACCOUNT = "200611803367"
WINDOW = Window(datetime(2026, 6, 1, tzinfo=timezone.utc), datetime(2026, 11, 1, tzinfo=timezone.utc))
SEEN = datetime(2026, 7, 1, tzinfo=timezone.utc)


def test_real_account_suggestions_hold():
    if not SNAPSHOT.is_file():
        pytest.skip("../shared/realdata/iam is absent (third-party data is not part of the repository)")
    catalog = Catalog.load()
    inventory = read_snapshot(
        SNAPSHOT, account_id=ACCOUNT, account_name="real", display_path="example.json"
    ).inventory
    grants = {p.arn: compute_grants(p, catalog) for p in inventory.principals}
    seen = visibility(catalog, frozenset({"s3", "lambda", "dynamodb"}))
    rng = random.Random(18)
    principals, resources, used_resources = {}, {}, {}
    for principal in inventory.principals:
        granted = sorted(grants[principal.arn].actions & seen.observable)
        used = rng.sample(granted, min(len(granted), 40))
        principals[principal.arn] = PrincipalUsage(
            principal.arn, principal.type, {a: ActionUse(1, SEEN, SEEN) for a in used}
        )
        picked = {a: example_resource(principal, a, catalog) for a in used}
        used_resources[principal.arn] = picked
        resources[principal.arn] = {a: frozenset({r}) for a, r in picked.items() if r and r != "*"}
    usage = Usage(window=WINDOW, principals=principals, resources=resources)
    state = AccountState(inventory=inventory, grants=grants)
    started = time.perf_counter()
    suggestions = suggest_all(
        (state,), usage, frozenset(principals), WINDOW, seen, catalog, today=WINDOW.end.date()
    )
    elapsed = time.perf_counter() - started
    documents = sum(len(s.documents) for s in suggestions)
    granted_before = sum(len(grants[s.principal].actions) for s in suggestions)
    kept = sum(len(s.used) + len(s.unobservable) for s in suggestions)
    print(
        f"\n{len(suggestions)} principals in {elapsed:.1f} s: {granted_before:,} granted actions -> {kept:,} kept "
        f"({sum(len(s.unobservable) for s in suggestions):,} not recorded), {documents} documents, "
        f"largest {max((c for s in suggestions for c in s.document_chars), default=0):,} characters"
    )
    assert len(suggestions) >= 100
    by_arn = inventory.by_arn()
    checked = 0
    for s in suggestions:
        check_documents(s)
        original = by_arn[s.principal]
        suggested = suggested_principal(original, s)
        assert compute_grants(suggested, catalog).actions == set(s.used) | set(s.unobservable), s.principal
        for action, resource in sorted(used_resources[s.principal].items())[:5]:
            if resource is not None:
                checked += 1
                assert allows(suggested, action, resource, catalog) != "no", (s.principal, action, resource)
    assert checked >= 200
