"""Resource questions for right-sizing: which ARNs a statement covers, which of its patterns matter.

An action's resources are the ARN formats of its resource types (the catalog); an action without
resource types takes only `*`. A statement's Resource (or the complement of its NotResource) is what it
grants; a used ARN, or a collapsed pattern such as `arn:aws:s3:::b/logs/*`, is kept only where that
grant covers it, so a suggestion is never broader than the statement it comes from. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from ctlint.arnmatch import Atom, format_atom, matches_resource, satisfiable
from ctlint.model import Statement
from ctlint.wildcard import has_wildcard

STAR = "*"
# IAM policy documents hold tab, line feed, carriage return and U+0020..U+00FF only (IAM quotas page); a
# resource from the logs must also be one printable line, and start as an ARN does.
_POLICY_TEXT = re.compile(r"[\x20-\x7e\xa0-\xff]+")
MAX_RESOURCE_CHARS = 2048  # one ARN from the logs; longer is not an ARN a policy should carry


def is_policy_resource(value: object) -> bool:
    """Whether a resource from usage can go into a policy: an ARN (or ARN pattern) of printable text."""
    return (
        isinstance(value, str)
        and value.startswith("arn:")
        and len(value) <= MAX_RESOURCE_CHARS
        and _POLICY_TEXT.fullmatch(value) is not None
    )


def _patterns(stmt: Statement) -> tuple[tuple[str, ...], bool]:
    """The statement's resource patterns and whether they are a NotResource."""
    if stmt.not_resources is not None:
        return stmt.not_resources, True
    return stmt.resources, False


def _holds_on(stmt: Statement, resource: str) -> bool:
    patterns, negated = _patterns(stmt)
    return any(matches_resource(p, resource) for p in patterns) != negated


def covers(stmt: Statement, resource: str, formats: Sequence[str], partition: str) -> bool:
    """Every resource of the action's types that `resource` (an ARN or an ARN pattern) names is within
    the statement's Resource (or outside its NotResource)."""
    if not has_wildcard(resource):
        return _holds_on(stmt, resource)
    patterns, negated = _patterns(stmt)
    outside = Atom(frozenset(patterns), negated=not negated)
    clauses: list[tuple[Atom, ...]] = [(Atom(frozenset((resource,))),), (outside,)]
    if formats:
        clauses.append((format_atom(formats, partition),))
    return not satisfiable(tuple(clauses))


def overlapping(stmt: Statement, resource: str, formats: Sequence[str], partition: str) -> tuple[str, ...]:
    """The statement's Resource patterns that share some resource of the action with `resource`: the
    statement's own narrowest terms for a used ARN it does not cover whole (never a NotResource)."""
    if stmt.not_resources is not None:
        return ()
    base = (format_atom(formats, partition),) if formats else None
    out = []
    for pattern in stmt.resources:
        clauses: list[tuple[Atom, ...]] = [(Atom(frozenset((resource,))),), (Atom(frozenset((pattern,))),)]
        if base:
            clauses.append(base)
        if satisfiable(tuple(clauses)):
            out.append(pattern)
    return tuple(out)


def relevant(stmt: Statement, formats: Sequence[str], partition: str) -> tuple[str, ...]:
    """The statement's Resource patterns that can match a resource of the action (for an action that
    takes only `*`: those matching `*`). A NotResource statement keeps its patterns whole."""
    patterns, negated = _patterns(stmt)
    if negated:
        return patterns
    if not formats:
        return tuple(p for p in patterns if matches_resource(p, STAR))
    return tuple(p for p in patterns if _meets(p, tuple(formats), partition))


@lru_cache(maxsize=65536)
def _meets(pattern: str, formats: tuple[str, ...], partition: str) -> bool:
    """Some ARN of `formats` matches `pattern` (cached: a policy's few patterns meet many actions)."""
    if pattern.strip("*") == "":
        return True  # `*` matches every ARN
    return satisfiable(((Atom(frozenset((pattern,))),), (format_atom(formats, partition),)))


def grants_somewhere(stmt: Statement, formats: Sequence[str], partition: str) -> bool:
    """Whether the statement's resources can match some resource of the action at all."""
    if stmt.not_resources is None:
        return bool(relevant(stmt, formats, partition))
    if not formats:
        return _holds_on(stmt, STAR)
    outside = Atom(frozenset(stmt.not_resources), negated=True)
    return satisfiable(((outside,), (format_atom(formats, partition),)))


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def format_pattern(arn_format: str, partition: str) -> str:
    """An IAM pattern for every ARN of one resource type: its format with `*` for each name or id."""
    return _PLACEHOLDER.sub(lambda m: partition if m.group(0) == "${Partition}" else "*", arn_format)


def of_type(resource: str, arn_format: str, partition: str) -> bool:
    """Whether `resource` (an ARN or ARN pattern) names some resource of the type with `arn_format`."""
    return satisfiable(((Atom(frozenset((resource,))),), (format_atom((arn_format,), partition),)))


def within_type(stmt: Statement, arn_format: str, partition: str) -> tuple[str, ...]:
    """The statement's Resource patterns for one resource type, each cut to that type where the type's
    pattern is narrower (`*` becomes `arn:aws:dynamodb:*:*:table/*/index/*`); never broader than the
    statement. A NotResource statement keeps its patterns whole."""
    if stmt.not_resources is not None:
        return stmt.not_resources
    whole = format_pattern(arn_format, partition)
    whole_atom = Atom(frozenset((whole,)))
    out = []
    for pattern in relevant(stmt, (arn_format,), partition):
        atom = Atom(frozenset((pattern,)))
        if not satisfiable(((whole_atom,), (Atom(atom.patterns, negated=True),))):
            out.append(whole)  # the type's pattern lies within this one: use the narrower
        else:
            out.append(pattern)
    return tuple(dict.fromkeys(out))
