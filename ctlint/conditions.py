"""Condition tests whose answer the caller decides: keys whose value ctlint knows for a given principal.

`decide(test, facts)` answers one parsed condition test (operator, key, values) with True, False, or
None when the answer depends on something ctlint does not know (the request context, a session name,
a tag a session may set). `CallerFacts` says, per key (lower-case, as IAM compares key names), whether
it is known present with a value, known absent, present with a known prefix only (a role session's
`aws:userid` is "RoleId:" plus the session name the caller picks), or unknown.

Operators: `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`,
`StringLike`, `StringNotLike`, `ArnEquals`, `ArnNotEquals`, `ArnLike`, `ArnNotLike` (component-wise, on
keys whose value is an ARN), `Bool` (on keys whose value is a boolean), each also with `IfExists` and
the `ForAnyValue:`/`ForAllValues:` prefixes, and `Null`. Every caller key is single-valued, so for a
present key both set operators read like the plain operator. For an absent key: `IfExists`,
`ForAllValues:` and the negated operators hold, everything else fails (`ForAnyValue:` with `IfExists`
on an absent key is left undecided: the documentation does not settle it). Values are case-sensitive
except for the IgnoreCase operators and `Bool`; `Equals` operators read `*` and `?` literally.

Policy variables (`${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and `${*}`, `${?}`, `${$}`
for the literal characters) are substituted where the document's version has them (2012-10-17) and
the variable's value is known; a variable with no known value leaves the test undecided. Anything else
(other operators, unknown keys) is None. No I/O here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ctlint.model import EMPTY_MAPPING

__all__ = ["ARN_KEYS", "BOOL_KEYS", "CallerFacts", "decide", "facts_for"]

# Keys whose value is an ARN (the Arn operators are decided on these only) or a boolean (Bool).
ARN_KEYS = frozenset({"aws:principalarn"})
BOOL_KEYS = frozenset({"aws:principalisawsservice"})

_ABSENT = ("absent",)


@dataclass(frozen=True)
class CallerFacts:
    """What is known of the caller's keys; every key is lower-case."""

    values: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)  # present, with this value
    absent: frozenset[str] = frozenset()  # known not to be in any request of this caller
    # Key prefixes (e.g. "aws:principaltag/") under which every key not in `values` or `unknown` is absent.
    complete_prefixes: tuple[str, ...] = ()
    unknown: frozenset[str] = frozenset()  # keys under a complete prefix whose value is not known
    # Present, with a value that starts with this and continues with what the caller picks.
    prefixed: Mapping[str, str] = field(default_factory=lambda: EMPTY_MAPPING)

    def lookup(self, key: str) -> tuple[str, ...] | None:
        """("value", v), ("prefix", p), ("absent",), or None when unknown."""
        if key in self.values:
            return ("value", self.values[key])
        if key in self.prefixed:
            return ("prefix", self.prefixed[key])
        if key in self.absent:
            return _ABSENT
        if key in self.unknown:
            return None
        if any(key.startswith(p) for p in self.complete_prefixes):
            return _ABSENT
        return None


def facts_for(arn: str, account_id: str, principal_type: str) -> CallerFacts:
    """The keys every request of an IAM user or role has, from its ARN alone (the role's ARN, as
    `aws:PrincipalArn` gives it for its sessions)."""
    kind = {"user": "User", "role": "AssumedRole"}.get(principal_type, "")
    values = {"aws:principalarn": arn, "aws:principalaccount": account_id}
    if kind:
        values["aws:principaltype"] = kind
        values["aws:principalisawsservice"] = "false"
    return CallerFacts(values)


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_BASE = frozenset({"StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"})
_SET_PREFIXES = ("ForAnyValue:", "ForAllValues:")
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}

# A token of a resolved policy value: literal text, or a wildcard ("*" / "?") where the operator has them.
_Token = tuple[str, str]


def decide(
    test: tuple[str, str, tuple[str, ...]], facts: CallerFacts, *, variables: bool = True
) -> bool | None:
    """True / False when `facts` settle the test, None otherwise. `variables`: the document's version
    substitutes policy variables (2012-10-17); otherwise `${...}` is literal text."""
    operator, key, values = test
    state = facts.lookup(key.lower())
    if state is None:
        return None
    if operator == "Null":
        wanted = "true" if state is _ABSENT else "false"
        if not values or any(v.lower() not in ("true", "false") for v in values):
            return None
        return any(v.lower() == wanted for v in values)
    set_operator = next((p for p in _SET_PREFIXES if operator.startswith(p)), "")
    operator = operator.removeprefix(set_operator)
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)
    if base not in _BASE or not values:
        return None
    if state is _ABSENT:
        if if_exists:
            return None if set_operator == "ForAnyValue:" else True
        if set_operator:
            return set_operator == "ForAllValues:"
        return negated
    hits = [_hit(base, key.lower(), state, value, facts, variables) for value in values]
    hit = True if True in hits else None if None in hits else False
    if hit is None:
        return None
    return not hit if negated else hit


def _hit(
    base: str, key: str, state: tuple[str, ...], value: str, facts: CallerFacts, variables: bool
) -> bool | None:
    """Whether one policy value matches the key's value (None: not decided)."""
    wildcards = base in ("StringLike", "ArnLike", "ArnEquals")
    tokens = _tokens(value, facts, wildcards=wildcards, variables=variables)
    if tokens is None:
        return None
    if base == "Bool":
        if key not in BOOL_KEYS or state[0] != "value":
            return None
        text = "".join(t for _, t in tokens)
        if text.lower() not in ("true", "false"):
            return None
        return text.lower() == state[1].lower()
    if base in ("ArnEquals", "ArnLike"):
        if key not in ARN_KEYS or state[0] != "value" or "${" in value:
            return None
        return _arn_like(tokens, state[1])
    ignore_case = base == "StringEqualsIgnoreCase"
    if state[0] == "value":
        return _regex(tokens, ignore_case).fullmatch(state[1]) is not None
    return _with_prefix(tokens, state[1], ignore_case)


def _tokens(value: str, facts: CallerFacts, *, wildcards: bool, variables: bool) -> list[_Token] | None:
    """The policy value as literal text and wildcards, variables substituted; None when a variable's
    value is not known."""
    out: list[_Token] = []
    pos = 0
    spans = list(_VARIABLE.finditer(value)) if variables else []
    for match in [*spans, None]:
        end = match.start() if match else len(value)
        for char in value[pos:end]:
            out.append(("wild", char) if wildcards and char in "*?" else ("text", char))
        if match is None:
            break
        pos = match.end()
        inner = match.group(1)
        if inner in _SPECIAL:
            out.append(("text", _SPECIAL[inner]))
            continue
        name, _, default = inner.partition(",")
        default = default.strip()
        state = facts.lookup(name.strip().lower())
        if state is not None and state[0] == "value" and state[1]:
            out.extend(("text", c) for c in state[1])
        elif state is _ABSENT and len(default) >= 2 and default[0] == default[-1] == "'":
            out.extend(("text", c) for c in default[1:-1])
        else:
            return None
    return out


def _regex(tokens: list[_Token], ignore_case: bool) -> re.Pattern[str]:
    parts = [(".*" if text == "*" else ".") if kind == "wild" else re.escape(text) for kind, text in tokens]
    return re.compile("".join(parts), (re.IGNORECASE if ignore_case else 0) | re.DOTALL)


def _arn_like(tokens: list[_Token], arn: str) -> bool | None:
    """ArnLike / ArnEquals: each of the six colon-separated parts matched on its own."""
    parts: list[list[_Token]] = [[]]
    for token in tokens:
        if token == ("text", ":") and len(parts) < 6:
            parts.append([])
        else:
            parts[-1].append(token)
    actual = arn.split(":", 5)
    if len(parts) < 6 or len(actual) < 6:
        return None
    return all(_regex(p, False).fullmatch(a) is not None for p, a in zip(parts, actual, strict=True))


# A role session's name (the caller picks it): 2 to 64 of these characters.
_SESSION_MIN = 2


def _with_prefix(tokens: list[_Token], prefix: str, ignore_case: bool) -> bool | None:
    """Whether the pattern matches `prefix` + every session name (True), none (False), or some."""
    fold = str.casefold if ignore_case else str
    head: list[_Token] = []
    for token in tokens:
        if token == ("wild", "*"):
            break
        head.append(token)
    rest = tokens[len(head) :]
    for (kind, char), want in zip(head, prefix, strict=False):
        if kind == "text" and fold(char) != fold(want):
            return False
    if not rest and len(head) < len(prefix) + _SESSION_MIN:
        return False
    if rest and all(t == ("wild", "*") for t in rest) and len(head) <= len(prefix):
        return True
    return None
