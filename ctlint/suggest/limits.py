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


def _with(stmt: SuggestedStatement, key: str, values: tuple[str, ...]) -> SuggestedStatement:
    return replace(stmt, actions=values) if key == "actions" else replace(stmt, resources=values)


def _take(stmt: SuggestedStatement, room: int) -> tuple[SuggestedStatement, SuggestedStatement | None] | None:
    """The longest head of the statement's Action list (else of its Resource list) that fits in `room`
    characters, and the rest: two statements that together allow (or deny) exactly what it does.
    None when not even one entry fits, or the list cannot be split (NotAction, NotResource)."""
    if stmt.not_actions is None and len(stmt.actions) > 1:
        key, values = "actions", stmt.actions
    elif stmt.not_resources is None and len(stmt.resources) > 1:
        key, values = "resources", stmt.resources
    else:
        return None
    lo, hi = 0, len(values)  # the largest count in [1, len] that fits, by bisection
    while lo < hi:
        middle = (lo + hi + 1) // 2
        if size(_with(stmt, key, values[:middle]).to_json()) <= room:
            lo = middle
        else:
            hi = middle - 1
    if lo == 0:
        return None
    head = _with(stmt, key, values[:lo])
    return head, (_with(stmt, key, values[lo:]) if lo < len(values) else None)


def pack(statements: Sequence[SuggestedStatement], limit: int = MANAGED_POLICY_CHARS) -> Packed:
    """Statements in order, filled into documents of at most `limit` characters; a statement that does
    not fit where the current document ends is split to fill it (its parts get a `Part<n>` Sid suffix).
    A statement too big for a document alone that cannot be split is kept whole, named in `oversized`."""
    documents: list[list[SuggestedStatement]] = []
    current: list[SuggestedStatement] = []
    used = _EMPTY_DOCUMENT
    oversized: list[str] = []

    def close() -> None:
        nonlocal current, used
        if current:
            documents.append(current)
        current, used = [], _EMPTY_DOCUMENT

    for stmt in statements:
        pieces: list[tuple[list[SuggestedStatement], int]] = []  # where each part of `stmt` went
        rest: SuggestedStatement | None = stmt
        while rest is not None:
            separator = 1 if current else 0
            cost = size(rest.to_json())
            if used + separator + cost <= limit:
                head, rest = rest, None
            else:
                if rest is stmt and stmt.sid:
                    # Its parts will be renamed `<sid>Part<n>`: measure them with the longest such Sid.
                    longest = max(len(stmt.actions), len(stmt.resources))
                    rest = replace(stmt, sid=f"{stmt.sid}Part{longest}")
                taken = _take(rest, limit - used - separator)
                if taken is None and current:
                    close()  # try again in a fresh document
                    continue
                if taken is None:
                    oversized.append(rest.sid or "")
                    head, rest = rest, None
                else:
                    head, rest = taken
            current.append(head)
            pieces.append((current, len(current) - 1))
            used += separator + size(head.to_json())
            if rest is not None:
                close()
        if len(pieces) > 1 and stmt.sid:
            for number, (where, index) in enumerate(pieces, start=1):
                where[index] = replace(where[index], sid=f"{stmt.sid}Part{number}")
        elif pieces:  # whole after all (in a fresh document): its own Sid, never longer
            where, index = pieces[0]
            where[index] = replace(where[index], sid=stmt.sid)
    close()
    return Packed(tuple(tuple(d) for d in documents), tuple(oversized))
