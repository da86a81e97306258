"""`ctlint suggest --format terraform`: one `aws_iam_policy_document` data source per document.

Every value is an HCL string literal: quotes, backslashes and control characters escaped, and the
template sequences `${` and `%{` doubled (`$${aws:username}` is how Terraform spells IAM's policy
variable). Block labels are Terraform identifiers built from the principal's name, never raw data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from ctlint.suggest.build import Suggestion

_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def hcl_string(value: str) -> str:
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F or char in "\u2028\u2029":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    text = "".join(out)
    return '"' + text.replace("${", "$${").replace("%{", "%%{") + '"'


def identifier(text: str) -> str:
    """A Terraform identifier (letters, digits, `_`; not starting with a digit) from any text."""
    name = _NOT_IDENTIFIER.sub("_", text).strip("_").lower() or "principal"
    return name if not name[0].isdigit() else f"p_{name}"


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(hcl_string(v) for v in values) + "]"


def _statement(statement: Mapping[str, object]) -> Iterable[str]:
    yield "  statement {"
    if "Sid" in statement:
        yield f"    sid       = {hcl_string(str(statement['Sid']))}"
    yield f"    effect    = {hcl_string(str(statement['Effect']))}"
    for key, attribute in (
        ("Action", "actions"),
        ("NotAction", "not_actions"),
        ("Resource", "resources"),
        ("NotResource", "not_resources"),
    ):
        if key in statement:
            values = statement[key]
            assert isinstance(values, list)
            yield f"    {attribute:<9} = {_list(values)}"
    condition = statement.get("Condition")
    if isinstance(condition, Mapping):
        for operator, tests in condition.items():
            for key, values in tests.items():
                yield "    condition {"
                yield f"      test     = {hcl_string(operator)}"
                yield f"      variable = {hcl_string(key)}"
                yield f"      values   = {_list(values)}"
                yield "    }"
    yield "  }"


def labels(suggestions: Sequence[Suggestion]) -> list[list[str]]:
    """Unique data-source labels, per suggestion and document: `<account>_<name>[_<n>]`."""
    seen: set[str] = set()
    out = []
    for s in suggestions:
        base = identifier(f"{s.account_name}_{s.principal_type}_{s.name}")
        names = []
        for number in range(1, len(s.documents) + 1):
            label = base if len(s.documents) == 1 else f"{base}_{number}"
            candidate, n = label, 2
            while candidate in seen:
                candidate, n = f"{label}_{n}", n + 1
            seen.add(candidate)
            names.append(candidate)
        out.append(names)
    return out


def render_terraform(suggestions: Sequence[Suggestion]) -> str:
    lines = ["# Suggested by ctlint suggest: right-sized from CloudTrail usage; review before applying."]
    for suggestion, names in zip(suggestions, labels(suggestions), strict=True):
        for document, label in zip(suggestion.documents, names, strict=True):
            lines.append("")
            lines.append(f'data "aws_iam_policy_document" "{label}" {{')
            statements = document["Statement"]
            assert isinstance(statements, list)
            for statement in statements:
                lines.extend(_statement(statement))
            lines.append("}")
    return "\n".join(lines) + "\n"
