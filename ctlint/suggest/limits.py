"""IAM's size quotas, and packing suggested statements into documents that respect them.

The figures are IAM's documented quotas (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html,
"IAM and AWS STS character limits" and "IAM object quotas"; the attachment quota and its raise to 20 also in
https://repost.aws/knowledge-center/iam-increase-policy-size): a managed policy holds 6,144 characters,
the inline policies of a user 2,048 in total, of a role 10,240, of a group 5,120; 10 managed policies
attach to a user or role by default (adjustable, up to 20). IAM does not count white space; ctlint counts
the compact JSON text with every character, so its figure is never below IAM's. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ctlint.suggest.statement import SuggestedStatement

POLICY_VERSION = "2012-10-17"
MANAGED_POLICY_CHARS = 6_144
INLINE_CHARS = {"user": 2_048, "role": 10_240, "group": 5_120}
ATTACHED_POLICIES_DEFAULT = 10
ATTACHED_POLICIES_MAX = 20


def document(statements: Iterable[SuggestedStatement]) -> dict[str, object]:
    return {"Version": POLICY_VERSION, "Statement": [s.to_json() for s in statements]}


def size(value: object) -> int:
    """Characters of the compact JSON text (no white space outside strings), the way IAM counts them
    or more."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


_EMPTY_DOCUMENT = size({"Version": POLICY_VERSION, "Statement": []})


@dataclass(frozen=True)
class Packed:
    documents: tuple[tuple[SuggestedStatement, ...], ...]
    oversized: tuple[str, ...]  # Sids of statements that exceed a whole document on their own


def _halves(stmt: SuggestedStatement) -> tuple[SuggestedStatement, SuggestedStatement] | None:
    """Split one statement into two that together allow (or deny) exactly the same: its Action list, or
    else its Resource list, in halves. NotAction and NotResource lists cannot be split that way."""
    if stmt.not_actions is None and len(stmt.actions) > 1:
        middle = len(stmt.actions) // 2
        return replace(stmt, actions=stmt.actions[:middle]), replace(stmt, actions=stmt.actions[middle:])
    if stmt.not_resources is None and len(stmt.resources) > 1:
        middle = len(stmt.resources) // 2
        return (
            replace(stmt, resources=stmt.resources[:middle]),
            replace(stmt, resources=stmt.resources[middle:]),
        )
    return None


def _fitting(stmt: SuggestedStatement, limit: int) -> list[SuggestedStatement]:
    """`stmt`, split until every piece fits in a document of `limit` characters where it can be."""
    budget = limit - _EMPTY_DOCUMENT
    if size(stmt.to_json()) <= budget:
        return [stmt]
    halves = _halves(stmt)
    if halves is None:
        return [stmt]
    return [*_fitting(halves[0], limit), *_fitting(halves[1], limit)]


def pack(statements: Sequence[SuggestedStatement], limit: int = MANAGED_POLICY_CHARS) -> Packed:
    """Statements in order, split where one alone is too big, filled into as few documents of at most
    `limit` characters as this order allows. Sids made unique again after a split (a suffix)."""
    pieces: list[SuggestedStatement] = []
    for stmt in statements:
        parts = _fitting(stmt, limit)
        if len(parts) == 1:
            pieces.append(stmt)
        else:
            pieces.extend(
                replace(p, sid=f"{stmt.sid}Part{i}" if stmt.sid else None) for i, p in enumerate(parts, 1)
            )
    documents: list[list[SuggestedStatement]] = []
    used = 0
    oversized: list[str] = []
    for piece in pieces:
        cost = size(piece.to_json())
        if cost + _EMPTY_DOCUMENT > limit:
            oversized.append(piece.sid or "")
        if documents and used + 1 + cost <= limit:  # one comma between statements
            documents[-1].append(piece)
            used += 1 + cost
        else:
            documents.append([piece])
            used = _EMPTY_DOCUMENT + cost
    return Packed(tuple(tuple(d) for d in documents), tuple(oversized))
