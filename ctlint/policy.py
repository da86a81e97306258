"""IAM policy evaluation: parse policy documents, compute a principal's verdict per action, read trust policies.

Scope (what is exact, and what is not evaluated):
- Per action a three-valued verdict over identity policies (inline, managed, group) within the
  permissions boundary: granted, conditionally granted (`Grants.conditional`), or not granted.
  `Grants.actions` holds the granted and the conditionally granted actions.
- Resources are decided exactly with the catalog's resource types and ARN formats (ctlint.arnmatch):
  a statement applies to an action when its `Resource` (or the complement of its `NotResource`) can
  match some ARN of a resource type the action takes (an action without resource types takes only
  `*`); a Deny removes the action where it covers every such ARN. Identity Allow, boundary Allow and
  the Denies are intersected per resource, so "granted" means: some resource of the principal's
  partition is allowed by an unconditional identity Allow and boundary Allow and matched by no
  unconditional Deny. Resource policies and session policies are not read.
- Organisation policies (`Principal.organization`, ctlint.orgpolicy): each SCP level is intersected
  per resource like one more boundary (some SCP Allow at every level, no SCP Deny), and the account's
  RCP Denies subtract like identity Denies, with the same resource-type logic and condition
  conventions (caller keys in them are decided as in the boundary: SCP exemptions on
  aws:PrincipalArn or aws:PrincipalTag/*); the management account and service-linked roles are not
  bound. RCPs are applied as if every resource were the principal's own account's (exact there; see
  ctlint.orgpolicy), and to whatever actions they name (the list of services that honour RCPs is not
  shipped).
- Conditions on the caller are decided per principal (ctlint.callerpolicy, with the facts of
  ctlint.callerfacts and the tests of ctlint.conditions), in identity policies and the boundary alike:
  aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalIsAWSService,
  aws:PrincipalOrgID (the configured organisation), aws:PrincipalTag/<key> (a user's tags; a role's
  only when its trust policy admits no sts:TagSession), aws:userid (a user's UserId; a role's
  "RoleId:<session name>" only where the pattern settles every session name) and aws:username (users;
  absent for roles), with the String, Arn, Bool and Null operators, IfExists, ForAnyValue/ForAllValues
  and policy variables of known value. A statement with a test decided false never applies; one whose
  tests are all decided true is unconditional (an Allow grants, a Deny removes, sts:AssumeRole Denies
  included); the tests left undecided keep it conditional, and an unknown fact is always undecided.
- Other conditions are not evaluated. An Allow with an undecided condition grants conditionally; a Deny
  with an undecided condition does not remove a grant (it is a guardrail that compliant requests
  satisfy), except against an Allow whose undecided condition tests include all of the Deny's: that
  Deny holds whenever the Allow does, so Allow and Deny under the same condition never allow. A Deny
  whose undecided tests are all on caller keys (a tag ctlint was not told, no configured organisation)
  is no guardrail a request can satisfy: it keeps the grant from being certain (conditional at best).
- `Action` and `NotAction` are expanded against an action universe (the catalog); `NotAction` is the
  complement of its patterns within that universe.
- A resource value that is not an ARN pattern (the IaC reader's stand-in for an unresolved intrinsic
  function) is read so that the grant is never understated.
- `may_assume` applies unconditional Denies of sts:AssumeRole (and those decided true for the caller);
  `trust_admits` decides the caller's own condition keys (from the ARN, and with the calling principal
  also its tags, unique id, name and organisation) and ignores other conditions on an Allow.

No I/O here: documents come in as values, results go out as values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

from ctlint.arnmatch import Atom, format_atom, matches_resource, satisfiable, witness
from ctlint.callerfacts import facts_of
from ctlint.callerpolicy import CallerResolver, is_caller_key
from ctlint.conditions import decide, facts_for
from ctlint.errors import InputError
from ctlint.limits import json_loads
from ctlint.model import Grants, PolicyDocument, Principal, SourceLocation, Statement, is_account_id
from ctlint.orgpolicy import guards as org_guards
from ctlint.wildcard import matches

__all__ = [
    "ActionUniverse",
    "parse_policy_document",
    "compute_grants",
    "granting_statement",
    "statement_actions",
    "example_resource",
    "trust_admits",
    "may_assume",
]

_EFFECTS = ("Allow", "Deny")
_PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")
_ASSUME_ROLE = "sts:AssumeRole"


class ActionUniverse(Protocol):
    """What policy evaluation needs from the action catalog (ctlint.catalog.Catalog satisfies it)."""

    @property
    def all_actions(self) -> frozenset[str]: ...

    def expand(self, pattern: str) -> frozenset[str]: ...

    def expand_not(self, patterns: Iterable[str]) -> frozenset[str]: ...


# ---------------------------------------------------------------- parsing


def parse_policy_document(
    raw: str | Mapping,
    *,
    name: str,
    kind: str,
    where: str,
    location: SourceLocation | None = None,
    via_group: str | None = None,
) -> PolicyDocument:
    """Parse one policy document: a mapping, JSON text, or URL-encoded JSON text (as the IAM API returns it).

    `where` names the document in error messages, e.g. "iam/demo.json: role admin, inline policy 'x'".
    Raises InputError with one sentence naming `where` when the document cannot be used.
    """
    doc = _decode(raw, where)
    if not isinstance(doc, Mapping):
        raise InputError(f"{where}: the policy document is a JSON {type(doc).__name__}, not an object.")
    if "Statement" not in doc:
        raise InputError(f"{where}: the policy document has no Statement.")
    raw_statements = doc["Statement"]
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise InputError(f"{where}: Statement must be an object or a list of objects.")
    if not raw_statements:
        raise InputError(f"{where}: the policy document has an empty Statement.")
    statements = tuple(
        _parse_statement(s, where=where, index=i, kind=kind, location=location)
        for i, s in enumerate(raw_statements, start=1)
    )
    version = doc.get("Version")
    return PolicyDocument(
        name=name,
        kind=kind,
        statements=statements,
        location=location,
        via_group=via_group,
        version=version if isinstance(version, str) else None,
    )


def _decode(raw: str | Mapping, where: str) -> object:
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        raise InputError(
            f"{where}: the policy document is a {type(raw).__name__}, not an object or a string."
        )
    text = raw.strip()
    if not text.startswith(("{", "[")):
        # The IAM API returns documents URL-encoded (RFC 3986, so '+' is literal, not a space).
        try:
            text = unquote(text, errors="strict")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{where}: the policy document is not valid URL-encoded UTF-8 ({exc.reason})."
            ) from exc
    try:
        return json_loads(text, where, "the policy document")
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where}: the policy document is not valid JSON or URL-encoded JSON ({exc.msg} at character {exc.pos})."
        ) from exc


def _strings(value: object, *, where: str, key: str) -> tuple[str, ...]:
    """A value that IAM allows as a single string or a list of strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        if not value:
            raise InputError(f"{where}: {key} is an empty list.")
        return tuple(value)
    raise InputError(f"{where}: {key} must be a string or a list of strings.")


def _parse_principals(value: object, *, where: str, key: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, Mapping) or not value:
        raise InputError(f'{where}: {key} must be "*" or an object such as {{"AWS": ...}}.')
    out: list[tuple[str, str]] = []
    for ptype, pvalue in value.items():
        if ptype not in _PRINCIPAL_KINDS:
            raise InputError(f"{where}: {key} has unknown principal type '{ptype}'.")
        out.extend((ptype, v) for v in _strings(pvalue, where=where, key=f"{key}.{ptype}"))
    return tuple(out)


def _parse_statement(
    raw: object, *, where: str, index: int, kind: str, location: SourceLocation | None
) -> Statement:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: statement {index} is not an object.")
    sid = raw.get("Sid")
    here = f"{where}: statement {index}" + (f" ({sid})" if isinstance(sid, str) and sid else "")
    effect = raw.get("Effect")
    if effect not in _EFFECTS:
        raise InputError(f"{here}: Effect {effect!r} is not Allow or Deny.")
    if "Action" in raw and "NotAction" in raw:
        raise InputError(f"{here}: has both Action and NotAction.")
    if "Action" not in raw and "NotAction" not in raw:
        raise InputError(f"{here}: has neither Action nor NotAction.")
    if "Resource" in raw and "NotResource" in raw:
        raise InputError(f"{here}: has both Resource and NotResource.")
    actions = _strings(raw["Action"], where=here, key="Action") if "Action" in raw else ()
    not_actions = _strings(raw["NotAction"], where=here, key="NotAction") if "NotAction" in raw else None
    not_resources = (
        _strings(raw["NotResource"], where=here, key="NotResource") if "NotResource" in raw else None
    )
    if "Resource" in raw:
        resources = _strings(raw["Resource"], where=here, key="Resource")
    else:
        # Trust policies have no Resource (the role is the resource); NotResource means "not *".
        resources = () if not_resources is not None else ("*",)
    condition = raw.get("Condition")
    if condition is not None and not isinstance(condition, Mapping):
        raise InputError(f"{here}: Condition must be an object.")
    conditions = _parse_conditions(condition, here) if condition else ()
    principals = (
        _parse_principals(raw["Principal"], where=here, key="Principal") if "Principal" in raw else ()
    )
    not_principals = (
        _parse_principals(raw["NotPrincipal"], where=here, key="NotPrincipal")
        if "NotPrincipal" in raw
        else ()
    )
    return Statement(
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        has_condition=bool(condition),
        principals=principals,
        not_principals=not_principals,
        sid=sid if isinstance(sid, str) else None,
        location=location,
        conditions=conditions,
    )


def _condition_value(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    raise InputError(f"{where} must be a string, number or boolean, or a list of them.")


def _parse_conditions(condition: Mapping, here: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """`{"StringEquals": {"aws:PrincipalTag/team": ["a", "b"]}}` -> (("StringEquals", "aws:PrincipalTag/team", ("a", "b")),)."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    for operator, tests in condition.items():
        if not isinstance(operator, str) or not isinstance(tests, Mapping) or not tests:
            raise InputError(f"{here}: Condition operator {operator!r} must map condition keys to values.")
        for key, value in tests.items():
            if not isinstance(key, str):
                raise InputError(f"{here}: Condition {operator} has a key that is not a string.")
            where = f"{here}: Condition {operator} {key}"
            values = value if isinstance(value, list) else [value]
            out.append((operator, key, tuple(_condition_value(v, where) for v in values)))
    return tuple(out)


# ---------------------------------------------------------------- evaluation with caches


@dataclass(frozen=True)
class _Scoped:
    """A statement whose answer depends on the resource or on request context: decided per action."""

    effect: str
    bits: int
    resources: Atom | None  # None: every resource
    conditions: frozenset[tuple[str, str, tuple[str, ...]]]  # empty: unconditional


@dataclass
class _DocumentEffect:
    """What one policy document contributes, independent of who holds it (shared by many principals).

    Action sets are bitsets (Python ints, one bit per catalog action): union, intersection and difference
    of 22,000-action sets then cost microseconds instead of milliseconds per principal. Statements on every
    resource without a condition are folded into `allow`/`deny`; the others stay in `scoped`."""

    allow: int
    deny: int
    scoped: tuple[_Scoped, ...]
    unknown_patterns: tuple[str, ...]
    assume_role_resources: tuple[str, ...]
    assume_role_denials: tuple[tuple[tuple[str, ...], bool], ...]
    allow_set: frozenset[str] | None = None  # materialised on demand, as a base for results


# A condition block ctlint could not parse (a Statement built with has_condition but no conditions).
_OPAQUE_CONDITION = ("", "", ())


def _is_stand_in(pattern: str) -> bool:
    """Not an ARN pattern: IAM accepts only ARNs and wildcards, so this is the IaC reader's stand-in for a
    value it could not resolve (e.g. the JSON text of `!GetAtt Table.Arn`)."""
    return not pattern.startswith("arn:") and pattern[:1] not in ("*", "?")


def _resource_atom(stmt: Statement) -> Atom | None:
    """The statement's resources (None: every resource). An unresolved value is read so that the grant is
    never understated: "any resource" where that widens the grant (an Allow's Resource, a Deny's
    NotResource), "no resource" where it would narrow it."""
    if stmt.not_resources is not None:
        patterns = stmt.not_resources
        if stmt.effect == "Deny" and any(_is_stand_in(p) for p in patterns):
            return Atom(frozenset(), negated=False)  # denies nothing for sure
        return Atom(frozenset(p for p in patterns if not _is_stand_in(p)), negated=True)
    if "*" in stmt.resources:
        return None
    if stmt.effect == "Allow" and any(_is_stand_in(p) for p in stmt.resources):
        return None
    return Atom(frozenset(p for p in stmt.resources if not _is_stand_in(p)))


def _statement_conditions(stmt: Statement) -> frozenset[tuple[str, str, tuple[str, ...]]]:
    if not stmt.has_condition:
        return frozenset()
    return frozenset(stmt.conditions) or frozenset((_OPAQUE_CONDITION,))


def _negate(atom: Atom) -> Atom:
    return Atom(atom.patterns, not atom.negated)


def _holds_on_star(atom: Atom | None) -> bool:
    """Whether a statement's resource spec matches the resource `*` (what wildcard-only actions take)."""
    if atom is None:
        return True
    return any(isinstance(p, str) and matches_resource(p, "*") for p in atom.patterns) != atom.negated


def _example(clauses: Sequence[Sequence[Atom | None]], star_only: bool) -> str | None:
    """A resource that satisfies every clause, or None (see _sat)."""
    if star_only:
        return "*" if _sat(clauses, True) else None
    formula = _formula(clauses)
    if formula is None:
        return None
    return witness(formula) if formula else "*"


def _sat(clauses: Sequence[Sequence[Atom | None]], star_only: bool) -> bool:
    """Some resource satisfies every clause (a clause: any of its atoms; None in a clause is "true")."""
    if star_only:
        return all(any(_holds_on_star(a) for a in clause) for clause in clauses)
    formula = _formula(clauses)
    return formula is not None and satisfiable(formula)


def _formula(clauses: Sequence[Sequence[Atom | None]]) -> tuple[tuple[Atom, ...], ...] | None:
    """The clauses that constrain the resource (a clause holding None is "true"); None when one is
    empty (unsatisfiable)."""
    formula = []
    for clause in clauses:
        if any(a is None for a in clause):
            continue
        if not clause:
            return None
        formula.append(tuple(a for a in clause if a is not None))
    return tuple(formula)


class _Evaluator:
    """Expansion caches for one universe. Managed policies are shared by many principals, so caching per
    pattern and per document turns 1,000 principals into a handful of expansions plus bit arithmetic."""

    def __init__(self, universe: ActionUniverse) -> None:
        self.universe = universe
        self._names: list[str] = sorted(universe.all_actions)
        self._bit: dict[str, int] = {name: i for i, name in enumerate(self._names)}
        self._full = (1 << len(self._names)) - 1
        self._full_set: frozenset[str] | None = universe.all_actions  # None once _names outgrows it
        self._patterns: dict[str, frozenset[str]] = {}
        self._pattern_bits: dict[str, int] = {}
        self._not_patterns: dict[frozenset[str], frozenset[str]] = {}
        # Keyed by id() of the statements tuple, holding the tuple so the id stays valid; the loader
        # shares one statements tuple between all attachments of a managed policy.
        self._docs_by_id: dict[int, tuple[tuple[Statement, ...], _DocumentEffect]] = {}
        self._docs: dict[tuple[Statement, ...], _DocumentEffect] = {}
        self._combos: dict[tuple, _Combined] = {}
        self._results: dict[int, frozenset[str]] = {}
        self._verdicts: dict[tuple, int] = {}
        self._formats: dict[str, tuple[str, ...] | None] = {}
        self._resource_types = getattr(universe, "resource_types", None)
        self.callers = CallerResolver()

    # ------------------------------------------------------------ sets of names

    def expand(self, pattern: str) -> frozenset[str]:
        key = pattern.lower()
        hit = self._patterns.get(key)
        if hit is None:
            hit = self._patterns[key] = self.universe.expand(pattern)
        return hit

    def expand_not(self, patterns: Sequence[str]) -> frozenset[str]:
        key = frozenset(p.lower() for p in patterns)
        hit = self._not_patterns.get(key)
        if hit is None:
            hit = self._not_patterns[key] = self.universe.expand_not(patterns)
        return hit

    def statement_actions(self, stmt: Statement) -> frozenset[str]:
        if stmt.not_actions is not None:
            return self.expand_not(stmt.not_actions)
        if len(stmt.actions) == 1:
            return self.expand(stmt.actions[0])
        return frozenset().union(*(self.expand(p) for p in stmt.actions))

    # ------------------------------------------------------------ bitsets

    def _to_bits(self, names: Iterable[str]) -> int:
        buf = bytearray((len(self._names) + 8) // 8 + 1)
        for name in names:
            i = self._bit.get(name)
            if i is None:  # outside all_actions: should not happen, but never lose an action
                i = self._bit[name] = len(self._names)
                self._names.append(name)
                self._full = (1 << len(self._names)) - 1
                self._full_set = None
                buf.extend(bytes(max(0, (i >> 3) + 1 - len(buf))))
            buf[i >> 3] |= 1 << (i & 7)
        return int.from_bytes(buf, "little")

    def _names_of(self, bits: int) -> list[str]:
        names = self._names
        if bits.bit_count() <= 64:
            # Sparse (a few denied or extra actions): walk the set bits directly.
            out = []
            while bits:
                low = bits & -bits
                out.append(names[low.bit_length() - 1])
                bits ^= low
            return out
        out = []
        data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
        for byte_index, byte in enumerate(data):
            if byte:
                base = byte_index << 3
                out.extend([names[base + j] for j in _BYTE_BITS[byte]])
        return out

    def pattern_bits(self, pattern: str) -> int:
        key = pattern.lower()
        hit = self._pattern_bits.get(key)
        if hit is None:
            expanded = self.expand(pattern)
            hit = (
                self._full
                if len(expanded) == len(self.universe.all_actions) and expanded == self.universe.all_actions
                else self._to_bits(expanded)
            )
            self._pattern_bits[key] = hit
        return hit

    def statement_bits(self, stmt: Statement) -> int:
        bits = 0
        for p in stmt.not_actions if stmt.not_actions is not None else stmt.actions:
            bits |= self.pattern_bits(p)
        # NotAction: the complement within the universe.
        return self._full & ~bits if stmt.not_actions is not None else bits

    # ------------------------------------------------------------ documents and principals

    def document(self, doc: PolicyDocument) -> _DocumentEffect:
        entry = self._docs_by_id.get(id(doc.statements))
        if entry is not None and entry[0] is doc.statements:
            return entry[1]
        effect = self._docs.get(doc.statements)
        if effect is None:
            effect = self._docs[doc.statements] = self._evaluate(doc.statements)
        self._docs_by_id[id(doc.statements)] = (doc.statements, effect)
        return effect

    def _evaluate(self, statements: tuple[Statement, ...]) -> _DocumentEffect:
        allow = deny = 0
        scoped: list[_Scoped] = []
        unknown: list[str] = []
        assume: list[str] = []
        assume_denials: list[tuple[tuple[str, ...], bool]] = []
        assume_bit = self.pattern_bits(_ASSUME_ROLE)
        for stmt in statements:
            bits = self.statement_bits(stmt)
            atom = _resource_atom(stmt)
            conditions = _statement_conditions(stmt)
            if atom is None and not conditions:
                if stmt.effect == "Allow":
                    allow |= bits
                else:
                    deny |= bits
            elif bits:
                scoped.append(_Scoped(stmt.effect, bits, atom, conditions))
            if stmt.effect == "Allow":
                if stmt.not_actions is None:
                    unknown.extend(p for p in stmt.actions if not self.pattern_bits(p))
                if bits & assume_bit:
                    # NotResource is approximated as "anywhere": we would rather ask about one role too
                    # many than miss an assumable role.
                    assume.extend(stmt.resources if stmt.not_resources is None else ("*",))
            elif bits & assume_bit and not conditions:
                if stmt.not_resources is not None:
                    assume_denials.append((stmt.not_resources, True))
                else:
                    assume_denials.append((stmt.resources, False))
        return _DocumentEffect(
            allow=allow,
            deny=deny,
            scoped=tuple(scoped),
            unknown_patterns=tuple(dict.fromkeys(unknown)),
            assume_role_resources=tuple(dict.fromkeys(assume)),
            assume_role_denials=tuple(dict.fromkeys(assume_denials)),
        )

    def grants(self, principal: Principal) -> Grants:
        policies, boundary = self.callers.principal_documents(principal)
        guards = self.callers.guard_documents(principal, org_guards(principal))
        docs = _unique_docs(policies)
        partition = _partition_of(principal.arn)
        key = (
            partition,
            *(id(d.statements) for d in docs),
            *((-1, id(boundary.statements)) if boundary is not None else ()),
            *((-2, id(g.statements)) for g in guards),
        )
        combo = self._combos.get(key)
        if combo is None:
            combo = self._combos[key] = self._combine(docs, boundary, partition, guards)
        return Grants(
            principal_arn=principal.arn,
            actions=combo.actions,
            unknown_patterns=combo.unknown,
            assume_role_resources=combo.assume,
            conditional=combo.conditional,
            assume_role_denials=combo.assume_denials,
        )

    def _combine(
        self,
        docs: Sequence[PolicyDocument],
        boundary: PolicyDocument | None,
        partition: str,
        guards: Sequence[PolicyDocument] = (),
    ) -> _Combined:
        # document() holds every statements tuple it saw, so the ids in the combo key cannot be reused.
        effects = [self.document(d) for d in docs]
        allow = deny = 0
        identity_scoped: list[_Scoped] = []
        for e in effects:
            allow |= e.allow
            deny |= e.deny
            identity_scoped.extend(e.scoped)
        boundary_allow = self._full
        boundary_scoped: list[_Scoped] = []
        denials = [d for e in effects for d in e.assume_role_denials]
        if boundary is not None:
            b = self.document(boundary)
            boundary_allow = b.allow
            deny |= b.deny
            boundary_scoped = [s for s in b.scoped if s.effect == "Allow"]
            identity_scoped.extend(s for s in b.scoped if s.effect == "Deny")
            denials.extend(b.assume_role_denials)
        # Organisation policies (ctlint.orgpolicy): each guard restricts and subtracts like a boundary.
        guard_allows: list[int] = []
        guard_scoped: list[list[_Scoped]] = []
        for g in map(self.document, guards):
            guard_allows.append(g.allow)
            deny |= g.deny
            guard_scoped.append([s for s in g.scoped if s.effect == "Allow"])
            identity_scoped.extend(s for s in g.scoped if s.effect == "Deny")
            denials.extend(g.assume_role_denials)
        # A scoped Allow cannot change the verdict of an action that an unconditional all-resource Allow
        # of the same kind names (that Allow already holds on every resource, under no condition), and a
        # conditional Deny never takes away a grant that such Allows make certain (the region guardrail
        # of many SCPs names nearly every action) — unless its undecided tests are all on the caller,
        # which no request can satisfy (see _on_caller_only).
        touched = conditional_denies = 0
        for s in identity_scoped:
            if s.effect == "Allow":
                touched |= s.bits & ~allow
            elif s.conditions and not _on_caller_only(s.conditions):
                conditional_denies |= s.bits
            else:
                touched |= s.bits
        for s in boundary_scoped:
            touched |= s.bits & ~boundary_allow
        for guard_allow, scoped in zip(guard_allows, guard_scoped, strict=True):
            for s in scoped:
                touched |= s.bits & ~guard_allow
        certain = allow & boundary_allow & ~deny & ~touched
        for guard_allow in guard_allows:
            certain &= guard_allow
        touched |= conditional_denies & ~certain
        conditional = 0
        if touched:
            maybe_allow = allow
            for s in identity_scoped:
                if s.effect == "Allow":
                    maybe_allow |= s.bits
            maybe_boundary = boundary_allow
            for s in boundary_scoped:
                maybe_boundary |= s.bits
            candidates = touched & maybe_allow & maybe_boundary & ~deny
            for guard_allow, scoped in zip(guard_allows, guard_scoped, strict=True):
                for s in scoped:
                    guard_allow |= s.bits
                candidates &= guard_allow
            if candidates:
                more_certain, conditional = self._decide(
                    candidates,
                    allow,
                    boundary_allow,
                    identity_scoped,
                    boundary_scoped,
                    boundary is not None,
                    partition,
                    tuple(zip(guard_allows, guard_scoped, strict=True)),
                )
                certain |= more_certain
        result = certain | conditional
        unknown = tuple(sorted({p for e in effects for p in e.unknown_patterns}))
        assume = (
            tuple(sorted({r for e in effects for r in e.assume_role_resources}))
            if result & self.pattern_bits(_ASSUME_ROLE)
            else ()
        )
        return _Combined(
            actions=self._materialise(result, effects),
            conditional=frozenset(self._names_of(conditional)) if conditional else frozenset(),
            unknown=unknown,
            assume=assume,
            assume_denials=tuple(sorted(set(denials))),
        )

    def _decide(
        self,
        candidates: int,
        allow: int,
        boundary_allow: int,
        identity_scoped: Sequence[_Scoped],
        boundary_scoped: Sequence[_Scoped],
        has_boundary: bool,
        partition: str,
        guards: Sequence[tuple[int, Sequence[_Scoped]]] = (),
    ) -> tuple[int, int]:
        """(certainly granted, conditionally granted) among `candidates`, one action at a time: which
        scoped statements name the action, and whether its resources satisfy them. `guards`: per
        organisation guard, its unconditional all-resource Allow bits and its scoped Allows."""
        statements = (*identity_scoped, *boundary_scoped)
        guard_ranges: list[tuple[int, int]] = []
        for _, scoped in guards:
            guard_ranges.append((len(statements), len(statements) + len(scoped)))
            statements = (*statements, *scoped)
        unguarded = len(identity_scoped) + len(boundary_scoped)
        members: dict[str, list[int]] = {}
        for index, s in enumerate(statements):
            for name in self._names_of(s.bits & candidates):
                members.setdefault(name, []).append(index)
        certain: list[str] = []
        conditional: list[str] = []
        for name, indexes in members.items():
            bit = self._bit[name]
            in_allow = bool(allow >> bit & 1)
            in_boundary = bool(boundary_allow >> bit & 1)
            formats = self.formats(name)
            in_guards = tuple(bool(guard_allow >> bit & 1) for guard_allow, _ in guards)
            key = (
                formats,
                partition,
                in_allow,
                in_boundary,
                has_boundary,
                *(id(statements[i]) for i in indexes),
                # Which guard each statement belongs to: one document may be a boundary and an SCP.
                *(
                    (-1, inside, *(id(statements[i]) for i in indexes if start <= i < end))
                    for inside, (start, end) in zip(in_guards, guard_ranges, strict=True)
                ),
            )
            verdict = self._verdicts.get(key)
            if verdict is None:
                verdict = self._verdicts[key] = _verdict(
                    formats,
                    partition,
                    in_allow,
                    in_boundary if has_boundary else True,
                    [statements[i] for i in indexes if i < len(identity_scoped)],
                    [statements[i] for i in indexes if len(identity_scoped) <= i < unguarded],
                    tuple(
                        (inside, [statements[i] for i in indexes if start <= i < end])
                        for inside, (start, end) in zip(in_guards, guard_ranges, strict=True)
                    ),
                )
                # The key holds ids of statements kept alive by the document cache.
            if verdict == _CERTAIN:
                certain.append(name)
            elif verdict == _CONDITIONAL:
                conditional.append(name)
        return self._to_bits(certain), self._to_bits(conditional)

    def formats(self, action: str) -> tuple[str, ...] | None:
        """The ARN formats of the action's resource types; () when it takes only `*`; None when the
        universe does not say (then any resource string is possible)."""
        hit = self._formats.get(action, False)
        if hit is False:
            if self._resource_types is None:
                hit = None
            else:
                hit = tuple(sorted({t.arn_format for t in self._resource_types(action)}))
            self._formats[action] = hit
        return hit  # type: ignore[return-value]

    def _materialise(self, bits: int, effects: Sequence[_DocumentEffect]) -> frozenset[str]:
        """The frozenset for a bitset, built with as little copying as possible: results are cached by
        value, and a large result is derived from the closest document set (one copy of 22,000 names is
        far cheaper than inserting them one by one)."""
        hit = self._results.get(bits)
        if hit is not None:
            return hit
        # Start from the set that is cheapest to turn into the result: the whole universe (never copied
        # until changed) or a document's allow set, counting the cost of materialising that set first.
        base_bits, base_set = self._full, self._full_set
        best_cost = (self._full ^ bits).bit_count() + (0 if base_set is not None else len(self._names))
        for e in effects:
            cost = (e.allow ^ bits).bit_count() + (0 if e.allow_set is not None else e.allow.bit_count())
            if cost < best_cost:
                best_cost = cost
                base_bits, base_set = e.allow, e.allow_set
        if bits.bit_count() <= best_cost:
            result = frozenset(self._names_of(bits))
        else:
            if base_set is None:
                base_set = self._results.get(base_bits) or frozenset(self._names_of(base_bits))
                self._results.setdefault(base_bits, base_set)
                for e in effects:
                    if e.allow == base_bits:
                        e.allow_set = base_set
            result = base_set
            removed = base_bits & ~bits
            extra = bits & ~base_bits
            if removed:
                result = result.difference(self._names_of(removed))
            if extra:
                result = result.union(self._names_of(extra))
        self._results[bits] = result
        return result


_NOT_GRANTED, _CONDITIONAL, _CERTAIN = 0, 1, 2


@dataclass(frozen=True)
class _Combined:
    actions: frozenset[str]
    conditional: frozenset[str]
    unknown: tuple[str, ...]
    assume: tuple[str, ...]
    assume_denials: tuple[tuple[tuple[str, ...], bool], ...]


def _verdict(
    formats: tuple[str, ...] | None,
    partition: str,
    in_allow: bool,
    in_boundary: bool,
    identity: Sequence[_Scoped],
    boundary: Sequence[_Scoped],
    guards: Sequence[tuple[bool, Sequence[_Scoped]]] = (),
) -> int:
    return _decision(formats, partition, in_allow, in_boundary, identity, boundary, _sat, guards=guards)[0]


def _decision(
    formats: tuple[str, ...] | None,
    partition: str,
    in_allow: bool,
    in_boundary: bool,
    identity: Sequence[_Scoped],
    boundary: Sequence[_Scoped],
    find: Callable[[Sequence[Sequence[Atom | None]], bool], object],
    account: str | None = None,
    guards: Sequence[tuple[bool, Sequence[_Scoped]]] = (),
) -> tuple[int, object]:
    """One action's verdict. `in_allow`/`in_boundary`: an unconditional all-resource Allow names it (in the
    identity policies / the boundary; `in_boundary` is True without a boundary). `identity` holds the
    scoped identity statements and every scoped Deny (boundary Denies included), `boundary` the scoped
    boundary Allows, all naming the action.

    Granted: some resource of the action is matched by an unconditional Allow in the identity policies
    and in the boundary, and by no unconditional Deny. A Deny with a condition does not take it away:
    it is a guardrail that some request satisfies (MFA present, the right network), so the grant stays
    and is granted for requests that comply.
    Conditional: not granted so, but some resource is matched by a conditional Allow (or a conditional
    boundary Allow) and by no Deny whose condition tests are all among that Allow's: such a Deny holds
    whenever the Allow does, so Allow and Deny under the same condition never allow. Whether a context
    exists that meets the Allow's conditions is what ctlint cannot know."""
    star_only = formats == ()
    # One resource type at a time: a single ARN format fixes a literal prefix, which settles most
    # questions (an s3 pattern against an ec2 format) before any automaton is built.
    bases: list[list[list[Atom | None]]] = (
        [[]] if not formats else [[[format_atom((f,), partition, account=account)]] for f in formats]
    )

    def find_any(clauses: list[list[Atom | None]]) -> object:
        for base in bases:
            found = find([*base, *clauses], star_only)
            if found:
                return found
        return None

    denies = [s for s in identity if s.effect == "Deny"]
    allows = [s for s in identity if s.effect == "Allow"]
    boundary_certain: list[Atom | None] = (
        [None] if in_boundary else [s.resources for s in boundary if not s.conditions]
    )
    boundary_any: list[Atom | None] = [None] if in_boundary else [s.resources for s in boundary]
    unconditional_denies: list[list[Atom | None]] = [
        [_negate(s.resources)] if s.resources is not None else []
        for s in denies
        if not s.conditions or _on_caller_only(s.conditions)
    ]
    allow_certain: list[Atom | None] = (
        [None] if in_allow else [s.resources for s in allows if not s.conditions]
    )
    # Organisation guards (`guards`: per SCP level / the RCPs, whether an unconditional all-resource Allow
    # names the action, and the guard's scoped Allows naming it) restrict like the boundary does.
    guards_certain: list[list[Atom | None]] = [
        [None] if inside else [s.resources for s in scoped if not s.conditions] for inside, scoped in guards
    ]
    guards_any: list[list[Atom | None]] = [
        [None] if inside else [s.resources for s in scoped] for inside, scoped in guards
    ]
    if allow_certain and boundary_certain and all(guards_certain):
        found = find_any([allow_certain, boundary_certain, *guards_certain, *unconditional_denies])
        if found:
            return _CERTAIN, found
    options: list[tuple[Atom | None, frozenset]] = [(None, frozenset())] if in_allow else []
    options.extend((s.resources, s.conditions) for s in allows)
    if not boundary_any or not all(guards_any):
        return _NOT_GRANTED, None
    for resources, conditions in options:
        blocking: list[list[Atom | None]] = [
            [_negate(d.resources)] if d.resources is not None else []
            for d in denies
            if d.conditions <= conditions
        ]
        found = find_any([[resources], boundary_any, *guards_any, *blocking])
        if found:
            return _CONDITIONAL, found
    return _NOT_GRANTED, None


def _on_caller_only(conditions: frozenset[tuple[str, str, tuple[str, ...]]]) -> bool:
    """Every test is on the caller's own keys (left undecided: a fact ctlint does not know). Unlike a
    request condition, no compliant request gets past such a Deny if the fact is against it, so it keeps
    a grant from being certain (the grant is conditional at best)."""
    return all(is_caller_key(key) for _, key, _ in conditions)


def _partition_of(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[0] == "arn" and parts[1] else "aws"


# For each byte value, the positions of its set bits: turns a bitset into names a byte at a time.
_BYTE_BITS: tuple[tuple[int, ...], ...] = tuple(
    tuple(j for j in range(8) if value >> j & 1) for value in range(256)
)


def _unique_docs(docs: Iterable[PolicyDocument]) -> tuple[PolicyDocument, ...]:
    """One entry per distinct statements tuple (a policy attached to the user and to its group counts once)."""
    seen: dict[int, PolicyDocument] = {}
    for d in docs:
        seen.setdefault(id(d.statements), d)
    return tuple(seen.values())


# One evaluator per universe object; the universe is held so its id() stays unique.
_EVALUATORS: dict[int, _Evaluator] = {}


def _evaluator(universe: ActionUniverse) -> _Evaluator:
    ev = _EVALUATORS.get(id(universe))
    if ev is None or ev.universe is not universe:
        ev = _EVALUATORS[id(universe)] = _Evaluator(universe)
    return ev


# ---------------------------------------------------------------- public evaluation API


def compute_grants(principal: Principal, universe: ActionUniverse) -> Grants:
    """The principal's effective actions: Allow minus unconditional Deny over identity policies, within its
    permissions boundary. Also the Allow patterns that match nothing, and where sts:AssumeRole is allowed."""
    return _evaluator(universe).grants(principal)


def statement_actions(stmt: Statement, universe: ActionUniverse) -> frozenset[str]:
    """The canonical actions one statement names (Action expanded, NotAction complemented), whatever its
    effect, resources or conditions; cached per universe like the rest of evaluation."""
    return _evaluator(universe).statement_actions(stmt)


def example_resource(principal: Principal, action: str, universe: ActionUniverse) -> str | None:
    """A resource of the principal's own account on which `action` (canonical name) is granted, for
    certain or under conditions: a concrete ARN ("*" for an action that takes only `*`), or None when
    the action is not granted there."""
    ev = _evaluator(universe)
    if action not in ev.grants(principal).actions:
        return None
    bit = ev._bit[action]
    policies, own_boundary = ev.callers.principal_documents(principal)
    docs = [ev.document(d) for d in _unique_docs(policies)]
    boundary = ev.document(own_boundary) if own_boundary is not None else None
    in_allow = any(e.allow >> bit & 1 for e in docs)
    in_boundary = boundary is None or bool(boundary.allow >> bit & 1)
    identity = [s for e in docs for s in e.scoped if s.bits >> bit & 1]
    boundary_allows: list[_Scoped] = []
    if boundary is not None:
        identity += [s for s in boundary.scoped if s.effect == "Deny" and s.bits >> bit & 1]
        boundary_allows = [s for s in boundary.scoped if s.effect == "Allow" and s.bits >> bit & 1]
    guards: list[tuple[bool, list[_Scoped]]] = []
    for g in map(ev.document, ev.callers.guard_documents(principal, org_guards(principal))):
        identity += [s for s in g.scoped if s.effect == "Deny" and s.bits >> bit & 1]
        guards.append(
            (bool(g.allow >> bit & 1), [s for s in g.scoped if s.effect == "Allow" and s.bits >> bit & 1])
        )
    _, found = _decision(
        ev.formats(action),
        _partition_of(principal.arn),
        in_allow,
        in_boundary,
        identity,
        boundary_allows,
        _example,
        account=principal.account_id,
        guards=guards,
    )
    return found if isinstance(found, str) else None


def granting_statement(
    principal: Principal, action: str, universe: ActionUniverse
) -> tuple[PolicyDocument, Statement] | None:
    """The first identity-policy Allow statement whose actions include `action` (canonical name), or None."""
    ev = _evaluator(universe)
    for doc in principal.policies:
        for stmt in doc.statements:
            if stmt.effect == "Allow" and action in ev.statement_actions(stmt):
                return doc, stmt
    return None


def _admits_assume_role(stmt: Statement) -> bool:
    if stmt.not_actions is not None:
        return not any(matches(p, _ASSUME_ROLE) for p in stmt.not_actions)
    return any(matches(p, _ASSUME_ROLE) for p in stmt.actions)


def _principal_matches(entries: Iterable[tuple[str, str]], source_arn: str, account: str | None) -> bool:
    for ptype, value in entries:
        if ptype == "*" or (ptype == "AWS" and value == "*"):
            return True
        if ptype != "AWS":
            continue  # Service, Federated and CanonicalUser principals are never IAM users or roles
        if value.casefold() == source_arn.casefold():
            return True
        if account is not None and value in (account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def _account_of(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) >= 6 and is_account_id(parts[4]):
        return parts[4]
    return None


def trust_admits(role: Principal, source_arn: str, source: Principal | None = None) -> bool:
    """Whether the role's trust policy lets `source_arn` (a user or role ARN) call sts:AssumeRole.

    Admitted: the source ARN itself, its account ("arn:aws:iam::ACCT:root" or "ACCT"), or "*", in an Allow
    statement whose actions cover sts:AssumeRole. Conditions on the caller are decided (ctlint.conditions):
    from the ARN alone aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType and
    aws:PrincipalIsAWSService; with `source` (the principal of that ARN) also its tags, unique id, name
    and organisation (ctlint.callerfacts). An Allow that admits the account only when aws:PrincipalArn is
    one role admits only that role; an Allow with a caller test decided false admits no one. Other
    conditions on an Allow are ignored (ExternalId, MFA). A Deny naming the source wins when it has no
    condition or all its condition tests are decided true. Service- and Federated-only trusts admit no
    user or role.
    """
    trust = role.trust_policy
    if trust is None:
        return False
    account = _account_of(source_arn)
    facts = (
        facts_of(source)
        if source is not None and source.arn == source_arn
        else facts_for(source_arn, account or "", _type_of(source_arn))
    )
    variables = trust.version == "2012-10-17"
    allowed = False
    for stmt in trust.statements:
        if not _admits_assume_role(stmt):
            continue
        if stmt.not_principals:
            hit = not _principal_matches(stmt.not_principals, source_arn, account)
        else:
            hit = _principal_matches(stmt.principals, source_arn, account)
        if not hit:
            continue
        answers = [decide(test, facts, variables=variables) for test in stmt.conditions]
        if stmt.effect == "Deny":
            if not stmt.has_condition or (answers and all(a is True for a in answers)):
                return False
        elif False not in answers:
            allowed = True
    return allowed


def _type_of(arn: str) -> str:
    resource = arn.split(":", 5)[-1]
    return "role" if resource.startswith("role/") else "user" if resource.startswith("user/") else ""


def may_assume(grants: Grants, role_arn: str) -> bool:
    """Whether the principal's own policies allow sts:AssumeRole on `role_arn`: some Allow resource glob
    matches it and no unconditional Deny (identity policies or boundary) covers it."""
    if not any(matches(pattern, role_arn) for pattern in grants.assume_role_resources):
        return False
    for patterns, is_not_resource in grants.assume_role_denials:
        hit = any(matches_resource(p, role_arn) for p in patterns)
        if hit != is_not_resource:
            return False
    return True
