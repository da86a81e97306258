"""Condition tests whose answer the caller decides: keys whose value ctlint knows for a given principal.

`decide(test, facts)` answers one parsed condition test (operator, key, values) with True, False, or
None when the key is not one ctlint knows (the request context decides it). Known keys:
`aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalType`. Operators: `StringEquals`,
`StringNotEquals`, `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`, `StringLike`, `StringNotLike`,
`ArnEquals`, `ArnNotEquals`, `ArnLike`, `ArnNotLike`, each also with `IfExists` and the
`ForAnyValue:`/`ForAllValues:` prefixes (a known key here has one value, for which both read alike),
and `Null`. Anything else is None. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ctlint.wildcard import compile_pattern

__all__ = ["CallerFacts", "decide", "facts_for"]


@dataclass(frozen=True)
class CallerFacts:
    values: Mapping[str, str]  # lower-case key -> value


def facts_for(arn: str, account_id: str, principal_type: str) -> CallerFacts:
    """The caller-decided keys of an IAM user or role (the role's ARN, as `aws:PrincipalArn` gives it)."""
    kind = {"user": "User", "role": "AssumedRole"}.get(principal_type, "")
    values = {"aws:principalarn": arn, "aws:principalaccount": account_id}
    if kind:
        values["aws:principaltype"] = kind
    return CallerFacts(values)


def _match(operator: str, pattern: str, value: str) -> bool | None:
    if operator in ("StringEquals", "ArnEquals"):
        return pattern == value if operator == "StringEquals" else _like(pattern, value)
    if operator == "StringEqualsIgnoreCase":
        return pattern.casefold() == value.casefold()
    if operator in ("StringLike", "ArnLike"):
        return _like(pattern, value)
    return None


def _like(pattern: str, value: str) -> bool:
    # Case-sensitive, as StringLike and the ARN operators are; `*` and `?` are the only wildcards.
    regex = compile_pattern(pattern).pattern
    return re.fullmatch(regex, value, re.DOTALL) is not None


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def decide(test: tuple[str, str, tuple[str, ...]], facts: CallerFacts) -> bool | None:
    operator, key, values = test
    value = facts.values.get(key.lower())
    if value is None:
        return None
    if operator == "Null":
        if all(v in ("true", "false") for v in values) and len(set(values)) == 1:
            return values[0] == "false"  # the key is present
        return None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        operator = operator.removeprefix(prefix)
    operator = operator.removesuffix("IfExists")  # the key exists: IfExists changes nothing
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    hits = [_match(base, pattern, value) for pattern in values]
    if any(h is None for h in hits):
        return None
    hit = any(hits)
    return not hit if negated else hit
