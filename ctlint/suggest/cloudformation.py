"""`ctlint suggest --format cloudformation`: an `AWS::IAM::ManagedPolicy` per document, as YAML.

The snippet is a template's `Resources` section: paste it into a template (or deploy it as one). Logical
ids are alphanumeric, built from the principal's name; every value from data goes through the YAML
emitter's own quoting (`yaml.safe_dump`), so no name can start a new key or document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import yaml

from ctlint.suggest.build import Suggestion

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
LOGICAL_ID_CHARS = 255  # CloudFormation's limit for a logical id
_DESCRIPTION_CHARS = 1000  # AWS::IAM::ManagedPolicy Description


def logical_id(text: str) -> str:
    words = [w for w in _NOT_ALNUM.split(text) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Principal"
    return name[: LOGICAL_ID_CHARS - 16]


def render_cloudformation(suggestions: Sequence[Suggestion]) -> str:
    resources: dict[str, object] = {}
    for s in suggestions:
        base = logical_id(f"{s.account_name} {s.name}") + "Suggested"
        for number, document in enumerate(s.documents, start=1):
            name = base if len(s.documents) == 1 else f"{base}{number}"
            candidate, n = name, 2
            while candidate in resources:
                candidate, n = f"{name}{n}", n + 1
            properties: dict[str, object] = {
                "Description": f"ctlint suggest for {s.principal} ({number} of {len(s.documents)})"[
                    :_DESCRIPTION_CHARS
                ],
                "PolicyDocument": document,
            }
            properties["Roles" if s.principal_type == "role" else "Users"] = [s.name]
            resources[candidate] = {"Type": "AWS::IAM::ManagedPolicy", "Properties": properties}
    header = "# Suggested by ctlint suggest: right-sized from CloudTrail usage; review before applying.\n"
    return header + yaml.safe_dump({"Resources": resources}, sort_keys=False, allow_unicode=False, width=120)
