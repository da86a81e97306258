"""Policy documents as they apply to one caller: condition tests on the caller's own keys decided.

For each statement, every test `ctlint.conditions.decide` settles for the principal's facts
(`ctlint.callerfacts`) is taken out: a statement with a test decided false never applies (it is left out),
one whose tests are all decided true is unconditional, and one with undecided tests keeps only those (it
stays conditional, as before). Statements without a caller key, and documents without one, are returned
as they are (the same objects), so the policy evaluator's per-document caches keep working; a resolved
statements tuple is cached per (document, answers), so principals with the same answers share it.
No I/O here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ctlint.callerfacts import facts_of
from ctlint.conditions import CallerFacts, decide
from ctlint.model import PolicyDocument, Principal, Statement

__all__ = ["CALLER_KEYS", "CallerResolver", "is_caller_key", "never_applies"]

CALLER_KEYS = frozenset(
    {
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principaltype",
        "aws:principalorgid",
        "aws:principalisawsservice",
        "aws:userid",
        "aws:username",
    }
)
_TAG_PREFIX = "aws:principaltag/"
_VARIABLES_VERSION = "2012-10-17"

_Test = tuple[str, str, tuple[str, ...]]


def is_caller_key(key: str) -> bool:
    lowered = key.lower()
    return lowered in CALLER_KEYS or lowered.startswith(_TAG_PREFIX)


class CallerResolver:
    """Resolves documents per caller, with caches that hold the tuples their keys refer to by id()."""

    def __init__(self) -> None:
        # id(statements) -> (statements, ((statement index, test index, test), ...) on caller keys)
        self._tests: dict[int, tuple[tuple[Statement, ...], tuple[tuple[int, int, _Test], ...]]] = {}
        self._resolved: dict[tuple, tuple[Statement, ...]] = {}

    def _caller_tests(self, statements: tuple[Statement, ...]) -> tuple[tuple[int, int, _Test], ...]:
        entry = self._tests.get(id(statements))
        if entry is not None and entry[0] is statements:
            return entry[1]
        found = tuple(
            (i, j, test)
            for i, stmt in enumerate(statements)
            for j, test in enumerate(stmt.conditions)
            if is_caller_key(test[1])
        )
        self._tests[id(statements)] = (statements, found)
        return found

    def principal_documents(
        self, principal: Principal
    ) -> tuple[Sequence[PolicyDocument], PolicyDocument | None]:
        """The principal's identity policies and boundary as they apply to its own calls."""
        documents = (*principal.policies, *((principal.boundary,) if principal.boundary else ()))
        if not any(self._caller_tests(d.statements) for d in documents):
            return principal.policies, principal.boundary
        facts = facts_of(principal)
        policies = tuple(self.document(d, facts) for d in principal.policies)
        boundary = self.document(principal.boundary, facts) if principal.boundary is not None else None
        return policies, boundary

    def guard_documents(
        self, principal: Principal, guards: Sequence[PolicyDocument]
    ) -> tuple[PolicyDocument, ...]:
        """The organisation policies binding the principal, as they apply to its own calls: SCP
        exemptions on aws:PrincipalArn, aws:PrincipalTag/* or aws:PrincipalOrgID are decided like the
        boundary's."""
        if not any(self._caller_tests(g.statements) for g in guards):
            return tuple(guards)
        facts = facts_of(principal)
        return tuple(self.document(g, facts) for g in guards)

    def document(self, doc: PolicyDocument, facts: CallerFacts) -> PolicyDocument:
        tests = self._caller_tests(doc.statements)
        if not tests:
            return doc
        variables = doc.version == _VARIABLES_VERSION
        answers = tuple(decide(test, facts, variables=variables) for _, _, test in tests)
        if all(a is None for a in answers):
            return doc
        key = (id(doc.statements), answers, variables)
        statements = self._resolved.get(key)
        if statements is None:
            statements = self._resolved[key] = _resolve(doc.statements, tests, answers)
        return replace(doc, statements=statements)


def _resolve(
    statements: tuple[Statement, ...],
    tests: tuple[tuple[int, int, _Test], ...],
    answers: tuple[bool | None, ...],
) -> tuple[Statement, ...]:
    decided: dict[int, dict[int, bool]] = {}
    for (i, j, _), answer in zip(tests, answers, strict=True):
        if answer is not None:
            decided.setdefault(i, {})[j] = answer
    out: list[Statement] = []
    for i, stmt in enumerate(statements):
        settled = decided.get(i)
        if not settled:
            out.append(stmt)
            continue
        if False in settled.values():
            continue  # a test on the caller fails: the statement never applies to this principal
        remaining = tuple(t for j, t in enumerate(stmt.conditions) if j not in settled)
        out.append(replace(stmt, conditions=remaining, has_condition=bool(remaining)))
    return tuple(out)


def never_applies(principal: Principal, doc: PolicyDocument) -> frozenset[int]:
    """1-based indexes of the document's statements that a test on the caller rules out for `principal`
    (for attribution: such a statement grants this principal nothing)."""
    tests = [
        (i, test)
        for i, stmt in enumerate(doc.statements, start=1)
        for test in stmt.conditions
        if is_caller_key(test[1])
    ]
    if not tests:
        return frozenset()
    facts = facts_of(principal)
    variables = doc.version == _VARIABLES_VERSION
    return frozenset(i for i, test in tests if decide(test, facts, variables=variables) is False)
