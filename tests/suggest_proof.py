"""What every suggestion test checks, with ctlint's own engine: grammar, size limits, and what a suggested
document allows compared with what was used and what was granted.

`allows(principal, action, resource)`: the verdict on one concrete resource, from `policy.compute_grants`
over the principal's policies plus a probe `Deny action NotResource resource` (which leaves only that
resource): "granted", "conditional" or "no". Import as `from suggest_proof import ...`.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import jsonschema

from ctlint.catalog import Catalog
from ctlint.model import PolicyDocument, Principal, Statement
from ctlint.policy import compute_grants, parse_policy_document
from ctlint.suggest.build import Suggestion
from ctlint.suggest.limits import MANAGED_POLICY_CHARS

SCHEMA = json.loads(
    (Path(__file__).parent / "fixtures" / "suggest" / "iam-identity-policy.schema.json").read_text()
)
_RANK = {"no": 0, "conditional": 1, "granted": 2}
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def check_documents(suggestion: Suggestion) -> None:
    """Every document is IAM grammar, its Sids are unique, and it is within the managed policy limit
    (white space not counted, as IAM counts)."""
    for document in suggestion.documents:
        jsonschema.validate(document, SCHEMA)
        sids = [s.get("Sid") for s in document["Statement"]]  # type: ignore[union-attr]
        assert len(sids) == len(set(sids)), sids
        text = json.dumps(document)
        assert len(re.sub(r"\s", "", text)) <= MANAGED_POLICY_CHARS


def suggested_principal(original: Principal, suggestion: Suggestion) -> Principal:
    """The principal with the suggested documents as its only identity policies (boundary unchanged)."""
    policies = tuple(
        parse_policy_document(doc, name=f"suggested-{i}", kind="managed", where="suggestion")
        for i, doc in enumerate(suggestion.documents, start=1)
    )
    return replace(original, policies=policies, groups=())


def allows(principal: Principal, action: str, resource: str, catalog: Catalog) -> str:
    probe = PolicyDocument(
        name="probe",
        kind="inline",
        statements=(Statement("Deny", actions=(action,), resources=(), not_resources=(resource,)),),
    )
    grants = compute_grants(replace(principal, policies=(*principal.policies, probe)), catalog)
    if action not in grants.actions:
        return "no"
    return "conditional" if action in grants.conditional else "granted"


def at_most(suggested: str, original: str) -> bool:
    return _RANK[suggested] <= _RANK[original]


def sample_arns(action: str, catalog: Catalog, account: str, names=("alpha", "data-prod")) -> list[str]:
    """Concrete ARNs of each resource type of `action` (or `*` for an action that takes only `*`)."""
    out = []
    for resource_type in catalog.resource_types(action):
        for name in names:
            out.append(
                _PLACEHOLDER.sub(
                    lambda m, name=name: {"Partition": "aws", "Region": "us-east-1", "Account": account}.get(
                        m.group(1), name
                    ),
                    resource_type.arn_format,
                )
            )
    return sorted(set(out)) or ["*"]
