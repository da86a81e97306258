"""A right-sized identity policy for one principal, from its grants and the window's usage. Pure: no I/O.

What goes in (docs/suggest.md has the whole contract):
- every granted action the principal used, placed in the statement(s) that grant it today, so their
  Condition stays attached; on the resources it was used on where those statements cover them, on their
  own patterns otherwise, `*` for actions that take only `*`;
- granted actions an allowlist entry keeps, with the statements' own resources;
- granted actions CloudTrail cannot show (not recorded by the configured trail, or recorded only for some
  uses) in statements whose Sid says so, unless `drop_unobservable`;
- the Deny statements of today's policies that name a kept action, so nothing is allowed that is
  denied today. The permissions boundary stays as it is and keeps applying.
What stays out: granted actions that are recorded and were not used (`removed`), and actions used but not
granted (`review`: never added, a person decides).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace

from ctlint.attribution import attribute
from ctlint.model import EMPTY_MAPPING, Grants, Principal, Statement, StatementRef
from ctlint.observability import Visibility
from ctlint.policy import ActionUniverse, statement_actions
from ctlint.suggest.actions import compress_actions
from ctlint.suggest.limits import (
    ATTACHED_POLICIES_DEFAULT,
    ATTACHED_POLICIES_MAX,
    INLINE_CHARS,
    MANAGED_POLICY_CHARS,
    document,
    pack,
    size,
)
from ctlint.suggest.resources import STAR, covers, is_policy_resource, of_type, overlapping, relevant
from ctlint.suggest.statement import (
    SuggestedStatement,
    condition_unreadable,
    formats_of,
    rightsize_statement,
)

_SID_TEXT = re.compile(r"[^A-Za-z0-9]")
SID_BASE_CHARS = 48
# Sid suffixes say why a statement is there (JSON has no comments).
_PURPOSE_SUFFIX = {
    "used": "Used",
    "allowlisted": "KeptByAllowlist",
    "unobservable": "NotRecordedByCloudTrail",
    "deny": "Deny",
}


@dataclass(frozen=True)
class SuggestOptions:
    drop_unobservable: bool = False
    document_chars: int = MANAGED_POLICY_CHARS


@dataclass(frozen=True)
class StatementSource:
    sid: str
    document: int  # 1-based
    purpose: str
    source: str  # StatementRef.label() of the statement it comes from
    actions: tuple[str, ...]  # canonical actions it allows (or denies)


@dataclass(frozen=True)
class Suggestion:
    principal: str
    account: str
    account_name: str
    principal_type: str
    name: str
    active: bool
    documents: tuple[dict[str, object], ...]
    used: tuple[str, ...]  # granted and used in the window
    unobservable: tuple[str, ...]  # granted, not used, not (fully) recorded by the trail
    unobservable_kept: bool
    allowlisted: tuple[str, ...]  # granted, not used, kept by an allowlist entry
    removed: tuple[str, ...]  # granted, recorded, not used: left out
    review: tuple[str, ...]  # used but not granted: never added
    resources: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: EMPTY_MAPPING)
    statements: tuple[StatementSource, ...] = ()
    document_chars: tuple[int, ...] = ()
    inline_chars: int | None = None  # IAM's limit for all inline policies of this principal type
    notes: tuple[str, ...] = ()

    @property
    def fits_inline(self) -> bool:
        """All documents together fit in the principal type's inline policy quota."""
        return self.inline_chars is not None and sum(self.document_chars) <= self.inline_chars


@dataclass(frozen=True)
class _Source:
    ref: StatementRef
    statement: Statement


def _sid_base(ref: StatementRef) -> str:
    text = ref.sid or f"{ref.policy.rsplit('/', 1)[-1]}{ref.index}"
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    base = "".join(w[:1].upper() + w[1:] for w in words)[:SID_BASE_CHARS]
    return base or f"Statement{ref.index}"


def _sources(principal: Principal, grants: Grants, universe: ActionUniverse) -> list[_Source]:
    """The Allow statements that grant the principal's effective actions, in policy order."""
    statements: dict[tuple, Statement] = {}
    for doc in principal.policies:
        for index, stmt in enumerate(doc.statements, start=1):
            statements.setdefault((doc.name, doc.kind, doc.via_group, index), stmt)
    attribution = attribute(principal, grants.actions, lambda s: statement_actions(s, universe))
    return [
        _Source(
            g.statement,
            statements[
                (g.statement.policy, g.statement.policy_kind, g.statement.via_group, g.statement.index)
            ],
        )
        for g in attribution.grants
    ]


def _unconditional_first(sources: list[_Source]) -> list[_Source]:
    return sorted(sources, key=lambda s: s.statement.has_condition)


def _assign(
    action: str,
    arns: frozenset[str],
    candidates: list[_Source],
    universe: ActionUniverse,
    partition: str,
) -> tuple[dict[int, frozenset[str]], frozenset[str]]:
    """Which candidate statements (by position) keep `action`, on which resources; and the used
    resources no candidate grants. No resource known: the first unconditional statement granting it on
    `*` alone, else every candidate (today's grant of the action, exactly)."""
    formats = formats_of(universe, action)
    # Only ARNs of the action's resource types say anything about what it needs (ctlint.suggest.statement).
    valid = frozenset(
        r for r in arns if is_policy_resource(r) and any(of_type(r, f, partition) for f in formats)
    )
    if not valid:
        for source in _unconditional_first(candidates):
            if not source.statement.has_condition and STAR in relevant(source.statement, formats, partition):
                return {candidates.index(source): frozenset()}, frozenset()
        return {i: frozenset() for i in range(len(candidates))}, frozenset()
    assigned: dict[int, set[str]] = {}
    remaining = set(valid)
    for source in _unconditional_first(candidates):
        hit = {r for r in remaining if covers(source.statement, r, formats, partition)}
        if hit:
            assigned.setdefault(candidates.index(source), set()).update(hit)
            remaining -= hit
    ungranted = set()
    for arn in remaining:
        overlaps = [i for i, s in enumerate(candidates) if overlapping(s.statement, arn, formats, partition)]
        if not overlaps:
            ungranted.add(arn)
        for i in overlaps:
            assigned.setdefault(i, set()).add(arn)
    return {i: frozenset(r) for i, r in assigned.items()}, frozenset(ungranted)


def _denials(
    principal: Principal, kept: frozenset[str], universe: ActionUniverse, notes: list[str]
) -> list[SuggestedStatement]:
    """Today's Deny statements that name a kept action, narrowed to those actions (a NotAction Deny
    verbatim): a Deny only ever narrows, so carrying it keeps the suggestion within today's grant."""
    out: list[SuggestedStatement] = []
    seen: set[tuple[str, str, str | None]] = set()
    for doc in principal.policies:
        if (doc.name, doc.kind, doc.via_group) in seen:
            continue
        seen.add((doc.name, doc.kind, doc.via_group))
        for index, stmt in enumerate(doc.statements, start=1):
            if stmt.effect != "Deny":
                continue
            hit = statement_actions(stmt, universe) & kept
            if not hit:
                continue
            ref = StatementRef(doc.name, doc.kind, index, stmt.sid, doc.via_group)
            if condition_unreadable(stmt):
                notes.append(
                    f"{ref.label()} denies {len(hit)} kept action(s) under a Condition ctlint could not "
                    "read; it is not in the suggestion: add it back."
                )
                continue
            denial = SuggestedStatement(
                effect="Deny",
                actions=compress_actions(hit, universe) if stmt.not_actions is None else (),
                not_actions=stmt.not_actions,
                resources=stmt.resources if stmt.not_resources is None else (),
                not_resources=stmt.not_resources,
                conditions=stmt.conditions,
                sid=_sid_base(ref) + _PURPOSE_SUFFIX["deny"],
                purpose="deny",
                names=frozenset(hit),
                origin=ref.label(),
            )
            out.append(denial)
    return out


def _unique_sids(statements: list[SuggestedStatement]) -> list[SuggestedStatement]:
    seen: dict[str, int] = {}
    out = []
    for stmt in statements:
        base = stmt.sid or "Statement"
        count = seen.get(base, 0) + 1
        seen[base] = count
        out.append(replace(stmt, sid=base if count == 1 else f"{base}{count}"))
    return out


@dataclass(frozen=True)
class PrincipalInput:
    """What the builder reads about one principal (values from the pipeline's stages)."""

    principal: Principal
    account_name: str
    grants: Grants
    used: Collection[str]  # canonical actions used in the window
    resources: Mapping[str, frozenset[str]] = field(default_factory=lambda: EMPTY_MAPPING)
    allowlisted: frozenset[str] = frozenset()  # granted actions an allowlist entry keeps
    active: bool = True


def suggest_policy(
    facts: PrincipalInput,
    visibility: Visibility,
    universe: ActionUniverse,
    options: SuggestOptions | None = None,
) -> Suggestion:
    """The right-sized identity policy of one principal (module docstring)."""
    options = options or SuggestOptions()
    principal, grants = facts.principal, facts.grants
    partition = principal.arn.split(":", 2)[1] if principal.arn.count(":") >= 2 else "aws"
    granted = grants.actions
    used_all = frozenset(facts.used)
    used = used_all & granted
    rest = granted - used
    allowlisted = rest & facts.allowlisted
    unobservable = frozenset(
        a for a in rest - allowlisted if a not in visibility.observable and a not in visibility.uncontrolled
    )
    removed = rest - allowlisted - unobservable
    review = used_all - granted - visibility.uncontrolled

    sources = _sources(principal, grants, universe)
    named = [statement_actions(s.statement, universe) for s in sources]  # a union per statement, once
    notes: list[str] = []
    wanted: dict[str, dict[int, dict[str, frozenset[str]]]] = {}  # purpose -> source -> action -> ARNs
    ungranted: dict[str, frozenset[str]] = {}
    keep = {"used": used, "allowlisted": allowlisted}
    if not options.drop_unobservable:
        keep["unobservable"] = unobservable
    for purpose, actions in keep.items():
        for action in sorted(actions):
            candidates = [s for s, names in zip(sources, named, strict=True) if action in names]
            # Recorded for some uses only: the log may not show every resource, so keep the patterns.
            arns = facts.resources.get(action, frozenset()) if purpose == "used" else frozenset()
            if action in visibility.partial:
                arns = frozenset()
            assigned, missing = _assign(action, arns, candidates, universe, partition)
            if missing:
                ungranted[action] = missing
            for position, resources in assigned.items():
                index = sources.index(candidates[position])
                wanted.setdefault(purpose, {}).setdefault(index, {})[action] = resources

    pieces: list[SuggestedStatement] = []
    placed: set[str] = set()
    explained: set[str] = set()  # kept actions a note already accounts for
    for index, source in enumerate(sources):
        for purpose in ("used", "allowlisted", "unobservable"):
            used_here = wanted.get(purpose, {}).get(index)
            if not used_here:
                continue
            sized = rightsize_statement(
                source.statement, used_here, universe, partition=partition, purpose=purpose
            )
            if sized.reason:
                explained |= sized.unplaced
                notes.append(
                    f"{source.ref.label()}: {sized.reason}; its {len(sized.unplaced)} kept action(s) are not "
                    "in the suggestion (keep that statement as it is)."
                )
            placed |= sized.placed
            sid = _sid_base(source.ref) + _PURPOSE_SUFFIX[purpose]
            pieces.extend(replace(s, sid=sid, origin=source.ref.label()) for s in sized.statements)
    missing_actions = (
        used | allowlisted | (frozenset() if options.drop_unobservable else unobservable)
    ) - placed
    missing_actions -= explained | placed
    if missing_actions:
        notes.append(
            f"{len(missing_actions)} kept action(s) could not be placed in a statement that grants them today "
            f"({', '.join(sorted(missing_actions)[:5])}{', ...' if len(missing_actions) > 5 else ''})."
        )
    for action, arns in sorted(ungranted.items()):
        shown = ", ".join(sorted(arns)[:3])
        notes.append(
            f"{action} was used on {len(arns)} resource(s) no statement of the principal grants ({shown}"
            f"{', ...' if len(arns) > 3 else ''}): a resource policy or another account allowed it; review."
        )
    pieces.extend(_denials(principal, frozenset(placed), universe, notes))
    packed = pack(_unique_sids(pieces), options.document_chars)
    documents = tuple(document(d) for d in packed.documents)
    statement_sources = tuple(
        StatementSource(
            sid=stmt.sid or "",
            document=number,
            purpose=stmt.purpose,
            source=stmt.origin,
            actions=tuple(sorted(stmt.names)),
        )
        for number, statements in enumerate(packed.documents, start=1)
        for stmt in statements
    )
    notes.extend(_limit_notes(principal.type, documents, packed.oversized, options.document_chars))
    return Suggestion(
        principal=principal.arn,
        account=principal.account_id,
        account_name=facts.account_name,
        principal_type=principal.type,
        name=principal.name,
        active=facts.active,
        documents=documents,
        used=tuple(sorted(used)),
        unobservable=tuple(sorted(unobservable)),
        unobservable_kept=not options.drop_unobservable,
        allowlisted=tuple(sorted(allowlisted)),
        removed=tuple(sorted(removed)),
        review=tuple(sorted(review)),
        resources={a: tuple(sorted(r)) for a, r in sorted(facts.resources.items()) if a in used},
        statements=statement_sources,
        document_chars=tuple(size(d) for d in documents),
        inline_chars=INLINE_CHARS.get(principal.type),
        notes=tuple(notes),
    )


def _limit_notes(
    principal_type: str, documents: tuple[dict[str, object], ...], oversized: tuple[str, ...], limit: int
) -> list[str]:
    notes = []
    for sid in oversized:
        notes.append(
            f"statement {sid} alone exceeds {limit:,} characters and cannot be split; IAM will refuse it."
        )
    count = len(documents)
    if count > ATTACHED_POLICIES_MAX:
        notes.append(
            f"needs {count} managed policies: more than IAM's maximum of {ATTACHED_POLICIES_MAX} per {principal_type}; "
            "split the principal's duties or use a group."
        )
    elif count > ATTACHED_POLICIES_DEFAULT:
        notes.append(
            f"needs {count} managed policies: more than the {ATTACHED_POLICIES_DEFAULT} IAM attaches to a "
            f"{principal_type} by default (the quota can be raised to {ATTACHED_POLICIES_MAX})."
        )
    return notes
