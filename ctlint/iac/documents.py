"""Policy documents found in IaC, turned into the shared PolicyDocument with per-statement lines.

Kept local (rather than calling ctlint.policy.parse_policy_document) because IaC needs the line of every
statement and every action string, which a location-less parser cannot give back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ctlint.errors import InputError
from ctlint.model import PolicyDocument, SourceLocation, Statement

LineAt = Callable[[tuple[Any, ...]], int]  # path inside the document -> 1-based line


@dataclass(frozen=True)
class LocatedDocument:
    document: PolicyDocument
    # (action pattern as written, where it is written), in document order; Action and NotAction alike.
    action_locations: tuple[tuple[str, SourceLocation], ...]
    unresolved: tuple[str, ...] = ()  # descriptions of values that were intrinsic functions


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _strings(values: list[Any], describe: Callable[[Any], str] = json.dumps) -> tuple[str, ...]:
    # Resource and principal values may be intrinsic functions: keep a readable stand-in, since
    # resource scoping does not change which actions are granted.
    return tuple(v if isinstance(v, str) else describe(v) for v in values)


def _principals(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if value == "*":
        return (("AWS", "*"),)
    if not isinstance(value, Mapping):
        return (("AWS", json.dumps(value, sort_keys=True)),)
    return tuple(
        (str(kind), item if isinstance(item, str) else json.dumps(item, sort_keys=True))
        for kind, items in value.items()
        for item in _as_list(items)
    )


def _conditions(raw: Any) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The Condition block as (operator, key, values) tests, as ctlint.policy parses it; () when any part
    is not plain text, a number or a boolean (an intrinsic function the stack resolves): the statement
    then stays conditional on tests ctlint cannot read."""
    if not isinstance(raw, Mapping):
        return ()
    tests: list[tuple[str, str, tuple[str, ...]]] = []
    for operator, block in raw.items():
        if not isinstance(operator, str) or not isinstance(block, Mapping) or not block:
            return ()
        for key, value in block.items():
            values = value if isinstance(value, list) else [value]
            if not isinstance(key, str) or not values:
                return ()
            texts: list[str] = []
            for v in values:
                if isinstance(v, bool):
                    texts.append("true" if v else "false")
                elif isinstance(v, str):
                    texts.append(v)
                elif isinstance(v, int | float):
                    texts.append(str(v))
                else:
                    return ()
            tests.append((operator, key, tuple(texts)))
    return tuple(tests)


def load_document(raw: Any, *, where: str) -> Mapping[str, Any]:
    """A policy given as an object or as JSON text (as Terraform plans carry it)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: the policy is not valid JSON ({exc.msg}).") from None
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: the policy document must be a JSON object.")
    return raw


def build_document(
    raw: Any,
    *,
    name: str,
    kind: str,
    where: str,
    path: str,
    line_at: LineAt,
    via_group: str | None = None,
) -> LocatedDocument:
    """Convert `raw` (object or JSON text); `line_at(("Statement", i, "Action", j))` gives each line."""
    doc = load_document(raw, where=where)
    statements_raw = doc.get("Statement", [])
    listed = isinstance(statements_raw, list)
    statements: list[Statement] = []
    action_locations: list[tuple[str, SourceLocation]] = []
    unresolved: list[str] = []
    for index, item in enumerate(_as_list(statements_raw)):
        base: tuple[Any, ...] = ("Statement", index) if listed else ("Statement",)
        if isinstance(item, Mapping) and len(item) == 1 and str(next(iter(item))).startswith("Fn::"):
            # e.g. a CloudFormation `!If [cond, {...}, !Ref AWS::NoValue]` statement: depends on the stack.
            unresolved.append(f"{where}: statement {index + 1} is {json.dumps(item, sort_keys=True)}")
            continue
        if not isinstance(item, Mapping):
            raise InputError(f"{where}: statement {index + 1} must be an object.")
        effect = item.get("Effect")
        if effect not in ("Allow", "Deny"):
            raise InputError(f"{where}: statement {index + 1} has Effect {effect!r}, not Allow or Deny.")
        patterns: dict[str, tuple[str, ...] | None] = {"Action": None, "NotAction": None}
        for key in patterns:
            if key not in item:
                continue
            values = item[key]
            found: list[str] = []
            for j, value in enumerate(_as_list(values)):
                sub = (*base, key, j) if isinstance(values, list) else (*base, key)
                if not isinstance(value, str):
                    unresolved.append(f"{where}: {key} {json.dumps(value, sort_keys=True)}")
                    continue
                found.append(value)
                action_locations.append((value, SourceLocation(path, line_at(sub))))
            patterns[key] = tuple(found)
        statements.append(
            Statement(
                effect=effect,
                actions=patterns["Action"] or (),
                not_actions=patterns["NotAction"],
                resources=_strings(_as_list(item["Resource"]))
                if "Resource" in item
                else (() if "NotResource" in item else ("*",)),
                not_resources=_strings(_as_list(item["NotResource"])) if "NotResource" in item else None,
                has_condition=bool(item.get("Condition")),
                principals=_principals(item.get("Principal")),
                not_principals=_principals(item.get("NotPrincipal")),
                sid=item.get("Sid") if isinstance(item.get("Sid"), str) else None,
                location=SourceLocation(path, line_at(base)),
                conditions=_conditions(item.get("Condition")),
            )
        )
    document = PolicyDocument(
        name=name,
        kind=kind,
        statements=tuple(statements),
        location=SourceLocation(path, line_at(())),
        via_group=via_group,
        version=doc.get("Version") if isinstance(doc.get("Version"), str) else None,
    )
    return LocatedDocument(document, tuple(action_locations), tuple(unresolved))
